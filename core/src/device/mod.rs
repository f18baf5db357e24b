//! The ESP unified-provisioning client: read a device's version info, open a secure session,
//! scan for Wi-Fi, send credentials, apply them and follow the device until it joins, reset it
//! after a failure, and talk to custom endpoints — over any [`crate::transport::Transport`].

mod ctrl;
mod info;
mod scan;
mod session;
mod wifi;

pub use ctrl::CTRL_ENDPOINT;
pub use info::{
    AppInfo, CAP_NO_POP, CAP_NO_SEC, CAP_THREAD_PROV, CAP_WIFI_PROV, CAP_WIFI_SCAN, DeviceInfo, InfoError,
    VERSION_ENDPOINT, VERSION_REQUEST,
};
pub use scan::{SCAN_ENDPOINT, SCAN_RESULT_LIMIT};
pub use session::{DeviceSession, PolicyRefusal, SESSION_ENDPOINT, SecurityPolicy};
pub use wifi::{
    AuthMode, CONFIG_ENDPOINT, ConnectedInfo, ScanOptions, StatusPolling, WifiCredentials, WifiFailure,
    WifiNetworkSeen, WifiStatus,
};

use crate::UserAction;
use crate::security::{SecurityError, SecurityLevel};
use crate::transport::TransportError;

/// Why talking to a device failed.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The link to the device failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The security handshake or the session cipher failed.
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// The device's version info is unusable.
    #[error(transparent)]
    Info(#[from] InfoError),
    /// The device's security is weaker than the caller allows.
    #[error(transparent)]
    RefusedByPolicy(#[from] PolicyRefusal),
    /// The credentials given do not fit the device's security scheme. A device answering a
    /// lower level than its code promises is refused here too: it may be an impostor.
    #[error("{}", mismatch_message(*.device, *.given))]
    CredentialsMismatch {
        /// What the device runs.
        device: SecurityLevel,
        /// What the credentials are for.
        given: SecurityLevel,
    },
    /// The device ended the session at the proof step: the PoP, username or password is wrong.
    #[error(
        "the device rejected the proof of possession or password; check the code on the device or its QR code and retry"
    )]
    HandshakeRejected {
        /// The transport failure the device caused.
        #[source]
        source: TransportError,
    },
    /// An earlier exchange failed, so the encrypted session is out of step.
    #[error("the secure session with the device was interrupted; reconnect to the device and start again")]
    SessionBroken,
    /// A reply could not be decoded.
    #[error(
        "the device sent a reply on `{endpoint}` that cannot be read ({reason}); its firmware may be incompatible"
    )]
    Malformed {
        /// Endpoint of the exchange.
        endpoint: String,
        /// What was wrong.
        reason: String,
    },
    /// A reply carried a value outside the protocol's enumeration.
    #[error("the device sent an unknown {field} value {value}; update the app")]
    UnknownValue {
        /// Name of the field.
        field: &'static str,
        /// The value received.
        value: i32,
    },
    /// The device answered with a non-success status.
    #[error("the device refused `{endpoint}` with status {status}")]
    Refused {
        /// Endpoint of the exchange.
        endpoint: String,
        /// The status name.
        status: String,
    },
    /// The network name cannot be sent: ESP devices take 1 to 32 bytes.
    #[error("the network name must be 1 to 32 bytes long, this one is {len} bytes; check the name")]
    InvalidSsid {
        /// Its length in bytes.
        len: usize,
    },
    /// The passphrase cannot be sent: 8 to 63 characters, or none for an open network.
    #[error(
        "a Wi-Fi password has 8 to 63 characters (or none for an open network), this one has {len}; enter it again"
    )]
    InvalidPassphrase {
        /// Its length in bytes.
        len: usize,
    },
    /// The device could not join the Wi-Fi network.
    #[error(transparent)]
    Wifi(#[from] WifiFailure),
}

impl DeviceError {
    /// Whether the device answered with this protocomm status.
    pub fn is_refusal(&self, expected: crate::proto::Status) -> bool {
        matches!(self, Self::Refused { status, .. } if status == expected.as_str_name())
    }

    /// Whether retrying can help without the user changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(error) => error.is_retryable(),
            Self::Security(error) => error.is_retryable(),
            Self::SessionBroken | Self::Malformed { .. } => true,
            Self::Wifi(failure) => failure.is_retryable(),
            Self::Info(_)
            | Self::RefusedByPolicy(_)
            | Self::CredentialsMismatch { .. }
            | Self::HandshakeRejected { .. }
            | Self::UnknownValue { .. }
            | Self::Refused { .. }
            | Self::InvalidSsid { .. }
            | Self::InvalidPassphrase { .. } => false,
        }
    }

    /// What the app should offer.
    pub fn user_action(&self) -> UserAction {
        match self {
            Self::HandshakeRejected { .. }
            | Self::Security(SecurityError::ProofMismatch)
            | Self::CredentialsMismatch { .. } => UserAction::CheckDeviceCode,
            Self::InvalidSsid { .. } => UserAction::CheckWifiNetwork,
            Self::InvalidPassphrase { .. } => UserAction::EnterWifiPassword,
            Self::Wifi(failure) => failure.user_action(),
            Self::Transport(error) => error.user_action(),
            error if error.is_retryable() => UserAction::MoveCloser,
            _ => UserAction::ContactSupport,
        }
    }
}

fn mismatch_message(device: SecurityLevel, given: SecurityLevel) -> String {
    if device < given {
        format!(
            "the device offers {device:?} but its code says {given:?}: refusing the weaker security; \
             make sure you are connecting to your own device and scan its code again"
        )
    } else {
        format!("the device uses {device:?} but credentials for {given:?} were given; scan its QR code again")
    }
}

/// Decodes a protobuf reply, naming the endpoint when it cannot.
pub(crate) fn decode<M: prost::Message + Default>(endpoint: &str, bytes: &[u8]) -> Result<M, DeviceError> {
    M::decode(bytes)
        .map_err(|e| DeviceError::Malformed { endpoint: endpoint.to_owned(), reason: e.to_string() })
}

/// Turns a protocomm status into a result.
pub(crate) fn check_status(endpoint: &str, status: i32) -> Result<(), DeviceError> {
    use crate::proto::Status;
    match Status::try_from(status) {
        Ok(Status::Success) => Ok(()),
        Ok(other) => Err(DeviceError::Refused {
            endpoint: endpoint.to_owned(),
            status: other.as_str_name().to_owned(),
        }),
        Err(_) => Err(DeviceError::UnknownValue { field: "status", value: status }),
    }
}

/// The error for a reply whose message type or payload does not match the request.
pub(crate) fn unexpected(endpoint: &str, what: impl std::fmt::Debug) -> DeviceError {
    DeviceError::Malformed { endpoint: endpoint.to_owned(), reason: format!("unexpected reply {what:?}") }
}
