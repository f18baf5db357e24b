//! The device side of Unbox's account binding: the `unbox-claim` endpoint takes the claim token
//! the phone pushes (before Wi-Fi), answers with the device id, and once the device is online
//! redeems the token at the backend with the device's own credential.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use unbox_core::binding::device_claim::{
    CLAIM_ENDPOINT, PushedClaim, decode_claim_request, encode_claim_response,
};
use unbox_core::binding::{ClaimRedeemer, ClaimStatus, DeviceCredential, DeviceId};
use unbox_core::device::AppInfo;
use unbox_core::proto::DeviceClaimStatus;
use url::Url;

use super::protocomm::CustomEndpoint;

/// Where a device's redemption stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// No claim pushed, or not online yet.
    Waiting,
    /// Redeeming.
    InProgress,
    /// The backend accepted the redemption.
    Redeemed(ClaimStatus),
    /// The backend refused or could not be reached (message for logs and tests).
    Failed(String),
}

/// A device's `unbox-claim` firmware, in Rust ([`ClaimEndpoint`]) or the C component
/// (`CClaimEndpoint`, feature `c-firmware`).
pub trait ClaimFirmware: Send + Sync {
    /// Follows the redemption.
    fn redemption(&self) -> watch::Receiver<Redemption>;
    /// The endpoint to give the simulated device.
    fn endpoint(self: Arc<Self>) -> Arc<dyn CustomEndpoint>;
}

impl ClaimFirmware for ClaimEndpoint {
    fn redemption(&self) -> watch::Receiver<Redemption> {
        ClaimEndpoint::redemption(self)
    }

    fn endpoint(self: Arc<Self>) -> Arc<dyn CustomEndpoint> {
        self
    }
}

/// The `unbox-claim` endpoint of a simulated device.
pub struct ClaimEndpoint {
    credential: DeviceCredential,
    reported_id: DeviceId,
    default_backend: Option<Url>,
    pushed: Mutex<Option<PushedClaim>>,
    redemption: watch::Sender<Redemption>,
}

impl ClaimEndpoint {
    /// An endpoint for the device `credential` identifies; `default_backend` is the firmware's
    /// built-in backend, used when the phone does not send one.
    pub fn new(credential: DeviceCredential, default_backend: Option<Url>) -> Arc<Self> {
        let reported_id = credential.device_id().clone();
        Self::reporting_as(credential, default_backend, reported_id)
    }

    /// An endpoint that tells the phone it is `reported_id` but redeems as the device
    /// `credential` identifies: a lying device, or a relay to another device. The backend must
    /// then refuse the phone's confirmation.
    pub fn reporting_as(
        credential: DeviceCredential,
        default_backend: Option<Url>,
        reported_id: DeviceId,
    ) -> Arc<Self> {
        Arc::new(Self {
            credential,
            reported_id,
            default_backend,
            pushed: Mutex::new(None),
            redemption: watch::channel(Redemption::Waiting).0,
        })
    }

    /// Follows the redemption.
    pub fn redemption(&self) -> watch::Receiver<Redemption> {
        self.redemption.subscribe()
    }

    fn pushed(&self) -> std::sync::MutexGuard<'_, Option<PushedClaim>> {
        self.pushed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The `proto-ver` section a claim-capable firmware announces.
pub(crate) fn claim_app_info() -> Option<(String, AppInfo)> {
    Some(("unbox".into(), AppInfo { ver: "1".into(), cap: vec!["claim".into()] }))
}

impl CustomEndpoint for ClaimEndpoint {
    fn name(&self) -> &str {
        CLAIM_ENDPOINT
    }

    fn app_info(&self) -> Option<(String, AppInfo)> {
        claim_app_info()
    }

    fn handle(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        let device_id = &self.reported_id;
        let status = match decode_claim_request(request) {
            Ok(claim) if claim.backend_url.is_none() && self.default_backend.is_none() => {
                DeviceClaimStatus::ClaimBackendNotAllowed
            }
            Ok(claim) => {
                *self.pushed() = Some(claim);
                tracing::info!(%device_id, "device: claim token received");
                DeviceClaimStatus::ClaimAccepted
            }
            Err(error) => error.device_status(),
        };
        Ok(encode_claim_response(status, device_id))
    }

    fn on_network_joined(&self) {
        let Some(claim) = self.pushed().take() else { return };
        let Some(backend) = claim.backend_url.clone().or_else(|| self.default_backend.clone()) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let redeemer = match ClaimRedeemer::new(self.credential.clone()) {
            Ok(redeemer) => redeemer,
            Err(error) => {
                self.redemption.send_replace(Redemption::Failed(error.to_string()));
                return;
            }
        };
        let redemption = self.redemption.clone();
        redemption.send_replace(Redemption::InProgress);
        runtime.spawn(async move {
            let outcome = match redeemer.redeem(&backend, &claim.claim_token).await {
                Ok(status) => Redemption::Redeemed(status),
                Err(error) => {
                    tracing::warn!(%error, "device: claim redemption failed");
                    Redemption::Failed(error.to_string())
                }
            };
            redemption.send_replace(outcome);
        });
    }
}
