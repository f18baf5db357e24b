//! The onboarding service and one run of the flow, step by step: sign in and claim, connect,
//! secure session, scan, push claim and Wi-Fi, wait online (asking for the password again),
//! leave the device, wait for redemption, confirm; and resuming interrupted runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::reporter::Reporter;
use super::{
    BindingMode, Confirmation, DetailKind, DeviceTarget, FlowError, FlowObserver, FlowStep, NetworkChooser,
    Onboarded, OnboardingRequest, OnboardingSettings, PendingClaim, PendingClaims, WifiPasswordPrompt,
};

use crate::auth::Session;
use crate::binding::{Binding, BindingClient, BindingError, Claim, ClaimId, DeviceId, IdempotencyKey};
use crate::device::{ConnectedInfo, WifiCredentials};
use crate::onboarding::{
    ChannelProtection, Connector, DeviceHandle, JoinedAccessPoint, Link, NetworkList, OpenRequest,
    ProvisionOutcome, ProvisionStatus,
};
use crate::platform::ble::BleCentral;
use crate::platform::phone_wifi::PhoneWifi;
use crate::platform::secret_store::SecretStore;
use crate::platform::service_browser::ServiceBrowser;
use crate::security::ClientCredentials;

/// The onboarding service: what the flow needs from the app, shared by every run.
pub struct Onboarding {
    account: Option<Account>,
    connector: Connector,
    pending: PendingClaims,
    settings: OnboardingSettings,
}

/// The customer's account: the sign-in session and the binding backend it authorises.
struct Account {
    session: Arc<Session>,
    binding: BindingClient,
}

/// A claim pushed to its device: what waiting for its redemption and confirming it need.
#[derive(Debug, Clone)]
pub(super) struct Pushed {
    /// The claim.
    pub(super) claim_id: ClaimId,
    /// The device id the device reported over the secure session: the only one confirmed.
    pub(super) device_id: DeviceId,
    /// The confirmation's idempotency key, reused on every retry.
    pub(super) confirm_key: IdempotencyKey,
    /// Whether the backend's confirm waits for the redemption (`Claim::confirm_waits`).
    pub(super) confirm_waits: bool,
}

/// What a run holds that must be released however it ends.
#[derive(Default)]
pub(super) struct Held {
    pub(super) device: Option<Box<dyn DeviceHandle>>,
    pub(super) access_point: Option<Arc<JoinedAccessPoint>>,
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
        Self::with(account, ble, phone_wifi, store, settings)
    }

    /// An onboarding service without an account: it runs [`BindingMode::None`] requests only
    /// (Wi-Fi only, no sign-in); a claim request fails with [`FlowError::AccountNeeded`].
    pub fn without_account(
        ble: Option<Arc<dyn BleCentral>>,
        phone_wifi: Option<Arc<dyn PhoneWifi>>,
        store: Arc<dyn SecretStore>,
        settings: OnboardingSettings,
    ) -> Self {
        Self::with(None, ble, phone_wifi, store, settings)
    }

    fn with(
        account: Option<Account>,
        ble: Option<Arc<dyn BleCentral>>,
        phone_wifi: Option<Arc<dyn PhoneWifi>>,
        store: Arc<dyn SecretStore>,
        settings: OnboardingSettings,
    ) -> Self {
        let connector = Connector::new(ble, phone_wifi, settings.timeouts.device);
        Self { account, connector, pending: PendingClaims::new(store), settings }
    }

    /// The same service, able to look for devices that do not report their join (captive-portal
    /// devices) on the home network with `browser`.
    pub fn with_service_browser(mut self, browser: Arc<dyn ServiceBrowser>) -> Self {
        self.connector = self.connector.with_service_browser(browser);
        self
    }

    /// What reaches devices for this service, for apps that run the steps themselves.
    pub fn connector(&self) -> &Connector {
        &self.connector
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
        self.run_choosing(request, observer, prompt, None, cancel).await
    }

    /// Runs the whole flow as `run` does; when the request names no network, the device's scan
    /// goes to `chooser` and the person's choice is used.
    pub async fn run_choosing(
        &self,
        request: &OnboardingRequest,
        observer: &dyn FlowObserver,
        prompt: Option<&dyn WifiPasswordPrompt>,
        chooser: Option<&dyn NetworkChooser>,
        cancel: &CancellationToken,
    ) -> Result<Onboarded, FlowError> {
        let report = Reporter::new(observer);
        let mut held = Held::default();
        let outcome = tokio::select! {
            outcome = self.steps(request, &report, prompt, chooser, &mut held) => outcome,
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
            let corrupt = |e: crate::binding::InvalidValue| FlowError::CorruptState(e.into());
            let pushed = Pushed {
                claim_id: ClaimId::new(&claim.claim_id).map_err(corrupt)?,
                device_id: DeviceId::new(&claim.device_id).map_err(corrupt)?,
                confirm_key: IdempotencyKey::new(&claim.confirm_key).map_err(corrupt)?,
                confirm_waits: claim.confirm_waits,
            };
            let finished = tokio::select! {
                outcome = self.finish_binding(&report, &pushed, self.redemption(&report, &pushed)) => outcome,
                () = cancel.cancelled() => Err(FlowError::Cancelled),
            };
            done.push(Onboarded {
                binding: Some(finished?),
                network: None,
                confirmation: Confirmation::Redeemed,
                device: None,
                code: None,
            });
        }
        Ok(done)
    }

    pub(super) async fn release(&self, held: &mut Held) {
        if let Some(device) = held.device.take() {
            device.close().await;
        }
        if let Some(access_point) = held.access_point.take() {
            access_point.leave().await;
        }
    }

    /// Runs `work` as `step` within its time limit.
    pub(super) async fn timed<T>(
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
        chooser: Option<&dyn NetworkChooser>,
        held: &mut Held,
    ) -> Result<Onboarded, FlowError> {
        if request.wifi.is_none() && chooser.is_none() {
            return Err(FlowError::NetworkNeeded);
        }
        let open = self.open_request(&request.device_name, &request.target, &request.credentials);
        let (claim, device, phone_online) = match request.binding {
            // Over BLE the phone keeps its internet: the claim is created while the phone
            // connects to the device and opens the session, which report their steps after it.
            BindingMode::Claim if matches!(request.target, DeviceTarget::Ble { .. }) => {
                self.sign_in(report).await?;
                report.started(FlowStep::CreateClaim);
                let connected = AtomicBool::new(false);
                let reach = async {
                    let link = self.link_device(&open, report, &mut *held).await?;
                    connected.store(true, Ordering::Relaxed);
                    let phone_online = link.keeps_internet();
                    Ok::<_, FlowError>((self.open_session(&open, link, held).await?, phone_online))
                };
                let (claim, reached) = tokio::join!(self.create_claim(report), reach);
                let claim = claim?;
                report.started(FlowStep::ConnectDevice);
                if connected.load(Ordering::Relaxed) {
                    report.finished(FlowStep::ConnectDevice, format!("Connected to {}", request.device_name));
                    report.started(FlowStep::SecureSession);
                }
                let (device, phone_online) = reached?;
                self.check_opened(device, true, report)?;
                (Some(claim), device, phone_online)
            }
            binding => {
                let claim = self.claim_if_asked(binding, report).await?;
                let (device, phone_online) = self.open_device(&open, claim.is_some(), report, held).await?;
                (claim, device, phone_online)
            }
        };
        let details = device.details().clone();

        let wifi = match (&request.wifi, chooser) {
            (Some(wifi), _) => {
                self.check_network(device, wifi, request.scan_wifi, report).await?;
                wifi.clone()
            }
            (None, Some(chooser)) => self.choose_network(device, chooser, report).await?,
            (None, None) => return Err(FlowError::NetworkNeeded),
        };

        let pushed = match &claim {
            Some(claim) => Some(self.push_claim(&request.device_name, device, claim, report).await?),
            None => {
                report.skipped(FlowStep::PushClaim, "Wi-Fi only: no link code to send");
                None
            }
        };

        self.push_wifi(device, &wifi, report).await?;

        // Over BLE the phone keeps its internet: the long-poll on the claim (with a backend whose
        // confirm waits, the confirm itself) answers the moment the device redeems, which it does
        // once online, so the status is read at once then.
        // It opens when a status read finds the device still joining (the first read waits out
        // the firmware's apply delay and a quick join, before which no device redeems), so a
        // join that has failed by then leaves no claim read behind. Over SoftAP the phone is on
        // the device's network, which has no internet.
        let redeemed = Notify::new();
        let joining = Notify::new();
        let early_redemption = async {
            match &pushed {
                Some(pushed) if phone_online => {
                    joining.notified().await;
                    let outcome = self.redemption(report, pushed).await;
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
            let mut online = std::pin::pin!(self.wait_online(
                device,
                &wifi,
                report,
                prompt,
                pushed.is_some(),
                (&joining, &redeemed)
            ));
            loop {
                tokio::select! {
                    network = &mut online => break network?,
                    outcome = &mut early_redemption, if early_outcome.is_none() => early_outcome = Some(outcome),
                }
            }
        };
        // Joined (or unconfirmed) without a read that found it joining: the claim is read now.
        joining.notify_one();
        report_online(report, network.as_ref(), pushed.is_some());

        self.leave_device(held, report).await?;

        let binding = match &pushed {
            Some(pushed) => {
                let redemption = async {
                    let early = match early_outcome {
                        Some(outcome) => outcome,
                        None => early_redemption.await,
                    };
                    match early {
                        Some(outcome) => outcome,
                        None => self.redemption(report, pushed).await,
                    }
                };
                Some(self.finish_binding(report, pushed, redemption).await?)
            }
            None => {
                report.skipped(FlowStep::WaitRedemption, "Wi-Fi only: nothing to redeem");
                report.skipped(FlowStep::Confirm, "Wi-Fi only: the app binds the device itself");
                None
            }
        };
        let confirmation = match (&network, &binding) {
            (Some(_), _) => Confirmation::Reported,
            (None, Some(_)) => Confirmation::Redeemed,
            (None, None) => Confirmation::Unconfirmed,
        };
        Ok(Onboarded { binding, network, confirmation, device: Some(details), code: request.code.clone() })
    }

    /// What opening `device_name`'s session needs, under this service's security policy.
    pub(super) fn open_request(
        &self,
        device_name: &str,
        target: &DeviceTarget,
        credentials: &ClientCredentials,
    ) -> OpenRequest {
        OpenRequest {
            device_name: device_name.to_owned(),
            target: target.clone(),
            credentials: credentials.clone(),
            policy: self.settings.policy,
        }
    }

    /// Reaches the device and opens its session into `held` (so a failure later still releases
    /// them): the connect and secure-session steps. Refuses a device that cannot take a claim
    /// when `claiming`, and a channel the security policy refuses. Returns whether the phone
    /// keeps its internet meanwhile (BLE), with the device.
    pub(super) async fn open_device<'h>(
        &self,
        open: &OpenRequest,
        claiming: bool,
        report: &Reporter<'_>,
        held: &'h mut Held,
    ) -> Result<(&'h dyn DeviceHandle, bool), FlowError> {
        report.started(FlowStep::ConnectDevice);
        let link = self.link_device(open, report, held).await?;
        let phone_online = link.keeps_internet();
        report.finished(FlowStep::ConnectDevice, format!("Connected to {}", open.device_name));

        report.started(FlowStep::SecureSession);
        let device = self.open_session(open, link, held).await?;
        self.check_opened(device, claiming, report)?;
        Ok((device, phone_online))
    }

    /// Ends the secure-session step on an opened device: refuses a device that cannot take a
    /// claim when `claiming`, and a channel the security policy refuses; warns of cleartext.
    fn check_opened(
        &self,
        device: &dyn DeviceHandle,
        claiming: bool,
        report: &Reporter<'_>,
    ) -> Result<(), FlowError> {
        if claiming && !device.details().supports(BindingMode::Claim) {
            return Err(FlowError::DeviceCannotBind);
        }
        if let Some(warning) = self.settings.policy.check_channel(device.details())? {
            report.warning(FlowStep::SecureSession, warning);
        }
        let opened = match device.details().protection {
            ChannelProtection::Encrypted => "Secure connection open",
            ChannelProtection::Cleartext => "Connected (the connection is not encrypted)",
        };
        report.finished(FlowStep::SecureSession, opened);
        Ok(())
    }

    /// The push-Wi-Fi step: sends the home network's credentials and tells the device to join.
    pub(super) async fn push_wifi(
        &self,
        device: &dyn DeviceHandle,
        wifi: &WifiCredentials,
        report: &Reporter<'_>,
    ) -> Result<(), FlowError> {
        report.started(FlowStep::PushWifi);
        self.timed(FlowStep::PushWifi, device.send_wifi(wifi)).await?;
        report.finished(FlowStep::PushWifi, "Wi-Fi details sent");
        Ok(())
    }

    /// The leave step: closes the device's session and leaves its access point.
    pub(super) async fn leave_device(&self, held: &mut Held, report: &Reporter<'_>) -> Result<(), FlowError> {
        report.started(FlowStep::LeaveDevice);
        self.timed(FlowStep::LeaveDevice, async {
            self.release(held).await;
            Ok(())
        })
        .await?;
        report.finished(FlowStep::LeaveDevice, "Back on the internet");
        Ok(())
    }

    /// Lets the device scan, when asked and it can, to tell whether it sees the network.
    async fn check_network(
        &self,
        device: &dyn DeviceHandle,
        wifi: &WifiCredentials,
        scan: bool,
        report: &Reporter<'_>,
    ) -> Result<(), FlowError> {
        if !scan || !device.details().can_scan {
            report.skipped(FlowStep::ScanWifi, "Device scan not needed");
            return Ok(());
        }
        report.started(FlowStep::ScanWifi);
        let networks = self.timed(FlowStep::ScanWifi, device.scan_networks()).await?;
        let message = if networks.find(&wifi.ssid).is_some() {
            format!("The device sees {}", wifi.ssid)
        } else {
            format!("The device does not see {} right now; trying anyway", wifi.ssid)
        };
        report.finished(FlowStep::ScanWifi, message);
        Ok(())
    }

    /// Lists the networks the device sees (none when it cannot scan: the person enters a name)
    /// and lets the person choose; cancelling the choice cancels the run.
    async fn choose_network(
        &self,
        device: &dyn DeviceHandle,
        chooser: &dyn NetworkChooser,
        report: &Reporter<'_>,
    ) -> Result<WifiCredentials, FlowError> {
        let networks = self.list_networks(device, report).await?;
        let chosen = chooser.choose(networks).await.ok_or(FlowError::Cancelled)?;
        Ok(WifiCredentials::new(chosen.ssid, chosen.passphrase))
    }

    /// The networks the device sees, as the scan step (none when it cannot scan: the person
    /// enters a name).
    pub(super) async fn list_networks(
        &self,
        device: &dyn DeviceHandle,
        report: &Reporter<'_>,
    ) -> Result<NetworkList, FlowError> {
        report.started(FlowStep::ScanWifi);
        let networks = if device.details().can_scan {
            self.timed(FlowStep::ScanWifi, device.scan_networks()).await?
        } else {
            NetworkList::default()
        };
        report.finished(FlowStep::ScanWifi, format!("The device sees {} networks", networks.networks.len()));
        Ok(networks)
    }

    /// The claim when `binding` asks for one (signing in first), made while the phone still has
    /// internet: before it joins a device's access point.
    pub(super) async fn claim_if_asked(
        &self,
        binding: BindingMode,
        report: &Reporter<'_>,
    ) -> Result<Option<Claim>, FlowError> {
        match binding {
            BindingMode::Claim => {
                self.sign_in(report).await?;
                report.started(FlowStep::CreateClaim);
                Ok(Some(self.create_claim(report).await?))
            }
            BindingMode::None => {
                report.skipped(FlowStep::SignIn, "Wi-Fi only: no sign-in needed");
                report.skipped(FlowStep::CreateClaim, "Wi-Fi only: no link code");
                Ok(None)
            }
        }
    }

    /// Signs in if needed.
    async fn sign_in(&self, report: &Reporter<'_>) -> Result<(), FlowError> {
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
        Ok(())
    }

    /// Creates the claim, while the phone still has internet (the step has started).
    async fn create_claim(&self, report: &Reporter<'_>) -> Result<Claim, FlowError> {
        let account = self.account()?;
        let claim_key = IdempotencyKey::generate();
        let claim = self
            .timed(FlowStep::CreateClaim, async {
                Ok(report.backend("create claim", account.binding.create_claim(&claim_key)).await?)
            })
            .await?;
        report.finished(FlowStep::CreateClaim, "Link code ready");
        Ok(claim)
    }

    /// Connects to the device (the phone joins its access point, held for release); returns
    /// the link, traced for the timeline.
    async fn link_device(
        &self,
        open: &OpenRequest,
        report: &Reporter<'_>,
        held: &mut Held,
    ) -> Result<Link, FlowError> {
        let link = self.timed(FlowStep::ConnectDevice, self.connector.link(&open.target)).await?;
        let link = link.wrap_transport(|transport| report.traced(transport));
        held.access_point = link.access_point();
        Ok(link)
    }

    /// Opens the device's session on `link`; the device is held for release the moment it is
    /// open (a run cancelled while its claim is still being created closes it too).
    async fn open_session<'h>(
        &self,
        open: &OpenRequest,
        link: Link,
        held: &'h mut Held,
    ) -> Result<&'h dyn DeviceHandle, FlowError> {
        let device = self.timed(FlowStep::SecureSession, self.connector.open(link, open)).await?;
        Ok(&**held.device.insert(device))
    }

    /// Pushes the claim to the device and remembers it for resumption; returns what the
    /// confirmation needs.
    pub(super) async fn push_claim(
        &self,
        device_name: &str,
        device: &dyn DeviceHandle,
        claim: &Claim,
        report: &Reporter<'_>,
    ) -> Result<Pushed, FlowError> {
        report.started(FlowStep::PushClaim);
        if claim.expires_at <= self.account()?.binding.clock().now() {
            return Err(FlowError::ClaimExpiredBeforePush);
        }
        let backend_url = self.settings.device_backend_url.as_ref();
        let device_id =
            self.timed(FlowStep::PushClaim, device.hand_over_claim(&claim.token, backend_url)).await?;
        let confirm_key = IdempotencyKey::generate();
        self.pending
            .add(PendingClaim {
                device_name: device_name.to_owned(),
                claim_id: claim.id.as_str().to_owned(),
                device_id: device_id.as_str().to_owned(),
                confirm_key: confirm_key.as_str().to_owned(),
                confirm_waits: claim.confirm_waits,
            })
            .await?;
        report.finished(FlowStep::PushClaim, "Device linked to your account, pending confirmation");
        Ok(Pushed { claim_id: claim.id.clone(), device_id, confirm_key, confirm_waits: claim.confirm_waits })
    }

    /// Waits until the device is online; on a wrong password asks again and retries on the same
    /// session after a prov-ctrl reset. When the link drops before the device reports, the
    /// outcome is unconfirmed (`None`): with a claim the redemption decides, without one the
    /// device is reached again to read its status. `joining` is told when a read finds the
    /// device still joining; `redeemed` tells when the backend saw it redeem (so it is online).
    pub(super) async fn wait_online(
        &self,
        device: &dyn DeviceHandle,
        wifi: &WifiCredentials,
        report: &Reporter<'_>,
        prompt: Option<&dyn WifiPasswordPrompt>,
        claimed: bool,
        (joining, redeemed): (&Notify, &Notify),
    ) -> Result<Option<ConnectedInfo>, FlowError> {
        let on_status = |status: ProvisionStatus| {
            if let ProvisionStatus::Connecting { .. } = status {
                joining.notify_one();
            }
            match status {
                ProvisionStatus::NextReadIn { wait } => {
                    report.detail(DetailKind::Wait, || format!("{wait:?}"))
                }
                ProvisionStatus::AwaitingAuthorization { .. } => {
                    report.detail(DetailKind::Status, || "awaiting authorization".to_owned())
                }
                ProvisionStatus::Connecting { .. } => {
                    report.detail(DetailKind::Status, || "connecting".to_owned())
                }
            }
            match status {
                ProvisionStatus::AwaitingAuthorization { timeout } => report.progress(
                    FlowStep::WaitDeviceOnline,
                    format!("Press the button on the device (within {} s)", timeout.as_secs()),
                ),
                ProvisionStatus::Connecting { attempts_remaining: Some(left) } => report.progress(
                    FlowStep::WaitDeviceOnline,
                    format!("The device is still trying ({left} attempts left)"),
                ),
                ProvisionStatus::Connecting { attempts_remaining: None }
                | ProvisionStatus::NextReadIn { .. } => {}
            }
        };
        let polling = self.settings.polling;
        let mut credentials = wifi.clone();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut outcome = self
                .timed(
                    FlowStep::WaitDeviceOnline,
                    device.wait_wifi(polling, Box::pin(redeemed.notified()), &on_status),
                )
                .await?;
            if outcome == ProvisionOutcome::Unconfirmed && !claimed {
                report.progress(
                    FlowStep::WaitDeviceOnline,
                    "The connection to the device dropped; reaching it again",
                );
                outcome = self.timed(FlowStep::WaitDeviceOnline, device.recheck(polling, &on_status)).await?;
            }
            let failure = match outcome {
                ProvisionOutcome::Connected(network) => {
                    report.detail(DetailKind::Status, || format!("connected to {}", network.ssid));
                    return Ok(Some(network));
                }
                ProvisionOutcome::Unconfirmed => return Ok(None),
                ProvisionOutcome::Failed(failure) => failure,
            };
            let retry = match (&failure, prompt) {
                (crate::device::WifiFailure::AuthError, Some(prompt))
                    if attempt <= self.settings.max_password_retries =>
                {
                    report.progress(FlowStep::WaitDeviceOnline, "The Wi-Fi password was not accepted");
                    prompt.ask_again(credentials.ssid.clone(), attempt).await
                }
                _ => None,
            };
            let Some(passphrase) = retry else {
                return Err(FlowError::WifiRejected { ssid: credentials.ssid.clone(), failure });
            };
            credentials.passphrase = passphrase;
            self.timed(FlowStep::PushWifi, device.send_wifi(&credentials)).await?;
            report.progress(FlowStep::WaitDeviceOnline, "Trying the new password");
        }
    }

    /// Waits until the backend says the device redeemed the claim (a long-poll), within the
    /// redemption time limit. A backend whose confirm waits is asked to confirm in that same
    /// call (one round trip after the redemption instead of two): its binding is returned.
    pub(super) async fn redemption(
        &self,
        report: &Reporter<'_>,
        pushed: &Pushed,
    ) -> Result<Option<Binding>, FlowError> {
        let binding = &self.account()?.binding;
        let limit = self.settings.timeouts.redemption;
        if pushed.confirm_waits {
            let confirmed = binding.confirm_when_redeemed(
                &pushed.claim_id,
                &pushed.device_id,
                &pushed.confirm_key,
                limit,
            );
            return Ok(Some(report.backend("confirm once redeemed (long-poll)", confirmed).await?));
        }
        report
            .backend("long-poll: claim redeemed?", binding.wait_for_redemption(&pushed.claim_id, limit))
            .await?;
        Ok(None)
    }

    /// Waits for the device's `redemption` and confirms, unless the redemption's call confirmed
    /// already; forgets the pending claim once it is confirmed or can never be.
    pub(super) async fn finish_binding(
        &self,
        report: &Reporter<'_>,
        pushed: &Pushed,
        redemption: impl Future<Output = Result<Option<Binding>, FlowError>>,
    ) -> Result<Binding, FlowError> {
        let binding = &self.account()?.binding;
        let outcome = async {
            report.started(FlowStep::WaitRedemption);
            let confirmed = redemption.await?;
            report.finished(FlowStep::WaitRedemption, "The device checked in");
            report.started(FlowStep::Confirm);
            let bound = match confirmed {
                Some(bound) => bound,
                None => {
                    let Pushed { claim_id, device_id, confirm_key, .. } = pushed;
                    let confirm = binding.confirm(claim_id, device_id, confirm_key);
                    self.timed(FlowStep::Confirm, async { Ok(report.backend("confirm", confirm).await?) })
                        .await?
                }
            };
            report.finished(FlowStep::Confirm, "The device is now yours");
            Ok::<_, FlowError>(bound)
        }
        .await;
        let settled = match &outcome {
            Ok(_) => true,
            Err(FlowError::Binding(error)) => error.requires_new_claim() || is_dead(error),
            Err(_) => false,
        };
        if settled {
            self.pending.remove(pushed.claim_id.as_str()).await?;
        }
        outcome
    }
}

/// Ends the wait-online step with what is known of the device's join.
pub(super) fn report_online(report: &Reporter<'_>, network: Option<&ConnectedInfo>, claimed: bool) {
    let message = match network {
        Some(network) => format!("The device joined {}", network.ssid),
        None if claimed => "The connection to the device dropped before it reported; its check-in at \
                            your account will tell"
            .to_owned(),
        None => "The device could not be reached again to confirm; check its light or its app".to_owned(),
    };
    report.finished(FlowStep::WaitDeviceOnline, message);
}

fn is_dead(error: &BindingError) -> bool {
    matches!(error, BindingError::DeviceMismatch | BindingError::ClaimNotFound)
}
