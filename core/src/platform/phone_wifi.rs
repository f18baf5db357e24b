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
