//! The phone's Wi-Fi the shell provides (WifiNetworkSpecifier on Android, NEHotspotConfiguration
//! on iOS), adapted to the core's [`PhoneWifi`](unbox_core::platform::phone_wifi::PhoneWifi) seam.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use unbox_core::platform::phone_wifi as core;
use unbox_core::platform::phone_wifi::PhoneWifi as _;
use unbox_core::secret::SecretString;

use crate::discovery::WifiNetwork;

/// The phone's Wi-Fi, as far as onboarding needs it.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait PhoneWifi: Send + Sync {
    /// Joins the device's access point and routes the app's traffic to it; returns once a socket
    /// to the device can be opened. `passphrase` is null for an open network; it is a secret.
    async fn join_network(&self, ssid: String, passphrase: Option<String>) -> Result<(), PhoneWifiError>;
    /// Leaves the device's access point so traffic goes back to the internet.
    async fn leave_network(&self, ssid: String) -> Result<(), PhoneWifiError>;
    /// Lists the networks in range.
    async fn scan_networks(&self) -> Result<Vec<WifiNetwork>, PhoneWifiError>;
}

/// Why an access point cannot be joined with this name and passphrase (null: it can): an SSID
/// has 1 to 32 bytes; a WPA2 passphrase 8 to 63 printable ASCII characters, or is a raw key of 64
/// hex digits. The core's rule, for the shell to check before the platform sees them.
#[uniffi::export]
pub fn phone_wifi_join_problem(ssid: String, passphrase: Option<String>) -> Option<String> {
    core::join_problem(&ssid, passphrase.as_deref())
}

/// Whether `passphrase` is a raw WPA2 key (64 hex digits), which platforms take unquoted.
#[uniffi::export]
pub fn is_raw_wpa_key(passphrase: String) -> bool {
    core::is_raw_psk(&passphrase)
}

/// Why the phone's Wi-Fi could not do what was asked. Thrown by the shell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PhoneWifiError {
    /// The person declined the system's join dialog.
    Declined,
    /// Wi-Fi is off or the app lacks the permission.
    Unavailable {
        /// What the platform said.
        reason: String,
    },
    /// The network was not found or the join failed.
    JoinFailed {
        /// The network.
        ssid: String,
        /// What the platform said.
        reason: String,
    },
    /// Anything else.
    Other {
        /// What the platform said.
        reason: String,
    },
}

impl fmt::Display for PhoneWifiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        core::PhoneWifiError::from(self.clone()).fmt(f)
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PhoneWifiError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Other { reason: error.reason }
    }
}

impl From<PhoneWifiError> for core::PhoneWifiError {
    fn from(error: PhoneWifiError) -> Self {
        match error {
            PhoneWifiError::Declined => Self::Declined,
            PhoneWifiError::Unavailable { reason } => Self::Unavailable(reason),
            PhoneWifiError::JoinFailed { ssid, reason } => Self::JoinFailed { ssid, reason },
            PhoneWifiError::Other { reason } => Self::Other(reason),
        }
    }
}

/// The phone's Wi-Fi when the app joins nothing itself: the person joined the device's access
/// point in the system settings, or the device is reachable without joining (the `unbox sim`
/// devices on the computer's network, seen from an emulator or simulator). Joining and leaving
/// change nothing; a scan lists no networks.
#[uniffi::export]
pub fn manual_join_phone_wifi() -> Arc<dyn PhoneWifi> {
    Arc::new(NativePhoneWifi(core::ManualJoin::ByHand))
}

/// Like `manualJoinPhoneWifi`, standing in for a device's access point with `passphrase` (null:
/// an open one) in demos and tests against the simulator: a join with another passphrase fails
/// as a real join would.
#[uniffi::export]
pub fn simulated_access_point_phone_wifi(passphrase: Option<String>) -> Arc<dyn PhoneWifi> {
    Arc::new(NativePhoneWifi(core::ManualJoin::AccessPoint(passphrase.map(SecretString::new))))
}

/// The core's manual join offered through the FFI trait.
struct NativePhoneWifi(core::ManualJoin);

#[async_trait]
impl PhoneWifi for NativePhoneWifi {
    async fn join_network(&self, ssid: String, passphrase: Option<String>) -> Result<(), PhoneWifiError> {
        Ok(self.0.join_network(ssid, passphrase.map(SecretString::new)).await?)
    }

    async fn leave_network(&self, ssid: String) -> Result<(), PhoneWifiError> {
        Ok(self.0.leave_network(ssid).await?)
    }

    async fn scan_networks(&self) -> Result<Vec<WifiNetwork>, PhoneWifiError> {
        Ok(self.0.scan_networks().await?.into_iter().map(Into::into).collect())
    }
}

impl From<core::PhoneWifiError> for PhoneWifiError {
    fn from(error: core::PhoneWifiError) -> Self {
        match error {
            core::PhoneWifiError::Declined => Self::Declined,
            core::PhoneWifiError::Unavailable(reason) => Self::Unavailable { reason },
            core::PhoneWifiError::JoinFailed { ssid, reason } => Self::JoinFailed { ssid, reason },
            core::PhoneWifiError::Other(reason) => Self::Other { reason },
        }
    }
}

/// A shell's Wi-Fi seen as the core's.
pub(crate) struct ForeignPhoneWifi(pub(crate) Arc<dyn PhoneWifi>);

#[async_trait]
impl core::PhoneWifi for ForeignPhoneWifi {
    async fn join_network(
        &self,
        ssid: String,
        passphrase: Option<SecretString>,
    ) -> Result<(), core::PhoneWifiError> {
        let passphrase = passphrase.as_ref().map(|secret| secret.expose().to_owned());
        Ok(self.0.join_network(ssid, passphrase).await?)
    }

    async fn leave_network(&self, ssid: String) -> Result<(), core::PhoneWifiError> {
        Ok(self.0.leave_network(ssid).await?)
    }

    async fn scan_networks(&self) -> Result<Vec<unbox_core::discovery::WifiNetwork>, core::PhoneWifiError> {
        Ok(self.0.scan_networks().await?.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_the_core_meaning_and_message() {
        let cases = [
            (PhoneWifiError::Declined, core::PhoneWifiError::Declined),
            (
                PhoneWifiError::Unavailable { reason: "off".into() },
                core::PhoneWifiError::Unavailable("off".into()),
            ),
            (
                PhoneWifiError::JoinFailed { ssid: "PROV_1".into(), reason: "timeout".into() },
                core::PhoneWifiError::JoinFailed { ssid: "PROV_1".into(), reason: "timeout".into() },
            ),
            (PhoneWifiError::Other { reason: "x".into() }, core::PhoneWifiError::Other("x".into())),
        ];
        for (ffi, expected) in cases {
            assert_eq!(ffi.to_string(), expected.to_string());
            assert_eq!(PhoneWifiError::from(expected.clone()), ffi);
            assert_eq!(core::PhoneWifiError::from(ffi), expected);
        }
    }

    #[tokio::test]
    async fn the_simulated_access_point_refuses_another_passphrase_through_the_ffi_trait() {
        let wifi = simulated_access_point_phone_wifi(Some("setup-1234".into()));
        assert_eq!(wifi.join_network("PROV_1".into(), Some("setup-1234".into())).await, Ok(()));
        let refused = wifi.join_network("PROV_1".into(), Some("wrong-123".into())).await;
        assert!(matches!(refused, Err(PhoneWifiError::JoinFailed { .. })), "{refused:?}");
        assert_eq!(manual_join_phone_wifi().join_network("PROV_1".into(), None).await, Ok(()));
        assert_eq!(manual_join_phone_wifi().scan_networks().await, Ok(Vec::new()));
    }
}
