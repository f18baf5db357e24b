//! The phone-Wi-Fi seam: join and leave a device's setup access point, and list the networks
//! around. Implemented by the shells (WifiNetworkSpecifier on Android, NEHotspotConfiguration
//! on iOS) and by the simulator; on desktops the person joins by hand.

use async_trait::async_trait;

use crate::UserAction;
use crate::discovery::WifiNetwork;
use crate::secret::SecretString;

/// The phone's Wi-Fi, as far as onboarding needs it.
#[async_trait]
pub trait PhoneWifi: Send + Sync {
    /// Joins the device's access point and routes the app's traffic to it; returns once a
    /// socket to the device can be opened. `passphrase` is `None` for an open network.
    async fn join_network(
        &self,
        ssid: String,
        passphrase: Option<SecretString>,
    ) -> Result<(), PhoneWifiError>;
    /// Leaves the device's access point so traffic goes back to the internet.
    async fn leave_network(&self, ssid: String) -> Result<(), PhoneWifiError>;
    /// Lists the networks in range (for SoftAP discovery).
    async fn scan_networks(&self) -> Result<Vec<WifiNetwork>, PhoneWifiError>;
}

/// The phone's Wi-Fi when the app joins nothing itself: the person joined the device's access
/// point in the system settings, or the device is reachable without joining (the `unbox sim`
/// devices on a computer's network, seen from an emulator or the CLI). Joining and leaving
/// change nothing; a scan lists no networks. The one such implementation: the CLI uses it, and
/// the shells get it through the FFI.
#[derive(Debug)]
pub enum ManualJoin {
    /// The person joins: every join succeeds.
    ByHand,
    /// Stands in for a device's access point with this passphrase (`None`: an open one) in demos
    /// and tests against the simulator: a join with another passphrase fails as a real join would.
    AccessPoint(Option<SecretString>),
}

#[async_trait]
impl PhoneWifi for ManualJoin {
    async fn join_network(
        &self,
        ssid: String,
        passphrase: Option<SecretString>,
    ) -> Result<(), PhoneWifiError> {
        match self {
            Self::AccessPoint(expected)
                if expected.as_ref().map(SecretString::expose)
                    != passphrase.as_ref().map(SecretString::expose) =>
            {
                Err(PhoneWifiError::JoinFailed {
                    ssid,
                    reason: "the access point refused the passphrase".into(),
                })
            }
            _ => Ok(()),
        }
    }

    async fn leave_network(&self, _ssid: String) -> Result<(), PhoneWifiError> {
        Ok(())
    }

    async fn scan_networks(&self) -> Result<Vec<WifiNetwork>, PhoneWifiError> {
        Ok(Vec::new())
    }
}

/// Why an access point cannot be joined with this name and passphrase, before the platform sees
/// them (IEEE 802.11: an SSID has 1 to 32 bytes; WPA2-Personal: a passphrase has 8 to 63
/// printable ASCII characters, or is the raw key as 64 hex digits). `None` when they can. The one
/// rule every phone-Wi-Fi implementation applies (the Android shell calls it through the FFI).
pub fn join_problem(ssid: &str, passphrase: Option<&str>) -> Option<String> {
    if let Some(problem) = ssid_problem(ssid) {
        return Some(problem);
    }
    let passphrase = passphrase?;
    if is_raw_psk(passphrase) {
        None
    } else if passphrase.bytes().any(|byte| !(0x20..=0x7e).contains(&byte)) {
        Some("a WPA2 passphrase contains only printable ASCII characters".to_owned())
    } else if !(8..=63).contains(&passphrase.len()) {
        Some(format!("a WPA2 passphrase has 8 to 63 characters, not {}", passphrase.len()))
    } else {
        None
    }
}

/// Why `ssid` cannot name a network (it has 1 to 32 bytes), or `None`: the rule for the device's
/// home network and for the phone's join alike.
pub fn ssid_problem(ssid: &str) -> Option<String> {
    let len = ssid.len();
    (!(1..=32).contains(&len)).then(|| format!("a network name has 1 to 32 bytes, not {len}"))
}

/// Whether `passphrase` is a raw WPA2 key (64 hex digits) rather than a passphrase: platforms
/// take it unquoted.
pub fn is_raw_psk(passphrase: &str) -> bool {
    passphrase.len() == 64 && passphrase.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// Why the phone's Wi-Fi could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneWifiError {
    /// The person declined the system's join dialog.
    #[error("joining the device's network was declined; accept the system prompt to continue")]
    Declined,
    /// Wi-Fi is off or the app lacks the permission.
    #[error(
        "Wi-Fi is unavailable: {0}; turn Wi-Fi on and grant the app the nearby-devices/location permission"
    )]
    Unavailable(String),
    /// The device's network was not found or the join failed.
    #[error("could not join `{ssid}`: {reason}; move closer to the device and check it is in setup mode")]
    JoinFailed {
        /// The network.
        ssid: String,
        /// What the platform said.
        reason: String,
    },
    /// Anything else the platform reported.
    #[error("Wi-Fi error: {0}")]
    Other(String),
}

impl PhoneWifiError {
    /// Whether retrying can help without the person doing something first.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::JoinFailed { .. } | Self::Other(_))
    }

    /// What the app should offer.
    pub fn user_action(&self) -> UserAction {
        match self {
            Self::Unavailable(_) | Self::Declined => UserAction::FixPhoneSettings,
            Self::JoinFailed { .. } | Self::Other(_) => UserAction::MoveCloser,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_join_changes_nothing_and_a_stand_in_access_point_checks_its_passphrase() {
        let by_hand = ManualJoin::ByHand;
        assert_eq!(by_hand.join_network("PROV_1".into(), None).await, Ok(()));
        assert_eq!(by_hand.scan_networks().await, Ok(Vec::new()));
        let access_point = ManualJoin::AccessPoint(Some(SecretString::new("setup-1234")));
        assert_eq!(
            access_point.join_network("PROV_1".into(), Some(SecretString::new("setup-1234"))).await,
            Ok(())
        );
        let refused = access_point.join_network("PROV_1".into(), Some(SecretString::new("wrong-123"))).await;
        assert!(
            matches!(refused, Err(PhoneWifiError::JoinFailed { ref ssid, .. }) if ssid == "PROV_1"),
            "{refused:?}"
        );
        assert!(
            access_point.join_network("PROV_1".into(), None).await.is_err(),
            "the access point is secured"
        );
        assert_eq!(access_point.leave_network("PROV_1".into()).await, Ok(()));
    }

    #[test]
    fn passphrases_and_ssids_are_checked_before_the_platform_sees_them() {
        assert_eq!(join_problem("PROV_1A2B3C", Some("setup-1234")), None);
        assert_eq!(join_problem("PROV_1A2B3C", Some(&"a".repeat(63))), None);
        assert_eq!(join_problem("PROV_1A2B3C", Some(&"0123456789abcdef".repeat(4))), None);
        assert_eq!(join_problem("PROV_1A2B3C", None), None, "an open access point");
        assert_eq!(
            join_problem("PROV_1A2B3C", Some("short77")).as_deref(),
            Some("a WPA2 passphrase has 8 to 63 characters, not 7")
        );
        assert!(join_problem("PROV_1A2B3C", Some(&"g".repeat(64))).is_some(), "not hex, too long");
        assert_eq!(
            join_problem("PROV_1A2B3C", Some("p\u{e4}sswort-123")).as_deref(),
            Some("a WPA2 passphrase contains only printable ASCII characters")
        );
        assert_eq!(
            join_problem("", Some("setup-1234")).as_deref(),
            Some("a network name has 1 to 32 bytes, not 0")
        );
        assert!(ssid_problem(&"\u{fc}".repeat(17)).is_some(), "34 bytes of UTF-8");
        assert!(is_raw_psk(&"0123456789ABCDEF".repeat(4)) && !is_raw_psk("setup-1234"));
    }
}
