//! Why onboarding stopped, and what the person can do about it.

use std::time::Duration;

use super::events::FlowStep;
use crate::auth::AuthError;
use crate::binding::BindingError;
use crate::binding::device_claim::DeviceClaimError;
use crate::device::{DeviceError, WifiFailure};
use crate::phone_wifi::PhoneWifiError;
use crate::secret_store::SecretStoreError;

/// What the app should offer the person after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserAction {
    /// Try again as is (transient trouble).
    Retry,
    /// Enter the Wi-Fi password again.
    EnterWifiPassword,
    /// Check the network name, or move the device closer to the router.
    CheckWifiNetwork,
    /// Move the phone closer to the device, check it is in setup mode, and retry.
    MoveCloser,
    /// Check the device's code (PoP) or QR code and retry.
    CheckDeviceCode,
    /// Sign in again.
    SignIn,
    /// Start over from the beginning (a new claim is needed).
    StartOver,
    /// Grant a permission or turn a radio on.
    FixPhoneSettings,
    /// Update the app or contact support.
    ContactSupport,
    /// Nothing: the person cancelled.
    None,
}

/// Why onboarding failed.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The person cancelled.
    #[error("onboarding was cancelled")]
    Cancelled,
    /// A step took longer than its limit.
    #[error("{step} took longer than {limit:?}; try again")]
    TimedOut {
        /// The step.
        step: FlowStep,
        /// Its limit.
        limit: Duration,
    },
    /// Signing in failed.
    #[error("signing in failed: {0}")]
    SignIn(#[from] AuthError),
    /// The binding backend refused or could not be reached.
    #[error(transparent)]
    Binding(#[from] BindingError),
    /// The device failed or refused a step.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The device refused the claim.
    #[error("the device refused the account link: {0}")]
    DeviceClaim(#[from] DeviceClaimError),
    /// The phone could not join or leave the device's network.
    #[error(transparent)]
    PhoneWifi(#[from] PhoneWifiError),
    /// The device could not join the home Wi-Fi and no new password was given.
    #[error("the device could not join `{ssid}`: {failure}")]
    WifiRejected {
        /// The home network.
        ssid: String,
        /// Why.
        failure: WifiFailure,
    },
    /// The claim expired before the device could take it; a new one is needed.
    #[error("the link code expired before the device received it; start over to get a new one")]
    ClaimExpiredBeforePush,
    /// The device does not implement Unbox's claim endpoint.
    #[error(
        "this device's firmware cannot be linked to an account (no `unbox-claim` endpoint): update its \
         firmware, or onboard it in Wi-Fi-only mode (BindingMode::None) and bind it your own way"
    )]
    DeviceCannotBind,
    /// A claim onboarding was asked of a service set up without an account.
    #[error(
        "linking the device to an account needs a signed-in account; set up sign-in, or onboard \
         in Wi-Fi-only mode"
    )]
    AccountNeeded,
    /// The app lacks a phone capability this path needs (Bluetooth or Wi-Fi joining).
    #[error("this phone cannot {0}; grant the permission or use the other connection type")]
    MissingCapability(&'static str),
    /// The secure storage failed.
    #[error(transparent)]
    Store(#[from] SecretStoreError),
    /// Saved onboarding state could not be read.
    #[error("saved onboarding state is unreadable ({0}); it was discarded, start over")]
    CorruptState(String),
}

impl FlowError {
    /// What the app should offer.
    pub fn user_action(&self) -> UserAction {
        match self {
            Self::Cancelled => UserAction::None,
            Self::TimedOut { step, .. } => match step {
                FlowStep::ConnectDevice
                | FlowStep::SecureSession
                | FlowStep::PushClaim
                | FlowStep::PushWifi => UserAction::MoveCloser,
                _ => UserAction::Retry,
            },
            Self::SignIn(error) if error.needs_login() => UserAction::SignIn,
            Self::SignIn(_) => UserAction::Retry,
            Self::Binding(error) if error.requires_login() => UserAction::SignIn,
            Self::Binding(error) if error.requires_new_claim() => UserAction::StartOver,
            Self::Binding(error) if error.is_retryable() => UserAction::Retry,
            Self::Binding(_) => UserAction::ContactSupport,
            Self::Device(DeviceError::HandshakeRejected { .. }) => UserAction::CheckDeviceCode,
            Self::Device(DeviceError::Security(crate::security::SecurityError::ProofMismatch)) => {
                UserAction::CheckDeviceCode
            }
            Self::Device(DeviceError::InvalidSsid { .. }) => UserAction::CheckWifiNetwork,
            Self::Device(DeviceError::InvalidPassphrase { .. }) => UserAction::EnterWifiPassword,
            Self::Device(DeviceError::CredentialsMismatch { .. }) => UserAction::CheckDeviceCode,
            Self::Device(DeviceError::Wifi(WifiFailure::AuthError)) => UserAction::EnterWifiPassword,
            Self::Device(DeviceError::Wifi(_)) => UserAction::CheckWifiNetwork,
            Self::Device(error) if error.is_retryable() => UserAction::MoveCloser,
            Self::Device(_) => UserAction::ContactSupport,
            Self::DeviceClaim(error) if error.is_retryable() => UserAction::Retry,
            Self::DeviceClaim(_) | Self::DeviceCannotBind => UserAction::ContactSupport,
            Self::PhoneWifi(PhoneWifiError::Unavailable(_) | PhoneWifiError::Declined) => {
                UserAction::FixPhoneSettings
            }
            Self::PhoneWifi(_) => UserAction::MoveCloser,
            Self::WifiRejected { failure: WifiFailure::AuthError, .. } => UserAction::EnterWifiPassword,
            Self::WifiRejected { .. } => UserAction::CheckWifiNetwork,
            Self::ClaimExpiredBeforePush | Self::CorruptState(_) => UserAction::StartOver,
            Self::MissingCapability(_) => UserAction::FixPhoneSettings,
            Self::AccountNeeded => UserAction::SignIn,
            Self::Store(_) => UserAction::Retry,
        }
    }
}
