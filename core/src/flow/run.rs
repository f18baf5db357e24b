//! The onboarding service and one run of the flow, step by step: sign in and claim, connect,
//! secure session, scan, push claim and Wi-Fi, wait online (asking for the password again),
//! leave the device, wait for redemption, confirm; and resuming interrupted runs.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::Notify;

use tokio_util::sync::CancellationToken;

use super::reporter::Reporter;
use super::{
    BindingMode, DetailKind, DeviceTarget, FlowError, FlowObserver, FlowStep, Onboarded, OnboardingRequest,
    OnboardingSettings, PendingClaim, PendingClaims, PhoneCapability, WifiPasswordPrompt,
};

use crate::auth::Session;
use crate::binding::device_claim::{CLAIM_ENDPOINT, decode_claim_response, encode_claim_request};
use crate::binding::{Binding, BindingClient, BindingError, Claim, ClaimId, DeviceId, IdempotencyKey};
use crate::ble::BleCentral;
use crate::device::{
    ConnectedInfo, DeviceError, DeviceSession, ScanOptions, WifiCredentials, WifiFailure, WifiStatus,
    WifiWait,
};
use crate::phone_wifi::PhoneWifi;
use crate::secret_store::SecretStore;
use crate::transport::ble::BleTransport;
use crate::transport::softap::SoftApTransport;
use crate::transport::{Transport, TransportKind};

/// The version-info section and capability a device announces when it supports Unbox claims.
pub const CLAIM_APP_LABEL: &str = "unbox";
/// See [`CLAIM_APP_LABEL`].
pub const CLAIM_CAPABILITY: &str = "claim";

/// The onboarding service: what the flow needs from the app, shared by every run.
pub struct Onboarding {
    account: Option<Account>,
    ble: Option<Arc<dyn BleCentral>>,
    phone_wifi: Option<Arc<dyn PhoneWifi>>,
    pending: PendingClaims,
    settings: OnboardingSettings,
}

/// The customer's account: the sign-in session and the binding backend it authorises.
struct Account {
    session: Arc<Session>,
    binding: BindingClient,
}

/// What a run holds that must be released however it ends.
#[derive(Default)]
struct Held {
    session: Option<DeviceSession>,
    joined_ssid: Option<String>,
}

impl Onboarding {
    /// An onboarding service. `ble` and `phone_wifi` are what this phone can do (either may be
    /// missing); `store` keeps pending claims for resumption.
    pub fn new(
        account: Arc<Session>,
        binding: BindingClient,
        ble: Option<Arc<dyn BleCentral>>,
        phone_wifi: Option<Arc<dyn PhoneWifi>>,
        store: Arc<dyn SecretStore>,
        settings: OnboardingSettings,
    ) -> Self {
        let account = Some(Account { session: account, binding });
        Self { account, ble, phone_wifi, pending: PendingClaims::new(store), settings }
    }

    /// An onboarding service without an account: it runs [`BindingMode::None`] requests only
    /// (Wi-Fi only, no sign-in); a claim request fails with [`FlowError::AccountNeeded`].
    pub fn without_account(
        ble: Option<Arc<dyn BleCentral>>,
        phone_wifi: Option<Arc<dyn PhoneWifi>>,
        store: Arc<dyn SecretStore>,
        settings: OnboardingSettings,
    ) -> Self {
        Self { account: None, ble, phone_wifi, pending: PendingClaims::new(store), settings }
    }

    fn account(&self) -> Result<&Account, FlowError> {
        self.account.as_ref().ok_or(FlowError::AccountNeeded)
    }

    /// The settings in force.
    pub fn settings(&self) -> &OnboardingSettings {
        &self.settings
    }

    /// Claims pushed to devices whose binding is not confirmed yet.
    pub async fn pending_claims(&self) -> Result<Vec<PendingClaim>, FlowError> {
        self.pending.list().await
    }

    /// Runs the whole flow for one device. Cancelling `cancel` stops it at once: the device
    /// session is closed and the phone leaves the device's network.
    pub async fn run(
        &self,
        request: &OnboardingRequest,
        observer: &dyn FlowObserver,
        prompt: Option<&dyn WifiPasswordPrompt>,
        cancel: &CancellationToken,
    ) -> Result<Onboarded, FlowError> {
        let report = Reporter::new(observer);
        let mut held = Held::default();
        let outcome = tokio::select! {
            outcome = self.steps(request, &report, prompt, &mut held) => outcome,
            () = cancel.cancelled() => Err(FlowError::Cancelled),
        };
        self.release(&mut held).await;
        report.flush();
        if let Err(error) = &outcome {
            tracing::info!(device = %request.device_name, %error, "onboarding stopped");
        }
        outcome
    }

    /// Finishes every flow interrupted after its claim was pushed: waits for each device's
    /// redemption and confirms. Claims that can never complete are forgotten.
    pub async fn resume(
        &self,
        observer: &dyn FlowObserver,
        cancel: &CancellationToken,
    ) -> Result<Vec<Onboarded>, FlowError> {
        let report = Reporter::new(observer);
        let mut done = Vec::new();
        for claim in self.pending.list().await? {
            let claim_id = ClaimId::new(&claim.claim_id).map_err(|e| FlowError::CorruptState(e.into()))?;
            let device_id = DeviceId::new(&claim.device_id).map_err(|e| FlowError::CorruptState(e.into()))?;
            let key =
                IdempotencyKey::new(&claim.confirm_key).map_err(|e| FlowError::CorruptState(e.into()))?;
            let finished = tokio::select! {
                outcome = self.finish_binding(&report, &claim_id, &device_id, &key, self.redemption(&claim_id)) => outcome,
                () = cancel.cancelled() => Err(FlowError::Cancelled),
            };
            done.push(Onboarded { binding: Some(finished?), network: None });
        }
        Ok(done)
    }

    async fn release(&self, held: &mut Held) {
        if let Some(session) = held.session.take() {
            session.close().await;
        }
        if let (Some(ssid), Some(wifi)) = (held.joined_ssid.take(), &self.phone_wifi) {
            if let Err(error) = wifi.leave_network(ssid).await {
                tracing::warn!(%error, "could not leave the device's network");
            }
        }
    }

    /// Runs `work` as `step` within its time limit.
    async fn timed<T>(
        &self,
        step: FlowStep,
        work: impl Future<Output = Result<T, FlowError>>,
    ) -> Result<T, FlowError> {
        let limit = self.settings.timeouts.of(step);
        tokio::time::timeout(limit, work).await.map_err(|_| FlowError::TimedOut { step, limit })?
    }

    async fn steps(
        &self,
        request: &OnboardingRequest,
        report: &Reporter<'_>,
        prompt: Option<&dyn WifiPasswordPrompt>,
        held: &mut Held,
    ) -> Result<Onboarded, FlowError> {
        let claim = match request.binding {
            BindingMode::Claim => Some(self.sign_in_and_claim(report).await?),
            BindingMode::None => {
                report.skipped(FlowStep::SignIn, "Wi-Fi only: no sign-in needed");
                report.skipped(FlowStep::CreateClaim, "Wi-Fi only: no link code");
                None
            }
        };

        report.started(FlowStep::ConnectDevice);
        let transport = self.timed(FlowStep::ConnectDevice, self.connect(&request.target, held)).await?;
        let transport = report.traced(transport);
        report.finished(FlowStep::ConnectDevice, format!("Connected to {}", request.device_name));

        report.started(FlowStep::SecureSession);
        let session = self
            .timed(FlowStep::SecureSession, async {
                Ok(DeviceSession::open(transport, &request.credentials, &self.settings.policy).await?)
            })
            .await?;
        let supports_claims = session
            .info()
            .app_info
            .get(CLAIM_APP_LABEL)
            .is_some_and(|info| info.cap.iter().any(|c| c == CLAIM_CAPABILITY));
        let session = held.session.insert(session);
        if claim.is_some() && !supports_claims {
            return Err(FlowError::DeviceCannotBind);
        }
        report.finished(FlowStep::SecureSession, "Secure connection open");

        if request.scan_wifi && session.info().can_scan_wifi() {
            report.started(FlowStep::ScanWifi);
            let seen = self
                .timed(FlowStep::ScanWifi, async {
                    Ok(session.scan_wifi(ScanOptions::for_transport(session.transport().kind())).await?)
                })
                .await?;
            let visible = seen.iter().any(|network| network.ssid == request.wifi.ssid);
            let message = if visible {
                format!("The device sees {}", request.wifi.ssid)
            } else {
                format!("The device does not see {} right now; trying anyway", request.wifi.ssid)
            };
            report.finished(FlowStep::ScanWifi, message);
        } else {
            report.skipped(FlowStep::ScanWifi, "Device scan not needed");
        }

        let pushed = match &claim {
            Some(claim) => Some(self.push_claim(request, session, claim, report).await?),
            None => {
                report.skipped(FlowStep::PushClaim, "Wi-Fi only: no link code to send");
                None
            }
        };

        report.started(FlowStep::PushWifi);
        self.timed(FlowStep::PushWifi, async { Ok(session.configure_wifi(&request.wifi).await?) }).await?;
        report.finished(FlowStep::PushWifi, "Wi-Fi details sent");

        // Over BLE the phone keeps its internet: the long-poll on the claim answers the moment
        // the device redeems, which it does once online, so the status is read at once then.
        // Over SoftAP the phone is on the device's network, which has no internet.
        let redeemed = Notify::new();
        let phone_online = session.transport().kind() == TransportKind::Ble;
        let early_redemption = async {
            match &pushed {
                Some((claim_id, ..)) if phone_online => {
                    let outcome =
                        report.backend("long-poll: claim redeemed?", self.redemption(claim_id)).await;
                    redeemed.notify_one();
                    Some(outcome)
                }
                _ => None,
            }
        };
        let mut early_redemption = std::pin::pin!(early_redemption);
        let mut early_outcome = None;
        report.started(FlowStep::WaitDeviceOnline);
        let network = {
            let mut online =
                std::pin::pin!(self.wait_online(session, &request.wifi, report, prompt, &redeemed));
            loop {
                tokio::select! {
                    network = &mut online => break network?,
                    outcome = &mut early_redemption, if early_outcome.is_none() => early_outcome = Some(outcome),
                }
            }
        };
        report.finished(FlowStep::WaitDeviceOnline, format!("The device joined {}", network.ssid));

        report.started(FlowStep::LeaveDevice);
        self.timed(FlowStep::LeaveDevice, async {
            self.release(held).await;
            Ok(())
        })
        .await?;
        report.finished(FlowStep::LeaveDevice, "Back on the internet");

        let binding = match &pushed {
            Some((claim_id, device_id, confirm_key)) => {
                let redemption = async {
                    let early = match early_outcome {
                        Some(outcome) => outcome,
                        None => early_redemption.await,
                    };
                    match early {
                        Some(outcome) => outcome,
                        None => report.backend("long-poll: claim redeemed?", self.redemption(claim_id)).await,
                    }
                };
                Some(self.finish_binding(report, claim_id, device_id, confirm_key, redemption).await?)
            }
            None => {
                report.skipped(FlowStep::WaitRedemption, "Wi-Fi only: nothing to redeem");
                report.skipped(FlowStep::Confirm, "Wi-Fi only: the app binds the device itself");
                None
            }
        };
        Ok(Onboarded { binding, network: Some(network) })
    }

    /// Signs in if needed and creates the claim, while the phone still has internet.
    async fn sign_in_and_claim(&self, report: &Reporter<'_>) -> Result<Claim, FlowError> {
        let account = self.account()?;
        report.started(FlowStep::SignIn);
        let signed_in =
            self.timed(FlowStep::SignIn, async { Ok(account.session.is_signed_in().await?) }).await?;
        if signed_in {
            report.skipped(FlowStep::SignIn, "Already signed in");
        } else {
            self.timed(FlowStep::SignIn, async { Ok(account.session.sign_in().await?) }).await?;
            report.finished(FlowStep::SignIn, "Signed in");
        }

        report.started(FlowStep::CreateClaim);
        let claim_key = IdempotencyKey::generate();
        let claim = self
            .timed(FlowStep::CreateClaim, async {
                Ok(report.backend("create claim", account.binding.create_claim(&claim_key)).await?)
            })
            .await?;
        report.finished(FlowStep::CreateClaim, "Link code ready");
        Ok(claim)
    }

    /// Pushes the claim to the device and remembers it for resumption; returns what the
    /// confirmation needs.
    async fn push_claim(
        &self,
        request: &OnboardingRequest,
        session: &DeviceSession,
        claim: &Claim,
        report: &Reporter<'_>,
    ) -> Result<(ClaimId, DeviceId, IdempotencyKey), FlowError> {
        report.started(FlowStep::PushClaim);
        if claim.expires_at <= SystemTime::now() {
            return Err(FlowError::ClaimExpiredBeforePush);
        }
        let device_id = self
            .timed(FlowStep::PushClaim, async {
                let message = encode_claim_request(&claim.token, self.settings.device_backend_url.as_ref())?;
                let reply = session.request(CLAIM_ENDPOINT, message.expose()).await?;
                Ok(decode_claim_response(&reply)?)
            })
            .await?;
        let confirm_key = IdempotencyKey::generate();
        self.pending
            .add(PendingClaim {
                device_name: request.device_name.clone(),
                claim_id: claim.id.as_str().to_owned(),
                device_id: device_id.as_str().to_owned(),
                confirm_key: confirm_key.as_str().to_owned(),
            })
            .await?;
        report.finished(FlowStep::PushClaim, "Device linked to your account, pending confirmation");
        Ok((claim.id.clone(), device_id, confirm_key))
    }

    async fn connect(&self, target: &DeviceTarget, held: &mut Held) -> Result<Arc<dyn Transport>, FlowError> {
        let exchange_timeout = self.settings.timeouts.device;
        match target {
            DeviceTarget::Ble { peripheral_id, service } => {
                let ble =
                    self.ble.as_ref().ok_or(FlowError::MissingCapability(PhoneCapability::Bluetooth))?;
                let transport =
                    BleTransport::connect(ble.as_ref(), peripheral_id, *service, exchange_timeout)
                        .await
                        .map_err(DeviceError::from)?;
                Ok(Arc::new(transport))
            }
            DeviceTarget::SoftAp { ssid, passphrase, address } => {
                let wifi = self
                    .phone_wifi
                    .as_ref()
                    .ok_or(FlowError::MissingCapability(PhoneCapability::WifiJoining))?;
                wifi.join_network(ssid.clone(), passphrase.clone()).await?;
                held.joined_ssid = Some(ssid.clone());
                let transport = SoftApTransport::new(address, exchange_timeout).map_err(DeviceError::from)?;
                Ok(Arc::new(transport))
            }
        }
    }

    /// Waits until the device is online, reading its status at once when `redeemed` is
    /// notified; on a wrong password asks again and retries on the same session after a
    /// prov-ctrl reset.
    async fn wait_online(
        &self,
        session: &DeviceSession,
        wifi: &WifiCredentials,
        report: &Reporter<'_>,
        prompt: Option<&dyn WifiPasswordPrompt>,
        redeemed: &Notify,
    ) -> Result<ConnectedInfo, FlowError> {
        let mut credentials = wifi.clone();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let waited = self
                .timed(FlowStep::WaitDeviceOnline, async {
                    Ok(session
                        .follow_wifi(self.settings.polling, redeemed.notified(), |event| match event {
                            WifiWait::Status(WifiStatus::Connecting { attempts_remaining: Some(left) }) => {
                                report.progress(
                                    FlowStep::WaitDeviceOnline,
                                    format!("The device is still trying ({left} attempts left)"),
                                );
                            }
                            WifiWait::Sleeping(wait) => {
                                report.detail(DetailKind::Wait, || format!("{wait:?}"))
                            }
                            WifiWait::Status(status) => {
                                report.detail(DetailKind::Status, || status_name(status))
                            }
                        })
                        .await)
                })
                .await?;
            let failure = match waited {
                Ok(network) => return Ok(network),
                Err(DeviceError::Wifi(failure)) => failure,
                Err(other) => return Err(other.into()),
            };
            let retry = match (&failure, prompt) {
                (WifiFailure::AuthError, Some(prompt)) if attempt <= self.settings.max_password_retries => {
                    report.progress(FlowStep::WaitDeviceOnline, "The Wi-Fi password was not accepted");
                    prompt.ask_again(credentials.ssid.clone(), attempt).await
                }
                _ => None,
            };
            let Some(passphrase) = retry else {
                return Err(FlowError::WifiRejected { ssid: credentials.ssid.clone(), failure });
            };
            credentials.passphrase = passphrase;
            self.timed(FlowStep::PushWifi, async {
                session.clear_failed_attempt().await?;
                Ok(session.configure_wifi(&credentials).await?)
            })
            .await?;
            report.progress(FlowStep::WaitDeviceOnline, "Trying the new password");
        }
    }

    /// Waits until the backend says the device redeemed `claim_id` (a long-poll), within the
    /// redemption time limit.
    async fn redemption(&self, claim_id: &ClaimId) -> Result<(), FlowError> {
        let binding = &self.account()?.binding;
        binding.wait_for_redemption(claim_id, self.settings.timeouts.redemption).await?;
        Ok(())
    }

    /// Waits for the device's `redemption` and confirms; forgets the pending claim once it is
    /// confirmed or can never be.
    async fn finish_binding(
        &self,
        report: &Reporter<'_>,
        claim_id: &ClaimId,
        device_id: &DeviceId,
        confirm_key: &IdempotencyKey,
        redemption: impl Future<Output = Result<(), FlowError>>,
    ) -> Result<Binding, FlowError> {
        let binding = &self.account()?.binding;
        let outcome = async {
            report.started(FlowStep::WaitRedemption);
            redemption.await?;
            report.finished(FlowStep::WaitRedemption, "The device checked in");
            report.started(FlowStep::Confirm);
            let binding = self
                .timed(FlowStep::Confirm, async {
                    Ok(report.backend("confirm", binding.confirm(claim_id, device_id, confirm_key)).await?)
                })
                .await?;
            report.finished(FlowStep::Confirm, "The device is now yours");
            Ok::<_, FlowError>(binding)
        }
        .await;
        let settled = match &outcome {
            Ok(_) => true,
            Err(FlowError::Binding(error)) => error.requires_new_claim() || is_dead(error),
            Err(_) => false,
        };
        if settled {
            self.pending.remove(claim_id.as_str()).await?;
        }
        outcome
    }
}

fn is_dead(error: &BindingError) -> bool {
    matches!(error, BindingError::DeviceMismatch | BindingError::ClaimNotFound)
}

/// A status as the timeline shows it (no addresses).
fn status_name(status: &WifiStatus) -> String {
    match status {
        WifiStatus::Connecting { attempts_remaining: None } => "connecting".to_owned(),
        WifiStatus::Connecting { attempts_remaining: Some(left) } => {
            format!("connecting, {left} attempts left")
        }
        WifiStatus::Connected(info) => format!("connected to {}", info.ssid),
        WifiStatus::Failed(failure) => format!("failed: {failure}"),
        WifiStatus::Disconnected => "disconnected".to_owned(),
    }
}
