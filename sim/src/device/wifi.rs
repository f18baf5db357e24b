//! The simulated device's Wi-Fi station: the networks it can see, the configuration it holds in
//! RAM, and the join attempt that succeeds or fails after a configurable time — the firmware's
//! state machine, including "no re-apply after a failure until prov-ctrl reset".

use std::time::Duration;

use tokio::time::Instant;
use unbox_core::device::AuthMode;
use unbox_core::secret::SecretString;

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

/// What the device reports on a status request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StationState {
    /// No configuration applied.
    Idle,
    /// Joining.
    Connecting,
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
    /// Wrong passphrase.
    AuthFailed,
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
    ssid: String,
    passphrase: SecretString,
    settles_at: Instant,
}

/// The firmware's Wi-Fi provisioning state.
#[derive(Debug)]
pub struct Station {
    networks: Vec<SimNetwork>,
    apply_delay: Duration,
    join_time: Duration,
    never_connect: bool,
    pending: Option<(String, SecretString)>,
    attempt: Option<Attempt>,
    connected_announced: bool,
}

impl Station {
    /// A station that sees `networks`; a join settles `apply_delay + join_time` after apply.
    pub fn new(
        networks: Vec<SimNetwork>,
        apply_delay: Duration,
        join_time: Duration,
        never_connect: bool,
    ) -> Self {
        Self {
            networks,
            apply_delay,
            join_time,
            never_connect,
            pending: None,
            attempt: None,
            connected_announced: false,
        }
    }

    /// The visible networks, strongest first, at most 16 (the firmware's default cap).
    pub fn scan(&self) -> Vec<SimNetwork> {
        let mut seen = self.networks.clone();
        seen.sort_by_key(|n| std::cmp::Reverse(n.rssi));
        seen.truncate(16);
        seen
    }

    /// Stores credentials in RAM, with the firmware's length checks.
    pub fn set_config(&mut self, ssid: &[u8], passphrase: &[u8], bssid: &[u8]) -> Result<(), StationRefusal> {
        let hex_psk = passphrase.len() == 64 && passphrase.iter().all(u8::is_ascii_hexdigit);
        if ssid.is_empty()
            || ssid.len() > 32
            || passphrase.len() > 63
            || hex_psk
            || !(bssid.is_empty() || bssid.len() == 6)
        {
            return Err(StationRefusal::InvalidArgument);
        }
        if self.attempt.is_some() {
            return Err(StationRefusal::InvalidState);
        }
        let (Ok(ssid), Ok(passphrase)) =
            (String::from_utf8(ssid.to_vec()), String::from_utf8(passphrase.to_vec()))
        else {
            return Err(StationRefusal::InvalidArgument);
        };
        self.pending = Some((ssid, SecretString::new(passphrase)));
        Ok(())
    }

    /// Starts joining with the stored credentials. Refused without credentials, and after a
    /// failure until [`Station::reset`].
    pub fn apply(&mut self, now: Instant) -> Result<(), StationRefusal> {
        if self.attempt.is_some() {
            return Err(StationRefusal::InvalidState);
        }
        let (ssid, passphrase) = self.pending.take().ok_or(StationRefusal::InvalidState)?;
        self.attempt =
            Some(Attempt { ssid, passphrase, settles_at: now + self.apply_delay + self.join_time });
        Ok(())
    }

    fn failed(&self) -> bool {
        matches!(self.state_at(Instant::now()), StationState::AuthFailed | StationState::NotFound)
    }

    /// When the current join attempt settles, if one is under way.
    pub fn settles_at(&self) -> Option<Instant> {
        self.attempt.as_ref().map(|attempt| attempt.settles_at)
    }

    /// The state now.
    pub fn state(&self) -> StationState {
        self.state_at(Instant::now())
    }

    /// The state at `now`.
    pub fn state_at(&self, now: Instant) -> StationState {
        let Some(attempt) = &self.attempt else { return StationState::Idle };
        if self.never_connect || now < attempt.settles_at {
            return StationState::Connecting;
        }
        let Some(network) = self.networks.iter().find(|n| n.ssid == attempt.ssid) else {
            return StationState::NotFound;
        };
        if network.passphrase.expose() != attempt.passphrase.expose() {
            return StationState::AuthFailed;
        }
        StationState::Connected {
            ssid: network.ssid.clone(),
            ip: "192.168.1.42".into(),
            bssid: network.bssid,
            channel: network.channel,
            auth: network.auth,
        }
    }

    /// Marks that a Connected status went out; the firmware then stops provisioning.
    /// Returns true the first time.
    pub fn announce_connected(&mut self) -> bool {
        !std::mem::replace(&mut self.connected_announced, true)
    }

    /// prov-ctrl reset: allowed after a failed attempt; clears it.
    pub fn reset(&mut self) -> Result<(), StationRefusal> {
        if !self.failed() {
            return Err(StationRefusal::InvalidState);
        }
        self.attempt = None;
        self.pending = None;
        Ok(())
    }

    /// prov-ctrl reprov: allowed once provisioned; forgets the connection.
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
        self.connected_announced = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn station() -> Station {
        Station::new(
            vec![SimNetwork::new("Home", "correct horse")],
            Duration::from_secs(1),
            Duration::from_secs(2),
            false,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn joins_after_the_apply_delay_and_join_time() {
        let mut s = station();
        s.set_config(b"Home", b"correct horse", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        assert_eq!(s.state(), StationState::Connecting);
        tokio::time::advance(Duration::from_millis(3001)).await;
        assert!(matches!(s.state(), StationState::Connected { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_blocks_reapply_until_reset() {
        let mut s = station();
        s.set_config(b"Home", b"wrong password", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(s.state(), StationState::AuthFailed);
        assert_eq!(s.apply(Instant::now()), Err(StationRefusal::InvalidState));
        assert_eq!(s.set_config(b"Home", b"correct horse", b""), Err(StationRefusal::InvalidState));
        s.reset().unwrap();
        s.set_config(b"Home", b"correct horse", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(matches!(s.state(), StationState::Connected { .. }));
    }

    #[test]
    fn enforces_firmware_limits() {
        let mut s = station();
        assert_eq!(s.set_config(&[b'a'; 33], b"12345678", b""), Err(StationRefusal::InvalidArgument));
        assert_eq!(s.set_config(b"Home", &[b'a'; 64], b""), Err(StationRefusal::InvalidArgument));
        assert_eq!(s.set_config(b"Home", b"12345678", b"abc"), Err(StationRefusal::InvalidArgument));
        assert_eq!(s.apply(Instant::now()), Err(StationRefusal::InvalidState));
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_network_is_not_found() {
        let mut s = station();
        s.set_config(b"Elsewhere", b"whatever1", b"").unwrap();
        s.apply(Instant::now()).unwrap();
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(s.state(), StationState::NotFound);
    }
}
