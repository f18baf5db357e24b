//! The simulated device's Wi-Fi station: the networks it can see, the configuration it holds in
//! RAM, and the join attempt that succeeds or fails after a configurable time — the state
//! machine of ESP-IDF v5.5's `wifi_prov_mgr` (`components/wifi_provisioning/src/manager.c`),
//! including "no second apply after a failure until prov-ctrl reset" and, for the example app's
//! flavour, the reset the application makes itself after the last failed attempt.

use std::time::Duration;

use tokio::time::Instant;
use unbox_core::device::AuthMode;
use unbox_core::secret::SecretString;
use zeroize::Zeroizing;

/// Most scan results the firmware keeps (`CONFIG_WIFI_PROV_SCAN_MAX_ENTRIES`, default 16).
pub const SCAN_MAX_ENTRIES: usize = 16;

/// A network the simulated device can see and join.
#[derive(Debug, Clone)]
pub struct SimNetwork {
    /// Network name.
    pub ssid: String,
    /// Passphrase the access point accepts (empty for an open network).
    pub passphrase: SecretString,
    /// Signal strength in dBm.
    pub rssi: i32,
    /// Channel.
    pub channel: u32,
    /// Authentication mode advertised.
    pub auth: AuthMode,
    /// Access point address.
    pub bssid: [u8; 6],
}

impl SimNetwork {
    /// A WPA2 network on channel 6 with a strong signal.
    pub fn new(ssid: impl Into<String>, passphrase: impl Into<SecretString>) -> Self {
        let ssid = ssid.into();
        let passphrase = passphrase.into();
        let auth = if passphrase.is_empty() { AuthMode::Open } else { AuthMode::Wpa2Psk };
        let seed = ssid.bytes().fold(0u8, |acc, b| acc.wrapping_mul(31).wrapping_add(b));
        Self { ssid, passphrase, rssi: -50, channel: 6, auth, bssid: [0x24, 0x0a, 0xc4, 0x10, 0x20, seed] }
    }
}

/// How the device's firmware treats a failed join.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flavour {
    /// Plain `wifi_prov_mgr` (`wifi_conn_attempts` 0): the first failure ends the attempt, and
    /// a second apply is refused until the phone sends a prov-ctrl reset.
    #[default]
    Plain,
    /// ESP-IDF's `wifi_prov_mgr` example app in its default configuration: five connection
    /// attempts (`CONFIG_EXAMPLE_PROV_MGR_CONNECTION_CNT`), then the application itself calls
    /// `wifi_prov_mgr_reset_sm_state_on_failure()` (app_main.c), so new credentials apply at
    /// once and a prov-ctrl reset is refused ("reset when not in failure state"). It also
    /// registers the example's `custom-data` endpoint.
    ExampleApp,
}

impl Flavour {
    /// Connection attempts before the device gives up (`wifi_conn_attempts`).
    fn attempts(self) -> u32 {
        match self {
            Self::Plain => 1,
            Self::ExampleApp => 5,
        }
    }
}

/// What the station is doing, as the status handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StationState {
    /// No configuration applied since start (or since the last reset cleared nothing).
    Idle,
    /// Joining; after a failed attempt with retries left, how many remain.
    Connecting {
        /// Attempts left after a failed one (`attempt_failed`), if one failed.
        attempts_remaining: Option<u32>,
    },
    /// Joined.
    Connected {
        /// The network joined.
        ssid: String,
        /// Address obtained.
        ip: String,
        /// Access point.
        bssid: [u8; 6],
        /// Channel.
        channel: u32,
        /// Authentication mode.
        auth: AuthMode,
    },
    /// The last attempt failed. The firmware keeps reporting it after a reset, until the next
    /// apply (manager.c leaves `wifi_state` alone on reset).
    Failed(JoinFailure),
}

/// Why a join failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinFailure {
    /// Wrong passphrase (4-way handshake failure).
    AuthError,
    /// No such network in range.
    NotFound,
}

/// Why the station refused a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StationRefusal {
    /// Bad SSID, passphrase or BSSID length.
    InvalidArgument,
    /// Not allowed in the current state (apply before set, re-apply after failure).
    InvalidState,
}

#[derive(Debug)]
struct Attempt {
    ssid: Vec<u8>,
    passphrase: Zeroizing<Vec<u8>>,
    /// When the first connection attempt ends (apply delay plus join time).
    settles_at: Instant,
}

/// The firmware's Wi-Fi provisioning state.
#[derive(Debug)]
pub struct Station {
    networks: Vec<SimNetwork>,
    apply_delay: Duration,
    join_time: Duration,
    never_connect: bool,
    flavour: Flavour,
    pending: Option<(Vec<u8>, Zeroizing<Vec<u8>>)>,
    attempt: Option<Attempt>,
    /// The failure reported after a reset cleared the attempt.
    last_failure: Option<JoinFailure>,
    connected_announced: bool,
}

impl Station {
    /// A station that sees `networks`; a join settles `apply_delay + join_time` after apply,
    /// and each further attempt of the flavour takes `join_time` more.
    pub fn new(
        networks: Vec<SimNetwork>,
        apply_delay: Duration,
        join_time: Duration,
        never_connect: bool,
        flavour: Flavour,
    ) -> Self {
        Self {
            networks,
            apply_delay,
            join_time,
            never_connect,
            flavour,
            pending: None,
            attempt: None,
            last_failure: None,
            connected_announced: false,
        }
    }

    /// The visible networks, strongest first, at most [`SCAN_MAX_ENTRIES`].
    pub fn scan(&self) -> Vec<SimNetwork> {
        let mut seen = self.networks.clone();
        seen.sort_by_key(|n| std::cmp::Reverse(n.rssi));
        seen.truncate(SCAN_MAX_ENTRIES);
        seen
    }

    /// Stores credentials in RAM with the firmware's length checks (wifi_config.c: SSID at
    /// most 32 bytes, an empty one accepted; passphrase at most 63; BSSID 0 or 6 bytes). There
    /// is no state check: set-config succeeds while connecting too (handlers.c).
    pub fn set_config(&mut self, ssid: &[u8], passphrase: &[u8], bssid: &[u8]) -> Result<(), StationRefusal> {
        if ssid.len() > 32 || passphrase.len() > 63 || !(bssid.is_empty() || bssid.len() == 6) {
            return Err(StationRefusal::InvalidArgument);
        }
        self.pending = Some((ssid.to_vec(), Zeroizing::new(passphrase.to_vec())));
        Ok(())
    }

    /// Starts joining with the stored credentials. Refused without credentials, and while an
    /// attempt is under way, succeeded, or failed until [`Station::reset`]; the stored
    /// credentials are used up either way (handlers.c frees them).
    pub fn apply(&mut self, now: Instant) -> Result<(), StationRefusal> {
        self.settle(now);
        let pending = self.pending.take();
        if self.attempt.is_some() {
            return Err(StationRefusal::InvalidState);
        }
        let (ssid, passphrase) = pending.ok_or(StationRefusal::InvalidState)?;
        self.last_failure = None;
        self.attempt =
            Some(Attempt { ssid, passphrase, settles_at: now + self.apply_delay + self.join_time });
        Ok(())
    }

    /// When the current join attempt settles, if one is under way.
    pub fn settles_at(&self) -> Option<Instant> {
        self.attempt.as_ref().map(|attempt| attempt.settles_at)
    }

    /// The state now.
    pub fn state(&mut self) -> StationState {
        self.state_at(Instant::now())
    }

    /// The state at `now`.
    pub fn state_at(&mut self, now: Instant) -> StationState {
        self.settle(now);
        self.observe(now)
    }

    fn observe(&self, now: Instant) -> StationState {
        let Some(attempt) = &self.attempt else {
            return self.last_failure.map_or(StationState::Idle, StationState::Failed);
        };
        if self.never_connect || now < attempt.settles_at {
            return StationState::Connecting { attempts_remaining: None };
        }
        let network = self.networks.iter().find(|n| n.ssid.as_bytes() == attempt.ssid.as_slice());
        let failure = match network {
            None => JoinFailure::NotFound,
            Some(network) if network.passphrase.expose().as_bytes() != attempt.passphrase.as_slice() => {
                JoinFailure::AuthError
            }
            Some(network) => {
                return StationState::Connected {
                    ssid: network.ssid.clone(),
                    ip: "192.168.1.42".into(),
                    bssid: network.bssid,
                    channel: network.channel,
                    auth: network.auth,
                };
            }
        };
        // Attempt k (1-based) fails at settles_at + (k - 1) * join_time.
        let failed_so_far = 1 + duration_ratio(now - attempt.settles_at, self.join_time);
        let attempts = self.flavour.attempts();
        if failed_so_far < attempts {
            StationState::Connecting { attempts_remaining: Some(attempts - failed_so_far) }
        } else {
            StationState::Failed(failure)
        }
    }

    /// The example app resets the state machine itself once the last attempt failed.
    fn settle(&mut self, now: Instant) {
        if self.flavour == Flavour::ExampleApp
            && let StationState::Failed(failure) = self.observe(now)
            && self.attempt.is_some()
        {
            self.attempt = None;
            self.last_failure = Some(failure);
        }
    }

    /// Marks that a Connected status went out; the firmware then stops provisioning.
    /// Returns true the first time.
    pub fn announce_connected(&mut self) -> bool {
        !std::mem::replace(&mut self.connected_announced, true)
    }

    /// prov-ctrl reset: allowed only in the failed state (manager.c, "Trying reset when not in
    /// failure state"); clears the attempt and the stored credentials, and leaves the reported
    /// failure until the next apply.
    pub fn reset(&mut self) -> Result<(), StationRefusal> {
        let now = Instant::now();
        self.settle(now);
        let StationState::Failed(failure) = self.observe(now) else {
            return Err(StationRefusal::InvalidState);
        };
        if self.attempt.take().is_none() {
            return Err(StationRefusal::InvalidState);
        }
        self.last_failure = Some(failure);
        self.pending = None;
        Ok(())
    }

    /// prov-ctrl reprov: allowed once provisioned, on a device that keeps provisioning running
    /// after it joined (auto-stop disabled); forgets the connection.
    pub fn reprovision(&mut self) -> Result<(), StationRefusal> {
        if !matches!(self.state(), StationState::Connected { .. }) {
            return Err(StationRefusal::InvalidState);
        }
        self.attempt = None;
        self.pending = None;
        self.connected_announced = false;
        Ok(())
    }

    /// Forgets everything held in RAM (a reboot).
    pub fn reboot(&mut self) {
        self.attempt = None;
        self.pending = None;
        self.last_failure = None;
        self.connected_announced = false;
    }
}

/// How many whole `unit`s fit in `span` (0 when `unit` is zero).
fn duration_ratio(span: Duration, unit: Duration) -> u32 {
    if unit.is_zero() { 0 } else { u32::try_from(span.as_nanos() / unit.as_nanos()).unwrap_or(u32::MAX) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn station(flavour: Flavour) -> Station {
        Station::new(
            vec![SimNetwork::new("Home", "correct horse")],
            Duration::from_secs(1),
            Duration::from_secs(2),
            false,
            flavour,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn joins_after_the_apply_delay_and_join_time() {
        let mut s = station(Flavour::Plain);
        assert_eq!(s.state(), StationState::Idle);
        s.set_config(b"Home", b"correct horse", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        assert_eq!(s.state(), StationState::Connecting { attempts_remaining: None });
        tokio::time::advance(Duration::from_millis(3001)).await;
        assert!(matches!(s.state(), StationState::Connected { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn plain_firmware_refuses_a_second_apply_after_failure_until_reset() {
        let mut s = station(Flavour::Plain);
        s.set_config(b"Home", b"wrong password", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(s.state(), StationState::Failed(JoinFailure::AuthError));
        // manager.c: set-config has no state check; apply is refused while `prov_state` is FAIL.
        s.set_config(b"Home", b"correct horse", b"").unwrap();
        assert_eq!(s.apply(Instant::now()), Err(StationRefusal::InvalidState));
        s.reset().unwrap();
        // The failure is still what GetStatus reports until the next apply.
        assert_eq!(s.state(), StationState::Failed(JoinFailure::AuthError));
        assert_eq!(s.reset(), Err(StationRefusal::InvalidState), "nothing left to reset");
        assert_eq!(s.apply(Instant::now()), Err(StationRefusal::InvalidState), "reset drops the config");
        s.set_config(b"Home", b"correct horse", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(matches!(s.state(), StationState::Connected { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn the_example_app_retries_then_resets_itself() {
        let mut s = station(Flavour::ExampleApp);
        s.set_config(b"Home", b"wrong password", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        tokio::time::advance(Duration::from_millis(3001)).await;
        assert_eq!(s.state(), StationState::Connecting { attempts_remaining: Some(4) });
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(s.state(), StationState::Connecting { attempts_remaining: Some(3) });
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(s.state(), StationState::Failed(JoinFailure::AuthError));
        assert_eq!(s.reset(), Err(StationRefusal::InvalidState), "the app already reset the state machine");
        s.set_config(b"Home", b"correct horse", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(matches!(s.state(), StationState::Connected { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn apply_needs_fresh_credentials_and_no_attempt_under_way() {
        let mut s = station(Flavour::Plain);
        assert_eq!(s.apply(Instant::now()), Err(StationRefusal::InvalidState), "nothing set");
        s.set_config(b"Home", b"correct horse", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        s.set_config(b"Home", b"correct horse", b"").unwrap();
        assert_eq!(
            s.apply(Instant::now()),
            Err(StationRefusal::InvalidState),
            "second apply while connecting"
        );
        assert_eq!(
            s.apply(Instant::now()),
            Err(StationRefusal::InvalidState),
            "the refused apply used it up"
        );
    }

    #[test]
    fn enforces_firmware_limits() {
        let mut s = station(Flavour::Plain);
        assert_eq!(s.set_config(&[b'a'; 33], b"12345678", b""), Err(StationRefusal::InvalidArgument));
        assert_eq!(s.set_config(b"Home", &[b'a'; 64], b""), Err(StationRefusal::InvalidArgument));
        assert_eq!(s.set_config(b"Home", b"12345678", b"abc"), Err(StationRefusal::InvalidArgument));
        // wifi_config.c accepts a 32-byte SSID and an empty one.
        assert_eq!(s.set_config(&[b'a'; 32], &[b'b'; 63], &[0; 6]), Ok(()));
        assert_eq!(s.set_config(b"", b"", b""), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_network_is_not_found() {
        let mut s = station(Flavour::Plain);
        s.set_config(b"Elsewhere", b"whatever1", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(s.state(), StationState::Failed(JoinFailure::NotFound));
    }
}
