//! Improv Wi-Fi (improv-wifi.com, revisions up to 2.4): the open onboarding protocol of ESPHome,
//! WLED and several Arduino libraries, over BLE and (feature `improv-serial`, desktops only)
//! over a serial port.
//!
//! - [`frame`]: RPC commands and results with their checksum, states, error codes, capabilities;
//! - [`ble`]: the GATT service, the advertisement's service data, the BLE link;
//! - [`serial`]: the serial packet framing and the serial link;
//! - [`client`]: what a client does over either link (authorization, every command, provisioning).
//!
//! Improv has no channel for a claim token (devices onboard in Wi-Fi-only mode) and no
//! encryption: credentials travel in clear, gated only by the person pressing the device's button.

pub mod ble;
pub mod client;
pub mod frame;
#[cfg(feature = "improv-serial")]
pub mod serial;

use std::time::Duration;

use crate::UserAction;
use crate::platform::ble::BleError;
pub use client::{DeviceInfo, ImprovClient, ImprovNetwork, ImprovProgress, ImprovTimeouts, Provisioned};
pub use frame::{Capabilities, Command, DeviceFault, FrameError, RpcResult, State};

/// Why an Improv exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImprovError {
    /// The device reported an error.
    #[error(transparent)]
    Device(#[from] DeviceFault),
    /// The device sent a malformed frame, or a value given cannot be framed.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The Bluetooth link failed.
    #[error(transparent)]
    Ble(#[from] BleError),
    /// The serial port failed or closed.
    #[error("the serial port failed: {0}; check the cable and that no other program uses the port")]
    Serial(String),
    /// The link to the device closed.
    #[error("the connection to the device closed; reconnect and try again")]
    LinkClosed,
    /// The device does not offer the Improv service (or lacks one of its characteristics).
    #[error("the device does not offer Improv Wi-Fi over Bluetooth; is it in setup mode?")]
    NotImprov,
    /// The device does not advertise this capability (or the link has no such command).
    #[error("the device does not support {0}")]
    Unsupported(&'static str),
    /// Nobody pressed the device's button in time.
    #[error("the device was not authorized within {0:?}; press the button on the device and try again")]
    AuthorizationTimedOut(Duration),
    /// The device did not answer in time.
    #[error("the device did not answer {waiting_for} within {limit:?}")]
    TimedOut {
        /// What the client waited for.
        waiting_for: &'static str,
        /// The limit.
        limit: Duration,
    },
    /// The device is already on a network; Improv has stopped on it.
    #[error("the device is already provisioned; reset its Wi-Fi settings to onboard it again")]
    AlreadyProvisioned,
}

impl ImprovError {
    /// What the app should offer.
    pub fn user_action(&self) -> UserAction {
        match self {
            Self::Device(DeviceFault::UnableToConnect) => UserAction::EnterWifiPassword,
            Self::Device(DeviceFault::NotAuthorized | DeviceFault::Unknown)
            | Self::AuthorizationTimedOut(_)
            | Self::Serial(_) => UserAction::Retry,
            Self::Frame(
                FrameError::EmptySsid | FrameError::FieldTooLong { field: frame::Field::Ssid, .. },
            ) => UserAction::CheckWifiNetwork,
            Self::Frame(FrameError::FieldTooLong { field: frame::Field::Password, .. }) => {
                UserAction::EnterWifiPassword
            }
            Self::Ble(BleError::Unavailable(_)) => UserAction::FixPhoneSettings,
            Self::Ble(error) if error.is_retryable() => UserAction::MoveCloser,
            Self::NotImprov | Self::TimedOut { .. } | Self::LinkClosed => UserAction::MoveCloser,
            Self::AlreadyProvisioned => UserAction::StartOver,
            Self::Device(_) | Self::Frame(_) | Self::Ble(_) | Self::Unsupported(_) => {
                UserAction::ContactSupport
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_device_fault_has_an_action() {
        let expected = [
            (DeviceFault::InvalidRpc, UserAction::ContactSupport),
            (DeviceFault::UnknownCommand, UserAction::ContactSupport),
            (DeviceFault::UnableToConnect, UserAction::EnterWifiPassword),
            (DeviceFault::NotAuthorized, UserAction::Retry),
            (DeviceFault::BadHostname, UserAction::ContactSupport),
            (DeviceFault::Unknown, UserAction::Retry),
            (DeviceFault::Unassigned(0x42), UserAction::ContactSupport),
        ];
        for (fault, action) in expected {
            assert_eq!(ImprovError::from(fault).user_action(), action, "{fault:?}");
        }
        assert_eq!(ImprovError::from(FrameError::EmptySsid).user_action(), UserAction::CheckWifiNetwork);
        assert_eq!(
            ImprovError::AuthorizationTimedOut(Duration::from_secs(60)).to_string(),
            "the device was not authorized within 60s; press the button on the device and try again"
        );
        assert_eq!(ImprovError::Ble(BleError::Disconnected).user_action(), UserAction::MoveCloser);
    }
}
