//! The DNS-SD seam: browse the phone's current network for a service type, to see a device
//! that never reports its join (a captive-portal device) appear on the home network.
//! Implemented by the shells (Android NSD, iOS Bonjour), by the CLI on desktops and by the
//! simulator.

use std::time::Duration;

use async_trait::async_trait;

/// One announced service instance.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ServiceInstance {
    /// The instance name, e.g. `esp32-1a2b3c`.
    pub name: String,
    /// Its address (IPv4 or IPv6, as text).
    pub address: String,
    /// Its port.
    pub port: u16,
}

/// Browses the network the phone is on (NsdManager on Android, NWBrowser on iOS).
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
#[async_trait]
pub trait ServiceBrowser: Send + Sync {
    /// The instances of `service_type` (e.g. `_http._tcp`) heard within `within`.
    async fn browse(
        &self,
        service_type: String,
        within: Duration,
    ) -> Result<Vec<ServiceInstance>, BrowseError>;
}

/// Why browsing failed. Thrown by the shell's browser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error))]
pub enum BrowseError {
    /// The platform refused or failed (e.g. no local-network permission on iOS).
    #[error("could not browse the local network: {reason}; check the app's local-network permission")]
    Failed {
        /// What the platform said.
        reason: String,
    },
}

#[cfg(feature = "uniffi")]
impl From<uniffi::UnexpectedUniFFICallbackError> for BrowseError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed { reason: error.reason }
    }
}

/// What to look for on the home network once a device that does not report its join has its
/// Wi-Fi details.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ServiceQuery {
    /// The DNS-SD service type the firmware announces, e.g. `_http._tcp`.
    pub service_type: String,
    /// The instance name the device announces (compared ignoring ASCII case).
    pub instance: String,
}

/// How often the home network is browsed again while waiting.
const BROWSE_ROUND: Duration = Duration::from_secs(2);

/// Browses until `query`'s instance appears or `limit` passes; the instance, or `None`.
pub async fn wait_for_instance(
    browser: &dyn ServiceBrowser,
    query: &ServiceQuery,
    limit: Duration,
) -> Result<Option<ServiceInstance>, BrowseError> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let round = tokio::time::Instant::now() + left.min(BROWSE_ROUND);
        let heard = browser.browse(query.service_type.clone(), left.min(BROWSE_ROUND)).await?;
        if let Some(found) =
            heard.into_iter().find(|instance| instance.name.eq_ignore_ascii_case(&query.instance))
        {
            return Ok(Some(found));
        }
        // A browser that answers at once must not make this a busy loop.
        tokio::time::sleep_until(round).await;
    }
}
