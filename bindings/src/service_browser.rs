//! The phone's DNS-SD browser the shell provides (NsdManager on Android, NWBrowser on iOS),
//! adapted to the core's `ServiceBrowser` seam: it finds a captive-portal device on the home
//! network once it has joined, since the portal never reports the join.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use unbox_core::platform::service_browser::{self as core, ServiceInstance};

/// Browses the network the phone is on.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait ServiceBrowser: Send + Sync {
    /// The instances of `service_type` (e.g. `_http._tcp`) heard within `within`.
    async fn browse(
        &self,
        service_type: String,
        within: Duration,
    ) -> Result<Vec<ServiceInstance>, BrowseError>;
}

/// Why browsing failed. Thrown by the shell.
// The core's error is a message; a foreign error crosses as an enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum BrowseError {
    /// The platform refused or failed (e.g. no local-network permission on iOS).
    #[error("{reason}")]
    Failed {
        /// What the platform said.
        reason: String,
    },
}

/// A core browser (the simulator's) seen through the FFI trait.
#[cfg(feature = "sim")]
pub(crate) struct NativeServiceBrowser(pub(crate) Arc<dyn core::ServiceBrowser>);

#[cfg(feature = "sim")]
#[async_trait]
impl ServiceBrowser for NativeServiceBrowser {
    async fn browse(
        &self,
        service_type: String,
        within: Duration,
    ) -> Result<Vec<ServiceInstance>, BrowseError> {
        crate::runtime::in_runtime_context(self.0.browse(service_type, within))
            .await
            .map_err(|core::BrowseError(reason)| BrowseError::Failed { reason })
    }
}

/// A shell's browser seen through the core's seam.
pub(crate) struct ForeignServiceBrowser(pub(crate) Arc<dyn ServiceBrowser>);

#[async_trait]
impl core::ServiceBrowser for ForeignServiceBrowser {
    async fn browse(
        &self,
        service_type: String,
        within: Duration,
    ) -> Result<Vec<ServiceInstance>, core::BrowseError> {
        self.0
            .browse(service_type, within)
            .await
            .map_err(|BrowseError::Failed { reason }| core::BrowseError(reason))
    }
}
