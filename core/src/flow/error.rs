//! Why onboarding stopped, and what the person can do about it.

use std::time::Duration;

use super::events::FlowStep;
use crate::UserAction;
use crate::auth::AuthError;
use crate::binding::device_claim::DeviceClaimError;
use crate::binding::{BindingError, InvalidValue};
use crate::device::{DeviceError, WifiFailure};
use crate::platform::phone_wifi::PhoneWifiError;
use crate::platform::secret_store::SecretStoreError;
use crate::platform::service_browser::BrowseError;
use crate::portal::PortalError;

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
    /// An Improv Wi-Fi device failed or refused a step.
    #[error(transparent)]
    Improv(#[from] crate::improv::ImprovError),
    /// The device refused the claim.
    #[error("the device refused the account link: {0}")]
    DeviceClaim(#[from] DeviceClaimError),
    /// The phone could not join or leave the device's network.
    #[error(transparent)]
    PhoneWifi(#[from] PhoneWifiError),
    /// A captive-portal device failed or refused a step.
    #[error(transparent)]
    Portal(#[from] PortalError),
    /// The home network could not be browsed for the device.
    #[error(transparent)]
    Browse(#[from] BrowseError),
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
    /// The device does not implement Unbox's claim endpoint (a setup portal: its form has no
    /// claim field, or the app gave no device id).
    #[error(
        "this device's firmware cannot be linked to an account (no `unbox-claim` endpoint, or for a \
         setup portal no claim field in its form or no device id given): update its firmware, or \
         onboard it in Wi-Fi-only mode (BindingMode::None) and bind it your own way"
    )]
    DeviceCannotBind,
    /// The device speaks a protocol this build of the library leaves out (core's `improv` and
    /// `portal` features).
    #[error(
        "this device speaks {0:?}, which this build of the app's library does not include; the \
         app maker has to ship a build with it"
    )]
    ProtocolNotIncluded(crate::onboarding::DeviceProtocol),
    /// A claim onboarding was asked of a service set up without an account.
    #[error(
        "linking the device to an account needs a signed-in account; set up sign-in, or onboard \
         in Wi-Fi-only mode"
    )]
    AccountNeeded,
    /// The request names no Wi-Fi network and no chooser was given to let the person pick one.
    #[error("no Wi-Fi network was given; pass the network's name and password, or a network chooser")]
    NetworkNeeded,
    /// A step of a staged session was called after the session was closed (or, after `bind`,
    /// released the device).
    #[error("this device session is closed; connect to the device again")]
    SessionClosed,
    /// A step of a staged session that cannot run now; the message says what comes first.
    #[error("{0}")]
    StepUnavailable(&'static str),
    /// The app lacks a phone capability this path needs (Bluetooth or Wi-Fi joining).
    #[error("this phone cannot {0}; grant the permission or use the other connection type")]
    MissingCapability(PhoneCapability),
    /// The secure storage failed.
    #[error(transparent)]
    Store(#[from] SecretStoreError),
    /// Saved onboarding state could not be read.
    #[error("saved onboarding state is unreadable ({0}); it was discarded, start over")]
    CorruptState(StateCorruption),
}

/// A capability of the phone that a way of reaching the device needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneCapability {
    /// A Bluetooth LE central (the app was given none).
    Bluetooth,
    /// Joining Wi-Fi networks (the app was given no phone Wi-Fi).
    WifiJoining,
}

impl std::fmt::Display for PhoneCapability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bluetooth => "use Bluetooth",
            Self::WifiJoining => "join Wi-Fi networks",
        })
    }
}

/// What is wrong with saved onboarding state.
#[derive(Debug, thiserror::Error)]
pub enum StateCorruption {
    /// The saved record is not the JSON this version reads and writes.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A saved claim id, device id or confirmation key is not valid.
    #[error(transparent)]
    Value(#[from] InvalidValue),
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
            // Within an onboarding, a sign-in that failed for any other reason is tried again.
            Self::SignIn(error) => match error.user_action() {
                UserAction::SignIn => UserAction::SignIn,
                _ => UserAction::Retry,
            },
            Self::Binding(error) => error.user_action(),
            Self::Device(error) => error.user_action(),
            Self::Improv(error) => error.user_action(),
            Self::DeviceClaim(error) => error.user_action(),
            Self::DeviceCannotBind
            | Self::NetworkNeeded
            | Self::ProtocolNotIncluded(_)
            | Self::SessionClosed
            | Self::StepUnavailable(_) => UserAction::ContactSupport,
            Self::PhoneWifi(error) => error.user_action(),
            Self::Portal(error) => error.user_action(),
            Self::Browse(_) => UserAction::FixPhoneSettings,
            Self::WifiRejected { failure, .. } => failure.user_action(),
            Self::ClaimExpiredBeforePush | Self::CorruptState(_) => UserAction::StartOver,
            Self::MissingCapability(_) => UserAction::FixPhoneSettings,
            Self::AccountNeeded => UserAction::SignIn,
            Self::Store(error) => error.user_action(),
        }
    }
}
