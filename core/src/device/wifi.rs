//! Wi-Fi provisioning over a secure session: send and apply credentials and follow the
//! connection (`prov-config`); the networks the device sees (the scan is in `scan.rs`).

use std::time::Duration;

use super::{DeviceError, DeviceSession, check_status, decode, unexpected};
use crate::UserAction;
use crate::proto::{
    self, CmdApplyConfig, CmdGetStatus, CmdSetConfig, Status, WiFiConfigMsgType, WiFiConfigPayload,
    WifiConnectFailedReason, WifiStationState, wi_fi_config_payload,
};
use crate::secret::SecretString;
use prost::Message;

/// The endpoint for Wi-Fi configuration and status.
pub const CONFIG_ENDPOINT: &str = "prov-config";

/// The credentials of the network the device should join.
#[derive(Debug, Clone)]
pub struct WifiCredentials {
    /// Network name, 1 to 32 bytes.
    pub ssid: String,
    /// Passphrase: empty for an open network, else 8 to 63 characters.
    pub passphrase: SecretString,
    /// Pin the access point by BSSID.
    pub bssid: Option<[u8; 6]>,
    /// Hint the channel (0 = any).
    pub channel: u8,
}

impl WifiCredentials {
    /// Credentials for a network by name and passphrase.
    pub fn new(ssid: impl Into<String>, passphrase: impl Into<SecretString>) -> Self {
        Self { ssid: ssid.into(), passphrase: passphrase.into(), bssid: None, channel: 0 }
    }

    /// Checks the limits the firmware enforces, so the user hears about them before sending.
    pub fn validate(&self) -> Result<(), DeviceError> {
        if crate::platform::phone_wifi::ssid_problem(&self.ssid).is_some() {
            return Err(DeviceError::InvalidSsid { len: self.ssid.len() });
        }
        let len = self.passphrase.expose().len();
        if len != 0 && !(8..=63).contains(&len) {
            return Err(DeviceError::InvalidPassphrase { len });
        }
        Ok(())
    }
}

/// Wi-Fi authentication modes as the device reports them. The firmware passes its raw enum
/// through, so values beyond WPA2/WPA3 (WAPI, OWE, ...) arrive as [`AuthMode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// No security.
    Open,
    /// WEP.
    Wep,
    /// WPA personal.
    WpaPsk,
    /// WPA2 personal.
    Wpa2Psk,
    /// WPA/WPA2 personal.
    WpaWpa2Psk,
    /// WPA2 enterprise.
    Wpa2Enterprise,
    /// WPA3 personal.
    Wpa3Psk,
    /// WPA2/WPA3 personal.
    Wpa2Wpa3Psk,
    /// A mode this protocol version does not name.
    Other(i32),
}

impl AuthMode {
    /// Maps the wire value.
    pub fn from_wire(value: i32) -> Self {
        use proto::WifiAuthMode as W;
        match W::try_from(value) {
            Ok(W::Open) => Self::Open,
            Ok(W::Wep) => Self::Wep,
            Ok(W::WpaPsk) => Self::WpaPsk,
            Ok(W::Wpa2Psk) => Self::Wpa2Psk,
            Ok(W::WpaWpa2Psk) => Self::WpaWpa2Psk,
            Ok(W::Wpa2Enterprise) => Self::Wpa2Enterprise,
            Ok(W::Wpa3Psk) => Self::Wpa3Psk,
            Ok(W::Wpa2Wpa3Psk) => Self::Wpa2Wpa3Psk,
            Err(_) => Self::Other(value),
        }
    }

    /// The wire value.
    pub fn to_wire(self) -> i32 {
        use proto::WifiAuthMode as W;
        match self {
            Self::Open => W::Open as i32,
            Self::Wep => W::Wep as i32,
            Self::WpaPsk => W::WpaPsk as i32,
            Self::Wpa2Psk => W::Wpa2Psk as i32,
            Self::WpaWpa2Psk => W::WpaWpa2Psk as i32,
            Self::Wpa2Enterprise => W::Wpa2Enterprise as i32,
            Self::Wpa3Psk => W::Wpa3Psk as i32,
            Self::Wpa2Wpa3Psk => W::Wpa2Wpa3Psk as i32,
            Self::Other(value) => value,
        }
    }

    /// Whether joining needs a passphrase.
    pub fn needs_passphrase(self) -> bool {
        !matches!(self, Self::Open)
    }
}

/// A network the device sees.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WifiNetworkSeen {
    /// Network name (lossy UTF-8; raw bytes in `ssid_bytes`).
    pub ssid: String,
    /// The SSID exactly as broadcast.
    pub ssid_bytes: Vec<u8>,
    /// Access point address, when reported.
    pub bssid: Option<[u8; 6]>,
    /// Channel.
    pub channel: u32,
    /// Signal strength in dBm.
    pub rssi: i32,
    /// Authentication mode.
    pub auth: AuthMode,
}

/// How the device should scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions {
    /// Passive instead of active scanning.
    pub passive: bool,
    /// Channels per group; the device pauses between groups to keep its own AP beaconing
    /// (ESP clients use 5 on SoftAP, 0 = all at once, on BLE).
    pub group_channels: u32,
    /// Time per channel in milliseconds (0 = firmware default).
    pub period_ms: u32,
}

impl ScanOptions {
    /// The options Espressif's clients use on each kind of link.
    pub fn for_transport(kind: crate::transport::TransportKind) -> Self {
        let group_channels = if kind == crate::transport::TransportKind::SoftAp { 5 } else { 0 };
        Self { passive: false, group_channels, period_ms: 0 }
    }
}

/// Where the device stands in joining the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WifiStatus {
    /// Still trying; recent firmware says how many attempts remain after a failed one.
    Connecting {
        /// Attempts left, when the firmware reports a failed attempt.
        attempts_remaining: Option<u32>,
    },
    /// Joined, with its address.
    Connected(ConnectedInfo),
    /// Gave up.
    Failed(WifiFailure),
    /// Not connected and not trying (no configuration applied).
    Disconnected,
}

/// The device's connection once joined.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectedInfo {
    /// IPv4 address the device obtained.
    pub ip4_addr: String,
    /// The network joined.
    pub ssid: String,
    /// The access point joined.
    pub bssid: Option<[u8; 6]>,
    /// The channel.
    pub channel: i32,
    /// Authentication mode in use.
    pub auth: AuthMode,
    /// Where the device asks the person to continue (Improv's redirect URL, e.g. ESPHome's
    /// `http://name.local`); `None` from ESP devices.
    pub redirect_url: Option<String>,
}

/// Why the device could not join the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WifiFailure {
    /// The access point refused the passphrase.
    #[error("the device could not join the network: the Wi-Fi password is wrong; enter it again")]
    AuthError,
    /// No access point with that name was in range of the device.
    #[error(
        "the device cannot find the network; check its name and that the device is in range of the router"
    )]
    NetworkNotFound,
    /// The device kept trying until the deadline.
    #[error("the device did not finish joining the network within {0:?}; check the router and try again")]
    TimedOut(Duration),
    /// The device could not join, without saying why (Improv's "unable to connect").
    #[error("the device could not join the network; check the network name and enter the password again")]
    CouldNotJoin,
}

impl WifiFailure {
    /// Whether retrying with the same credentials can help.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::AuthError | Self::CouldNotJoin)
    }

    /// What the app should offer.
    pub fn user_action(&self) -> UserAction {
        match self {
            Self::AuthError | Self::CouldNotJoin => UserAction::EnterWifiPassword,
            _ => UserAction::CheckWifiNetwork,
        }
    }
}

/// How to follow the device while it joins. Nothing can change during the firmware's first
/// second after apply (`wifi_prov_mgr_configure_sta` in ESP-IDF's manager.c connects on a 1 s
/// timer, reporting Connecting meanwhile) and a join takes about a second more at least, so the
/// first poll waits for both; from there the waits start short, where joins usually finish
/// (devices join in 1–5 s), and grow by 30 % each time, until a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StatusPolling {
    /// Wait after apply before the first poll.
    pub initial_delay: Duration,
    /// Wait after the first poll; each later wait is 30 % longer.
    pub interval: Duration,
    /// Upper bound of the wait between polls.
    pub max_delay: Duration,
    /// Give up after this long.
    pub deadline: Duration,
}

impl Default for StatusPolling {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(2),
            interval: Duration::from_millis(250),
            max_delay: Duration::from_secs(2),
            deadline: Duration::from_secs(60),
        }
    }
}

impl StatusPolling {
    /// The wait before each poll: `initial_delay`, then `interval` growing by 30 % each time,
    /// capped at `max_delay`.
    pub fn waits(&self) -> impl Iterator<Item = Duration> + use<> {
        let max = self.max_delay;
        std::iter::once(self.initial_delay)
            .chain(std::iter::successors(Some(self.interval.min(max)), move |wait| {
                Some((*wait * 13 / 10).min(max))
            }))
    }
}

/// What following the device's join reports, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WifiWait<'a> {
    /// About to wait this long before the next status read.
    Sleeping(Duration),
    /// A status read's answer.
    Status(&'a WifiStatus),
}

pub(super) fn bssid(bytes: &[u8]) -> Option<[u8; 6]> {
    bytes.try_into().ok()
}

impl DeviceSession {
    /// Sends a config command. The encoded request is zeroized afterwards and the caller's
    /// payload is consumed: set-config carries the passphrase.
    async fn config_request(
        &self,
        mut payload: WiFiConfigPayload,
    ) -> Result<wi_fi_config_payload::Payload, DeviceError> {
        let expected = payload.msg + 1;
        let encoded = zeroize::Zeroizing::new(payload.encode_to_vec());
        if let Some(wi_fi_config_payload::Payload::CmdSetConfig(command)) = payload.payload.as_mut() {
            zeroize::Zeroize::zeroize(&mut command.passphrase);
        }
        let reply: WiFiConfigPayload =
            decode(CONFIG_ENDPOINT, &self.request(CONFIG_ENDPOINT, &encoded).await?)?;
        if reply.msg != expected {
            return Err(unexpected(CONFIG_ENDPOINT, reply.msg));
        }
        reply.payload.ok_or_else(|| unexpected(CONFIG_ENDPOINT, "no payload"))
    }

    /// Sends the network credentials (kept in the device's RAM until applied).
    pub async fn set_wifi_config(&self, credentials: &WifiCredentials) -> Result<(), DeviceError> {
        credentials.validate()?;
        let command = CmdSetConfig {
            ssid: credentials.ssid.as_bytes().to_vec(),
            passphrase: credentials.passphrase.expose().as_bytes().to_vec(),
            bssid: credentials.bssid.map(|b| b.to_vec()).unwrap_or_default(),
            channel: i32::from(credentials.channel),
        };
        let reply = self
            .config_request(WiFiConfigPayload {
                msg: WiFiConfigMsgType::TypeCmdSetConfig as i32,
                payload: Some(wi_fi_config_payload::Payload::CmdSetConfig(command)),
            })
            .await?;
        match reply {
            wi_fi_config_payload::Payload::RespSetConfig(resp) => check_status(CONFIG_ENDPOINT, resp.status),
            _ => Err(unexpected(CONFIG_ENDPOINT, "set-config reply of another kind")),
        }
    }

    /// Sends the credentials and tells the device to join. A device an earlier attempt (or an
    /// earlier run) left in the failed state refuses the apply with InternalError until a
    /// prov-ctrl reset (plain `wifi_prov_mgr`); then the failure is cleared and the
    /// credentials are sent again. The usual case costs exactly two exchanges.
    pub async fn configure_wifi(&self, credentials: &WifiCredentials) -> Result<(), DeviceError> {
        self.set_wifi_config(credentials).await?;
        match self.apply_wifi_config().await {
            Err(refused) if refused.is_refusal(Status::InternalError) => {
                if !matches!(self.wifi_status().await?, WifiStatus::Failed(_)) {
                    return Err(refused);
                }
                tracing::debug!("the device still held a failed attempt; clearing it and sending again");
                self.clear_failed_attempt().await?;
                self.set_wifi_config(credentials).await?;
                self.apply_wifi_config().await
            }
            other => other,
        }
    }

    /// Tells the device to join the network it was given. It starts about a second later.
    pub async fn apply_wifi_config(&self) -> Result<(), DeviceError> {
        let reply = self
            .config_request(WiFiConfigPayload {
                msg: WiFiConfigMsgType::TypeCmdApplyConfig as i32,
                payload: Some(wi_fi_config_payload::Payload::CmdApplyConfig(CmdApplyConfig {})),
            })
            .await?;
        match reply {
            wi_fi_config_payload::Payload::RespApplyConfig(resp) => {
                check_status(CONFIG_ENDPOINT, resp.status)
            }
            _ => Err(unexpected(CONFIG_ENDPOINT, "apply-config reply of another kind")),
        }
    }

    /// Reads the device's Wi-Fi station status once.
    pub async fn wifi_status(&self) -> Result<WifiStatus, DeviceError> {
        let reply = self
            .config_request(WiFiConfigPayload {
                msg: WiFiConfigMsgType::TypeCmdGetStatus as i32,
                payload: Some(wi_fi_config_payload::Payload::CmdGetStatus(CmdGetStatus {})),
            })
            .await?;
        let wi_fi_config_payload::Payload::RespGetStatus(resp) = reply else {
            return Err(unexpected(CONFIG_ENDPOINT, "status reply of another kind"));
        };
        check_status(CONFIG_ENDPOINT, resp.status)?;
        use proto::resp_get_status::State;
        let state = WifiStationState::try_from(resp.sta_state)
            .map_err(|_| DeviceError::UnknownValue { field: "sta_state", value: resp.sta_state })?;
        Ok(match (state, resp.state) {
            (WifiStationState::Connected, Some(State::Connected(c))) => {
                WifiStatus::Connected(ConnectedInfo {
                    ip4_addr: c.ip4_addr,
                    ssid: String::from_utf8_lossy(&c.ssid).into_owned(),
                    bssid: bssid(&c.bssid),
                    channel: c.channel,
                    auth: AuthMode::from_wire(c.auth_mode),
                    redirect_url: None,
                })
            }
            (WifiStationState::Connected, _) => {
                return Err(unexpected(CONFIG_ENDPOINT, "connected without details"));
            }
            (WifiStationState::Connecting, Some(State::AttemptFailed(a))) => {
                WifiStatus::Connecting { attempts_remaining: Some(a.attempts_remaining) }
            }
            (WifiStationState::Connecting, _) => WifiStatus::Connecting { attempts_remaining: None },
            (WifiStationState::Disconnected, _) => WifiStatus::Disconnected,
            (WifiStationState::ConnectionFailed, Some(State::FailReason(reason))) => {
                match WifiConnectFailedReason::try_from(reason) {
                    Ok(WifiConnectFailedReason::AuthError) => WifiStatus::Failed(WifiFailure::AuthError),
                    Ok(WifiConnectFailedReason::NetworkNotFound) => {
                        WifiStatus::Failed(WifiFailure::NetworkNotFound)
                    }
                    Err(_) => return Err(DeviceError::UnknownValue { field: "fail_reason", value: reason }),
                }
            }
            // Firmware sends reason 0 (AuthError) as an omitted field.
            (WifiStationState::ConnectionFailed, _) => WifiStatus::Failed(WifiFailure::AuthError),
        })
    }

    /// Polls the status until the device is connected or has failed, reporting every status
    /// read to `on_status`, on the [`StatusPolling`] schedule; stops at its deadline.
    pub async fn wait_for_wifi(
        &self,
        polling: StatusPolling,
        mut on_status: impl FnMut(&WifiStatus) + Send,
    ) -> Result<ConnectedInfo, DeviceError> {
        self.follow_wifi(polling, std::future::pending(), |event| {
            if let WifiWait::Status(status) = event {
                on_status(status);
            }
        })
        .await
    }

    /// Like [`DeviceSession::wait_for_wifi`], reporting each wait too, and reading the status at
    /// once when `sooner` completes (the backend saw the device redeem its claim, so it is
    /// online): no exchange is cut short, none is added.
    pub async fn follow_wifi(
        &self,
        polling: StatusPolling,
        sooner: impl Future<Output = ()> + Send,
        mut on_event: impl FnMut(WifiWait<'_>) + Send,
    ) -> Result<ConnectedInfo, DeviceError> {
        let started = tokio::time::Instant::now();
        let mut sooner = std::pin::pin!(sooner);
        let mut woken = false;
        for (polls, wait) in polling.waits().enumerate() {
            if polls > 0 && started.elapsed() + wait > polling.deadline {
                return Err(WifiFailure::TimedOut(polling.deadline).into());
            }
            on_event(WifiWait::Sleeping(wait));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = &mut sooner, if !woken => woken = true,
            }
            let status = self.wifi_status().await?;
            on_event(WifiWait::Status(&status));
            match status {
                WifiStatus::Connected(info) => return Ok(info),
                WifiStatus::Failed(failure) => return Err(failure.into()),
                WifiStatus::Connecting { .. } | WifiStatus::Disconnected => {}
            }
        }
        Err(WifiFailure::TimedOut(polling.deadline).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_poll_waits_out_the_apply_delay_and_a_quick_join_then_waits_grow_by_30_percent() {
        let waits: Vec<u128> = StatusPolling::default().waits().take(12).map(|w| w.as_millis()).collect();
        assert_eq!(waits, [2000, 250, 325, 422, 549, 714, 928, 1206, 1568, 2000, 2000, 2000]);
        let polling = StatusPolling { interval: Duration::from_secs(5), ..StatusPolling::default() };
        assert_eq!(polling.waits().nth(1), Some(Duration::from_secs(2)), "capped at max_delay");
    }

    #[test]
    fn polls_for_a_join_of_one_to_five_seconds_stay_at_or_below_the_old_backoffs() {
        // The old schedule: 250 ms, then half as long again each time, capped at 2 s.
        let old = std::iter::successors(Some(Duration::from_millis(250)), |w| {
            Some((*w * 3 / 2).min(Duration::from_secs(2)))
        });
        let polls_until = |waits: &mut dyn Iterator<Item = Duration>, settled: Duration| {
            let mut at = Duration::ZERO;
            waits
                .take_while(|wait| {
                    let before = at;
                    at += *wait;
                    before < settled
                })
                .count()
        };
        let (mut old_total, mut new_total) = (0, 0);
        // Settled 1 s (apply) plus joins of 1.0 to 5.0 s, in 100 ms steps.
        for tenth in 20..=60 {
            let settled = Duration::from_millis(tenth * 100);
            old_total += polls_until(&mut old.clone(), settled);
            new_total += polls_until(&mut StatusPolling::default().waits(), settled);
        }
        assert!(new_total <= old_total, "{new_total} polls against {old_total}");
        // The simulator's 2.5 s device: three polls (2.0, 2.25, 2.575 s) against five.
        let settled = Duration::from_millis(2500);
        assert_eq!(polls_until(&mut StatusPolling::default().waits(), settled), 3);
        assert_eq!(polls_until(&mut old.clone(), settled), 5);
    }
}
