//! The device transport seam: one request/response exchange on a named protocomm endpoint.
//!
//! Implementations: [`softap::SoftApTransport`] (HTTP to the device's access point) and
//! [`ble::BleTransport`] (GATT over any [`crate::platform::ble::BleCentral`]).

pub mod ble;
pub(crate) mod http1;
pub mod softap;

use std::time::Duration;

use async_trait::async_trait;

use crate::platform::ble::BleError;

/// Largest request body a protocomm transport accepts (ESP-IDF's HTTP limit).
pub const MAX_EXCHANGE_LEN: usize = 4096;

/// A link to one device in setup mode. Exactly one request is in flight at a time; a transport
/// carries one security session, which ends when the link does.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends `request` to the named endpoint and returns the device's reply.
    async fn exchange(&self, endpoint: &str, request: &[u8]) -> Result<Vec<u8>, TransportError>;
    /// Largest message this link carries in one exchange.
    fn max_message_len(&self) -> usize;
    /// Which kind of link this is.
    fn kind(&self) -> TransportKind;
    /// Ends the link and with it the device's security session.
    async fn close(&self);
}

/// The kinds of link Unbox speaks to devices over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum TransportKind {
    /// HTTP on the device's own Wi-Fi access point; the device name is its SSID.
    SoftAp,
    /// Bluetooth Low Energy GATT; the device name is what it advertises.
    Ble,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::SoftAp => "softap",
            Self::Ble => "ble",
        })
    }
}

/// Why an exchange with the device failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The device did not answer within the exchange timeout.
    #[error("the device did not answer on `{endpoint}` within {after:?}; move closer to it and retry")]
    Timeout {
        /// Endpoint of the exchange.
        endpoint: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The connection could not be opened.
    #[error(
        "could not reach the device at {address}: {reason}; check that the phone is on the device's network or in range"
    )]
    Unreachable {
        /// Where the device was expected.
        address: String,
        /// What the system said.
        reason: String,
    },
    /// The device closed the link: its handler failed, it rebooted, or it went out of range.
    /// The security session is gone and a new one must be opened.
    #[error(
        "the device closed the connection during `{endpoint}`; its session is lost, reconnect and start again"
    )]
    SessionLost {
        /// Endpoint of the exchange.
        endpoint: String,
    },
    /// The device answered with an HTTP status other than 200.
    #[error("the device answered HTTP {status} on `{endpoint}`; it may not support this endpoint")]
    HttpStatus {
        /// Endpoint of the exchange.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The device does not offer the endpoint.
    #[error("the device has no `{0}` endpoint; its firmware does not support this step")]
    UnknownEndpoint(String),
    /// A request or reply does not fit the protocol's size limits.
    #[error("a {len}-byte message exceeds the {max}-byte limit of this link")]
    Oversize {
        /// Size of the message.
        len: usize,
        /// The limit it exceeds.
        max: usize,
    },
    /// Protocomm refuses empty messages.
    #[error("refusing to send an empty message to `{0}`")]
    Empty(String),
    /// The device answered with nothing.
    #[error("the device sent an empty reply on `{0}`")]
    EmptyReply(String),
    /// A Bluetooth operation failed.
    #[error(transparent)]
    Ble(#[from] BleError),
}

impl TransportError {
    /// Whether retrying (after reconnecting where the session is lost) can help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Unreachable { .. } | Self::SessionLost { .. } => true,
            Self::HttpStatus { status, .. } => *status >= 500,
            Self::UnknownEndpoint(_) | Self::Oversize { .. } | Self::Empty(_) => false,
            Self::EmptyReply(_) => true,
            Self::Ble(error) => error.is_retryable(),
        }
    }

    /// What the app should offer: the Bluetooth failure's own action, moving closer for a
    /// failure that may pass, support otherwise.
    pub fn user_action(&self) -> crate::UserAction {
        match self {
            Self::Ble(error) => error.user_action(),
            error if error.is_retryable() => crate::UserAction::MoveCloser,
            _ => crate::UserAction::ContactSupport,
        }
    }

    /// Whether the link itself is gone (the device closed it, left radio range or its access
    /// point went away), rather than the device answering badly or slowly.
    pub fn is_link_lost(&self) -> bool {
        matches!(self, Self::SessionLost { .. } | Self::Unreachable { .. })
            || matches!(self, Self::Ble(BleError::Disconnected | BleError::NotFound(_)))
    }

    /// Whether the failure ended the device's security session.
    pub fn ends_session(&self) -> bool {
        matches!(self, Self::SessionLost { .. } | Self::Timeout { .. })
            || matches!(self, Self::Ble(error) if error.ends_session())
    }
}

/// Checks a request against the protocomm limits shared by every transport.
pub(crate) fn check_request(endpoint: &str, request: &[u8], max: usize) -> Result<(), TransportError> {
    if request.is_empty() {
        return Err(TransportError::Empty(endpoint.to_owned()));
    }
    if request.len() > max {
        return Err(TransportError::Oversize { len: request.len(), max });
    }
    Ok(())
}
