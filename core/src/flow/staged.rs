//! The staged onboarding, for apps with screens of their own: connect to a device (the claim is
//! made first when the binding mode asks for it, while the phone still has internet) → its
//! details → the networks it sees → provision with status, again after a wrong password →
//! bind (claim mode) → close. It runs the one-call flow's own steps (`run.rs`), with the same
//! events, time limits and rules; only the order is the app's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;

use super::reporter::Reporter;
use super::run::{Held, Pushed, report_online};
use super::{BindingMode, DeviceTarget, FlowError, FlowObserver, FlowStep, Onboarding};
use crate::binding::{Binding, Claim};
use crate::device::{ConnectedInfo, WifiCredentials};
use crate::onboarding::{DeviceDetails, NetworkList};
use crate::security::ClientCredentials;

/// The device a staged session connects to, and how to bind it.
#[derive(Debug, Clone)]
pub struct SetupRequest {
    /// The device's service name (for messages and the pending-claim record).
    pub device_name: String,
    /// How to reach it.
    pub target: DeviceTarget,
    /// Its proof of possession or security 2 credentials.
    pub credentials: ClientCredentials,
    /// How to bind it to the customer.
    pub binding: BindingMode,
}

/// A device connected step by step (see `Onboarding::connect`). One step runs at a time (a
/// second call waits for the first); a step that fails leaves the session open, to retry it or
/// close. Cancelling the token given at connect, or `close`, stops the running step with
/// `FlowError::Cancelled` and releases the device; later steps fail with
/// `FlowError::SessionClosed`. Dropping the session without `close` leaves the phone on the
/// device's access point: always close it.
pub struct SetupSession {
    onboarding: Arc<Onboarding>,
    device_name: String,
    details: DeviceDetails,
    claim: Option<Claim>,
    state: Mutex<State>,
    stop: CancellationToken,
    closed: AtomicBool,
}

/// What the steps share, one step at a time.
#[derive(Default)]
struct State {
    held: Held,
    pushed: Option<Pushed>,
}

impl Onboarding {
    /// Connects to a device for a staged onboarding: signs in and creates the claim first when
    /// `request.binding` is `BindingMode::Claim` (before the phone joins the device's access
    /// point), then reaches the device and opens its session. Reports the steps to `observer`.
    /// Cancelling `cancel` stops the connection, or later the session's running step.
    pub async fn connect(
        self: &Arc<Self>,
        request: &SetupRequest,
        observer: &dyn FlowObserver,
        cancel: &CancellationToken,
    ) -> Result<SetupSession, FlowError> {
        let report = Reporter::new(observer);
        let stop = cancel.child_token();
        let mut held = Held::default();
        let opened = async {
            let claim = self.claim_if_asked(request.binding, &report).await?;
            let open = self.open_request(&request.device_name, &request.target, &request.credentials);
            let (device, _) = self.open_device(&open, claim.is_some(), &report, &mut held).await?;
            Ok((claim, device.details().clone()))
        };
        let outcome = tokio::select! {
            outcome = opened => outcome,
            () = stop.cancelled() => Err(FlowError::Cancelled),
        };
        report.flush();
        match outcome {
            Ok((claim, details)) => Ok(SetupSession {
                onboarding: Arc::clone(self),
                device_name: request.device_name.clone(),
                details,
                claim,
                state: Mutex::new(State { held, pushed: None }),
                stop,
                closed: AtomicBool::new(false),
            }),
            Err(error) => {
                self.release(&mut held).await;
                Err(error)
            }
        }
    }
}

impl SetupSession {
    /// What the device says about itself: protocol and version, security, capabilities, the
    /// binding modes it supports.
    pub fn details(&self) -> &DeviceDetails {
        &self.details
    }

    /// How this session binds the device.
    pub fn binding(&self) -> BindingMode {
        if self.claim.is_some() { BindingMode::Claim } else { BindingMode::None }
    }

    /// The networks the device sees, for a picker (empty when the device cannot scan: the
    /// person enters a network by name, as for hidden ones).
    pub async fn scan_networks(&self, observer: &dyn FlowObserver) -> Result<NetworkList, FlowError> {
        let report = Reporter::new(observer);
        self.guarded(&report, async {
            let state = self.state.lock().await;
            let device = state.held.device.as_deref().ok_or(FlowError::SessionClosed)?;
            self.onboarding.list_networks(device, &report).await
        })
        .await
    }

    /// Sends `wifi` to the device (after the claim, the first time, in claim mode) and follows
    /// it until it joined (its connection) or the link dropped before it reported (`None`:
    /// unconfirmed; in claim mode `bind` decides). A wrong password is
    /// `FlowError::WifiRejected`: call `provision` again with the corrected one.
    pub async fn provision(
        &self,
        wifi: &WifiCredentials,
        observer: &dyn FlowObserver,
    ) -> Result<Option<ConnectedInfo>, FlowError> {
        let report = Reporter::new(observer);
        self.guarded(&report, async {
            let mut state = self.state.lock().await;
            let State { held, pushed } = &mut *state;
            let device = held.device.as_deref().ok_or(FlowError::SessionClosed)?;
            let onboarding = &self.onboarding;
            match (&self.claim, &pushed) {
                (Some(claim), None) => {
                    *pushed = Some(onboarding.push_claim(&self.device_name, device, claim, &report).await?);
                }
                (Some(_), Some(_)) => {
                    report.skipped(FlowStep::PushClaim, "The device already has its link code")
                }
                (None, _) => report.skipped(FlowStep::PushClaim, "Wi-Fi only: no link code to send"),
            }
            onboarding.push_wifi(device, wifi, &report).await?;
            report.started(FlowStep::WaitDeviceOnline);
            let claimed = self.claim.is_some();
            let network = onboarding
                .wait_online(device, wifi, &report, None, claimed, (&Notify::new(), &Notify::new()))
                .await?;
            report_online(&report, network.as_ref(), claimed);
            Ok(network)
        })
        .await
    }

    /// Claim mode, after `provision`: leaves the device (the phone needs its internet back),
    /// waits until the device redeemed its claim at the backend and confirms the binding.
    pub async fn bind(&self, observer: &dyn FlowObserver) -> Result<Binding, FlowError> {
        let report = Reporter::new(observer);
        self.guarded(&report, async {
            let mut state = self.state.lock().await;
            if self.claim.is_none() {
                return Err(FlowError::StepUnavailable(
                    "this session is Wi-Fi only (BindingMode::None): there is nothing to bind",
                ));
            }
            let Some(pushed) = state.pushed.clone() else {
                return Err(FlowError::StepUnavailable(
                    "bind comes after provision: send the device its Wi-Fi first",
                ));
            };
            let onboarding = &self.onboarding;
            onboarding.leave_device(&mut state.held, &report).await?;
            let redemption = onboarding.redemption(&report, &pushed);
            onboarding.finish_binding(&report, &pushed, redemption).await
        })
        .await
    }

    /// Ends the session at any step: stops a running step, closes the device's session and
    /// leaves its access point. Idempotent.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.stop.cancel();
        let mut state = self.state.lock().await;
        self.onboarding.release(&mut state.held).await;
    }

    /// Runs one step unless the session is closed; cancelled, it closes the session.
    async fn guarded<T>(
        &self,
        report: &Reporter<'_>,
        step: impl Future<Output = Result<T, FlowError>>,
    ) -> Result<T, FlowError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(FlowError::SessionClosed);
        }
        let outcome = tokio::select! {
            biased;
            () = self.stop.cancelled() => Err(FlowError::Cancelled),
            outcome = step => outcome,
        };
        if matches!(outcome, Err(FlowError::Cancelled)) {
            self.close().await;
        }
        report.flush();
        outcome
    }
}
