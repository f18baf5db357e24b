//! ESP unified provisioning behind the device handle: the protocomm session (`DeviceSession`),
//! the `unbox-claim` endpoint, Wi-Fi config and status, and reaching the device again after
//! the link dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::sync::RwLock;
use url::Url;

use super::connect::{Connector, JoinedAccessPoint, OpenRequest};
use super::device::{
    BindingMode, ChannelProtection, DeviceDetails, DeviceHandle, DeviceProtocol, ProvisionOutcome,
    ProvisionStatus, Sooner, StatusSink,
};
use super::networks::NetworkList;
use crate::binding::DeviceId;
use crate::binding::device_claim::{CLAIM_ENDPOINT, decode_claim_response, encode_claim_request};
use crate::device::{
    ConnectedInfo, DeviceError, DeviceInfo, DeviceSession, ScanOptions, StatusPolling, WifiCredentials,
    WifiStatus, WifiWait,
};
use crate::flow::FlowError;
use crate::secret::SecretString;
use crate::security::SecurityLevel;
use crate::transport::Transport;

/// The version-info section and capability a device announces when it supports Unbox claims.
pub const CLAIM_APP_LABEL: &str = "unbox";
/// See [`CLAIM_APP_LABEL`].
pub const CLAIM_CAPABILITY: &str = "claim";

/// A device speaking ESP unified provisioning, with an open secure session.
pub struct EspDevice {
    details: DeviceDetails,
    session: RwLock<DeviceSession>,
    access_point: RwLock<Option<Arc<JoinedAccessPoint>>>,
    connector: Connector,
    request: OpenRequest,
    /// Whether the device holds a failed attempt that must be cleared before the next one.
    failed: AtomicBool,
}

impl EspDevice {
    /// Reads the device's info, checks it against the policy and opens the secure session.
    pub(super) async fn open(
        connector: Connector,
        transport: Arc<dyn Transport>,
        access_point: Option<Arc<JoinedAccessPoint>>,
        request: &OpenRequest,
    ) -> Result<Self, FlowError> {
        let session = DeviceSession::open(transport, &request.credentials, &request.policy).await?;
        Ok(Self {
            details: details(&request.device_name, session.info()),
            session: RwLock::new(session),
            access_point: RwLock::new(access_point),
            connector,
            request: request.clone(),
            failed: AtomicBool::new(false),
        })
    }
}

/// What an ESP device's version info says, in the protocol-neutral form.
fn details(name: &str, info: &DeviceInfo) -> DeviceDetails {
    let supports_claims =
        info.app_info.get(CLAIM_APP_LABEL).is_some_and(|app| app.cap.iter().any(|c| c == CLAIM_CAPABILITY));
    let mut binding_modes = vec![BindingMode::None];
    if supports_claims {
        binding_modes.insert(0, BindingMode::Claim);
    }
    let mut capabilities = info.capabilities.clone();
    for (label, app) in &info.app_info {
        capabilities.extend(app.cap.iter().map(|cap| format!("{label}:{cap}")));
    }
    DeviceDetails {
        protocol: DeviceProtocol::EspUnified,
        name: name.to_owned(),
        protocol_version: info.prov_version.clone(),
        firmware: info.app_info.get(CLAIM_APP_LABEL).map(|app| format!("{CLAIM_APP_LABEL} {}", app.ver)),
        security: Some(info.security),
        protection: if info.security == SecurityLevel::Sec0 {
            ChannelProtection::Cleartext
        } else {
            ChannelProtection::Encrypted
        },
        can_scan: info.can_scan_wifi(),
        binding_modes,
        capabilities,
        info_json: Some(info.to_json()),
    }
}

fn report_status(status: &WifiStatus, on_status: StatusSink<'_>) {
    if let WifiStatus::Connecting { attempts_remaining } = status {
        on_status(ProvisionStatus::Connecting { attempts_remaining: *attempts_remaining });
    }
}

impl EspDevice {
    /// The outcome of following the device: a reported failure is remembered (the next attempt
    /// clears it first), a dropped link is unconfirmed.
    fn outcome(&self, waited: Result<ConnectedInfo, DeviceError>) -> Result<ProvisionOutcome, FlowError> {
        match waited {
            Ok(info) => Ok(ProvisionOutcome::Connected(info)),
            Err(DeviceError::Wifi(failure)) => {
                self.failed.store(true, Ordering::SeqCst);
                Ok(ProvisionOutcome::Failed(failure))
            }
            Err(DeviceError::Transport(error)) if error.is_link_lost() => {
                tracing::info!(%error, "the link dropped while the device was joining");
                Ok(ProvisionOutcome::Unconfirmed)
            }
            Err(error) => Err(error.into()),
        }
    }
}

#[async_trait]
impl DeviceHandle for EspDevice {
    fn details(&self) -> &DeviceDetails {
        &self.details
    }

    async fn scan_networks(&self) -> Result<NetworkList, FlowError> {
        let session = self.session.read().await;
        let seen = session.scan_wifi(ScanOptions::for_transport(session.transport().kind())).await?;
        Ok(NetworkList::from_seen(&seen))
    }

    async fn hand_over_claim(
        &self,
        token: &SecretString,
        backend_url: Option<&Url>,
    ) -> Result<DeviceId, FlowError> {
        if !self.details.supports(BindingMode::Claim) {
            return Err(FlowError::DeviceCannotBind);
        }
        let message = encode_claim_request(token, backend_url)?;
        let reply = self.session.read().await.request(CLAIM_ENDPOINT, message.expose()).await?;
        Ok(decode_claim_response(&reply)?)
    }

    async fn send_wifi(&self, network: &WifiCredentials) -> Result<(), FlowError> {
        let session = self.session.read().await;
        if self.failed.swap(false, Ordering::SeqCst) {
            session.clear_failed_attempt().await?;
        }
        Ok(session.configure_wifi(network).await?)
    }

    async fn wait_wifi(
        &self,
        polling: StatusPolling,
        sooner: Sooner<'_>,
        on_status: StatusSink<'_>,
    ) -> Result<ProvisionOutcome, FlowError> {
        let session = self.session.read().await;
        let followed = session
            .follow_wifi(polling, sooner, |event| match event {
                WifiWait::Status(status) => report_status(status, on_status),
                WifiWait::Sleeping(wait) => on_status(ProvisionStatus::NextReadIn { wait }),
            })
            .await;
        self.outcome(followed)
    }

    async fn recheck(
        &self,
        polling: StatusPolling,
        on_status: StatusSink<'_>,
    ) -> Result<ProvisionOutcome, FlowError> {
        let mut session = self.session.write().await;
        session.close().await;
        let (reopened, access_point) = match self.connector.reopen_session(&self.request).await {
            Ok(reopened) => reopened,
            Err(error) => {
                tracing::info!(%error, "the device cannot be reached again");
                return Ok(ProvisionOutcome::Unconfirmed);
            }
        };
        *session = reopened;
        if let Some(rejoined) = access_point {
            let mut held = self.access_point.write().await;
            match held.as_ref() {
                Some(joined) => joined.absorb(&rejoined).await,
                None => *held = Some(rejoined),
            }
        }
        let session = session.downgrade();
        self.outcome(session.wait_for_wifi(polling, |status| report_status(status, on_status)).await)
    }

    async fn close(&self) {
        self.session.read().await.close().await;
        if let Some(access_point) = self.access_point.write().await.take() {
            access_point.leave().await;
        }
    }
}
