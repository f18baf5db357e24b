//! The fault matrix: every flow step × every fault the simulated world can inject there, each
//! asserting the typed outcome, that nothing leaks (no task, no socket, the phone back on its own
//! network) and that a retry afterwards succeeds. Prints the matrix.
//!
//! One test in its own binary (not a module of `integration`): the socket count is the
//! process's, so no other test may run beside it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use unbox_core::auth::{AuthClient, ClientConfig, Session};
use unbox_core::binding::{BindingClient, RetryPolicy};
use unbox_core::device::StatusPolling;
use unbox_core::flow::{
    DeviceTarget, FlowError, FlowEvent, FlowEventKind, FlowObserver, FlowStep, Onboarding,
    OnboardingSettings, StepTimeouts,
};
use unbox_core::platform::authorization::{AgentError, AuthorizationAgent};
use unbox_core::platform::secret_store::{MemorySecretStore, SecretStore};
use unbox_core::secret::SecretString;
use unbox_core::security::ClientCredentials;
use unbox_sim::backend::Fault as BackendFault;
use unbox_sim::browser::AutoConsentBrowser;
use unbox_sim::device::{ClaimEndpoint, Faults, SimDevice};
use unbox_sim::idp::DEFAULT_CLIENT_ID;
use unbox_sim::softap::SoftApServer;
use unbox_sim::world::{APP_REDIRECT_URI, Link, SimWorld, WorldOptions};
use url::Url;

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The device's handler fails at the step's first exchange: the link drops.
    Drop,
    /// The device stalls the step's first exchange past the step timeout.
    Delay,
    /// A byte of the reply to the step's first exchange is flipped.
    Corrupt,
    /// The device reboots at the step's first exchange.
    Reboot,
    /// The device code (security 2 password) is wrong.
    WrongCode,
    /// The home Wi-Fi password is wrong.
    WrongWifiPassword,
    /// The home Wi-Fi password is wrong and the device is reached over BLE, where the phone
    /// keeps its internet and the long-poll on the claim is open while the device joins.
    WrongWifiPasswordOverBle,
    /// The home network is not in the device's range.
    UnknownNetwork,
    /// The device's access point is not there.
    AccessPointMissing,
    /// The backend answers 500 twice, then works.
    Backend5xxThenRecovery,
    /// The backend (and provider) stop answering when the step starts.
    BackendDown,
    /// The backend stops answering when the claim is being created over BLE, while the phone
    /// connects to the device and opens its session.
    BackendDownOverBle,
    /// The claim expires when the step starts.
    ClaimExpired,
    /// The sign-in callback carries another `state`.
    StateMismatch,
    /// The person cancels when the step starts.
    Cancel,
}

/// The device exchange each device step starts with (SoftAP, scanning): 1 version, 2-3
/// handshake, 4-6 scan (start, status, one page), 7 claim, 8 set config, 9 apply, 10 status.
fn first_exchange(step: FlowStep) -> Option<u32> {
    match step {
        FlowStep::SecureSession => Some(2),
        FlowStep::ScanWifi => Some(4),
        FlowStep::PushClaim => Some(7),
        FlowStep::PushWifi => Some(8),
        FlowStep::WaitDeviceOnline => Some(10),
        _ => None,
    }
}

/// The faults that can strike at `step`.
fn faults_at(step: FlowStep) -> Vec<Fault> {
    use Fault::*;
    let mut faults = match step {
        FlowStep::SignIn => vec![StateMismatch, BackendDown],
        FlowStep::CreateClaim => vec![Backend5xxThenRecovery, BackendDown, BackendDownOverBle],
        FlowStep::ConnectDevice => vec![AccessPointMissing],
        FlowStep::SecureSession => vec![WrongCode],
        FlowStep::PushClaim => vec![ClaimExpired],
        FlowStep::WaitDeviceOnline => vec![WrongWifiPassword, WrongWifiPasswordOverBle, UnknownNetwork],
        FlowStep::WaitRedemption | FlowStep::Confirm => {
            vec![Backend5xxThenRecovery, BackendDown, ClaimExpired]
        }
        _ => vec![],
    };
    if first_exchange(step).is_some() {
        faults.splice(0..0, [Drop, Delay, Corrupt, Reboot]);
    }
    faults.push(Cancel);
    faults
}

/// The typed outcomes a cell may end with: `Ok`, or the error's variant path.
fn expected(step: FlowStep, fault: Fault) -> &'static [&'static str] {
    match (step, fault) {
        // A stalled device: the exchange's timeout and the step's are the same setting
        // (`StepTimeouts.device`), so either may fire first; both give the same advice.
        (_, Fault::Delay) => &["TimedOut", "Device(Transport(Timeout"],
        _ => std::slice::from_ref(expected_one(step, fault)),
    }
}

fn expected_one(step: FlowStep, fault: Fault) -> &'static &'static str {
    use Fault::*;
    use FlowStep::*;
    match (step, fault) {
        (_, Cancel) => &"Cancelled",
        (_, Backend5xxThenRecovery) => &"Ok",
        (SignIn, StateMismatch) => &"SignIn(Callback(StateMismatch",
        (SignIn, BackendDown) => &"SignIn(Agent(Failed",
        // A backend that stops answering is reported as such once the retries are spent.
        (CreateClaim | WaitRedemption | Confirm, BackendDown) | (CreateClaim, BackendDownOverBle) => {
            &"Binding(BackendUnreachable"
        }
        (ConnectDevice, AccessPointMissing) => &"PhoneWifi(JoinFailed",
        (SecureSession, WrongCode) => &"Device(HandshakeRejected",
        (PushClaim | WaitRedemption | Confirm, ClaimExpired) => &"Binding(ClaimExpired",
        (WaitDeviceOnline, WrongWifiPassword | WrongWifiPasswordOverBle) => &"WifiRejected",
        (WaitDeviceOnline, UnknownNetwork) => &"WifiRejected",
        (SecureSession, Corrupt) => &"Device(HandshakeRejected",
        // A link lost while the device joins is unconfirmed, not failed: with a claim the
        // redemption decides. The device joined after a drop; a rebooted one lost its config.
        (WaitDeviceOnline, Drop) => &"Ok",
        (WaitDeviceOnline, Reboot) => &"Binding(RedemptionTimedOut",
        (_, Drop | Reboot) => &"Device(Transport(SessionLost",
        (_, Corrupt) => &"Device(Security(Decrypt",
        _ => &"?",
    }
}

/// The error's variant path: its `Debug` text up to the first field.
fn outcome(result: &Result<(), FlowError>) -> String {
    match result {
        Ok(()) => "Ok".into(),
        Err(error) => {
            let text = format!("{error:?}");
            let end = text.find([' ', '{', ')', '"']).unwrap_or(text.len());
            text[..end].to_owned()
        }
    }
}

/// Acts when a step starts.
type Action = Box<dyn Fn() + Send + Sync>;

struct Trigger {
    step: FlowStep,
    action: Mutex<Option<Action>>,
}

impl FlowObserver for Trigger {
    fn on_event(&self, event: FlowEvent) {
        if event.kind == FlowEventKind::Started
            && event.step == self.step
            && let Some(action) = self.action.lock().unwrap().take()
        {
            action();
        }
    }
}

/// The real browser, with the callback's `state` swapped for another (a forged callback).
struct ForgingBrowser(AutoConsentBrowser);

#[async_trait]
impl AuthorizationAgent for ForgingBrowser {
    async fn authorize(&self, url: String, redirect_uri: String) -> Result<String, AgentError> {
        let callback = self.0.authorize(url, redirect_uri).await?;
        let mut url = Url::parse(&callback).map_err(|e| AgentError::Failed { reason: e.to_string() })?;
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .map(|(key, value)| if key == "state" { (key, "forged-state".into()) } else { (key, value) })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        Ok(url.into())
    }
}

fn settings(world: &SimWorld) -> OnboardingSettings {
    OnboardingSettings {
        timeouts: StepTimeouts {
            backend: Duration::from_millis(800),
            device: Duration::from_secs(2),
            // A rebooted device never redeems: its cell waits this out.
            redemption: Duration::from_secs(5),
            ..StepTimeouts::default()
        },
        polling: StatusPolling {
            initial_delay: Duration::from_millis(20),
            interval: Duration::from_millis(20),
            max_delay: Duration::from_millis(50),
            deadline: Duration::from_secs(5),
        },
        ..world.settings()
    }
}

async fn new_onboarding(world: &SimWorld, forge_state: bool) -> Onboarding {
    let store: Arc<dyn SecretStore> = Arc::new(MemorySecretStore::new());
    let config = ClientConfig::new(DEFAULT_CLIENT_ID, APP_REDIRECT_URI).with_scopes(["openid", "profile"]);
    let client = AuthClient::discover(config, world.cloud.base_url()).await.unwrap();
    let browser = AutoConsentBrowser::new().unwrap();
    let agent: Arc<dyn AuthorizationAgent> =
        if forge_state { Arc::new(ForgingBrowser(browser)) } else { Arc::new(browser) };
    let session = Arc::new(Session::new(client, agent, store.clone()));
    // Quick retries, so that a burst of two 500s is over well within the short backend timeout.
    let retry = RetryPolicy::new(5, Duration::from_millis(10), Duration::from_millis(40));
    let binding = BindingClient::new(&Url::parse(world.cloud.base_url()).unwrap(), session.clone())
        .unwrap()
        .with_retry_policy(retry);
    Onboarding::new(
        session,
        binding,
        Some(world.ble.clone()),
        Some(world.phone_wifi.clone()),
        store,
        settings(world),
    )
}

/// Sockets this process holds open.
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| {
                    std::fs::read_link(entry.path())
                        .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
                })
                .count()
        })
        .unwrap_or(0)
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Waits (up to 3 s) for the task and socket counts to come back to `baseline`.
async fn settled(baseline: (usize, usize)) -> Result<(), String> {
    for _ in 0..300 {
        if alive_tasks() <= baseline.0 && open_sockets() <= baseline.1 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!(
        "{} tasks and {} sockets left, {} and {} before",
        alive_tasks(),
        open_sockets(),
        baseline.0,
        baseline.1
    ))
}

/// One cell: the faulty run, the leak checks, then a clean retry. Returns the outcome.
async fn cell(step: FlowStep, fault: Fault) -> Result<String, String> {
    let options = WorldOptions {
        // Device 0 takes the faulty run; device 1, of the same make and never touched, the retry
        // (a device that finished or half-finished provisioning is no longer in setup mode).
        devices: 2,
        apply_delay: Duration::from_millis(20),
        join_time: Duration::from_millis(20).into(),
        ..WorldOptions::default()
    };
    let world = Arc::new(SimWorld::start(options).await.map_err(|e| e.to_string())?);
    if step == FlowStep::Confirm {
        // The confirm is a call of its own only on a backend whose confirm does not wait for
        // the redemption (elsewhere the wait-redemption step's call confirms): its cells run there.
        world.cloud.backend().set_confirm_waits(false);
    }
    let over_ble = matches!(fault, Fault::WrongWifiPasswordOverBle | Fault::BackendDownOverBle);
    let link = if over_ble { Link::Ble } else { Link::SoftAp };
    let mut request = world.request(0, link);
    let retry_request = world.request(1, link);
    // Device faults: a device of the same make whose firmware misbehaves at the step's exchange.
    let mut device_faults = Faults::default();
    let exchange = first_exchange(step);
    match fault {
        Fault::Drop => device_faults.drop_at_exchange = exchange,
        Fault::Corrupt => device_faults.corrupt_reply_at = exchange,
        Fault::Reboot => device_faults.reboot_at_exchange = exchange,
        Fault::Delay => device_faults.stall_at_exchange = exchange.map(|at| (at, Duration::from_secs(3))),
        _ => {}
    }
    let _faulty_server = if first_exchange(step).is_some()
        && matches!(fault, Fault::Drop | Fault::Corrupt | Fault::Reboot | Fault::Delay)
    {
        let config = world.devices[0].device.config().clone().with_faults(device_faults);
        let claim = ClaimEndpoint::new(
            world.cloud.manufacture_device("dev-FAULTY"),
            Url::parse(&world.local_cloud_url()).ok(),
        );
        let server = SoftApServer::bind(SimDevice::new(config, vec![claim]), "127.0.0.1:0").await.unwrap();
        if let DeviceTarget::SoftAp { address, .. } = &mut request.target {
            *address = server.address().to_string();
        }
        Some(server)
    } else {
        None
    };
    match fault {
        Fault::WrongCode => {
            request.credentials = ClientCredentials::Sec2 {
                username: "wifiprov".into(),
                password: SecretString::new("not-the-code"),
            }
        }
        Fault::WrongWifiPassword | Fault::WrongWifiPasswordOverBle => {
            request.wifi.as_mut().unwrap().passphrase = SecretString::new("wrong password")
        }
        Fault::UnknownNetwork => request.wifi.as_mut().unwrap().ssid = "NotHere".into(),
        Fault::AccessPointMissing => {
            if let DeviceTarget::SoftAp { ssid, .. } = &mut request.target {
                *ssid = "PROV_MISSING".into();
            }
        }
        _ => {}
    }
    let cancel = CancellationToken::new();
    let action: Action = match fault {
        Fault::Cancel => {
            let cancel = cancel.clone();
            Box::new(move || cancel.cancel())
        }
        Fault::Backend5xxThenRecovery => {
            let world = world.clone();
            Box::new(move || world.cloud.backend().fail_next(2, BackendFault::Internal))
        }
        Fault::BackendDown | Fault::BackendDownOverBle => {
            let world = world.clone();
            Box::new(move || {
                let world = world.clone();
                tokio::spawn(async move { world.cloud.server().go_down().await });
            })
        }
        Fault::ClaimExpired => {
            let world = world.clone();
            Box::new(move || world.cloud.backend().advance_clock(Duration::from_secs(3600)))
        }
        _ => Box::new(|| {}),
    };
    let trigger = Trigger { step, action: Mutex::new(Some(action)) };
    let baseline = (alive_tasks(), open_sockets());
    let onboarding = new_onboarding(&world, fault == Fault::StateMismatch).await;
    let result = onboarding.run(&request, &trigger, None, &cancel).await.map(drop);
    let outcome = outcome(&result);
    if let Some(network) = world.phone_wifi.joined() {
        return Err(format!("{outcome}; the phone is still on {network}"));
    }
    drop(onboarding);
    settled(baseline).await.map_err(|leak| format!("{outcome}; {leak}"))?;
    if matches!(fault, Fault::BackendDown | Fault::BackendDownOverBle) {
        world.cloud.server().come_up().await.map_err(|e| e.to_string())?;
    }
    let onboarding = new_onboarding(&world, false).await;
    onboarding
        .run(&retry_request, &Trigger { step, action: Mutex::new(None) }, None, &CancellationToken::new())
        .await
        .map_err(|error| format!("{outcome}; the retry failed: {error}"))?;
    Ok(outcome)
}

#[tokio::test]
async fn every_step_under_every_fault_ends_typed_leaks_nothing_and_recovers() {
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for step in FlowStep::ALL {
        for fault in faults_at(step) {
            let want = expected(step, fault);
            let verdict = match cell(step, fault).await {
                Ok(got) if want.contains(&got.as_str()) => "ok".to_owned(),
                Ok(got) => format!("FAIL: got {got}"),
                Err(problem) => format!("FAIL: {problem}"),
            };
            if verdict != "ok" {
                failures.push(format!("{step:?} × {fault:?}: {verdict}"));
            }
            rows.push(format!(
                "{:<17} {:<23} {:<32} {verdict}",
                format!("{step:?}"),
                format!("{fault:?}"),
                want.join(" or ")
            ));
        }
    }
    let mut table =
        format!("{:<17} {:<23} {:<32} result (no leak, retry succeeds)\n", "step", "fault", "typed outcome");
    for row in &rows {
        table.push_str(row);
        table.push('\n');
    }
    table.push_str(&format!("{} cells\n", rows.len()));
    print!("{table}");
    // scripts/test-all prints the table from here after the workspace tests, which capture it.
    let written = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fault-matrix.txt");
    std::fs::write(&written, &table).expect("the fault matrix table is written");
    assert!(
        failures.is_empty(),
        "{} of {} cells failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
