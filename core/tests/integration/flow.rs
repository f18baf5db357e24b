//! The one-call onboarding flow against the simulated world: devices, phone, identity provider
//! and binding backend, over loopback HTTP and the in-memory BLE world.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use unbox_core::UserAction;
use unbox_core::binding::{BindingError, DeviceId};
use unbox_core::device::WifiCredentials;
use unbox_core::flow::{
    BindingMode, ChosenNetwork, Confirmation, DeviceTarget, FlowError, FlowEvent, FlowEventKind,
    FlowObserver, FlowStep, NetworkChooser, Onboarding, SetupRequest, Timeline, WifiPasswordPrompt,
};
use unbox_core::onboarding::DeviceProtocol;
use unbox_core::platform::ble::{AdvertisementListener, BleCentral, BleConnection, BleError, ScanFilter};
use unbox_core::platform::clock::ManualClock;
use unbox_core::platform::secret_store::MemorySecretStore;
use unbox_core::secret::SecretString;
use unbox_core::security::SecurityLevel;
use unbox_sim::device::{ClaimEndpoint, Flavour, Redemption, SimDevice, StationState};
use unbox_sim::softap::SoftApServer;
use unbox_sim::world::{HOME_PASSPHRASE, Link, SimWorld, WorldOptions};

fn quick() -> WorldOptions {
    WorldOptions {
        devices: 1,
        apply_delay: Duration::from_millis(100),
        join_time: Duration::from_millis(200).into(),
        ..WorldOptions::default()
    }
}

/// Something a test does when a step starts.
type StepAction = (FlowStep, Box<dyn Fn() + Send>);

/// Records events and lets a test act when a step starts.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<FlowEvent>>,
    on_start: Mutex<Vec<StepAction>>,
}

impl Recorder {
    fn when_started(&self, step: FlowStep, action: impl Fn() + Send + 'static) {
        self.on_start.lock().unwrap().push((step, Box::new(action)));
    }

    fn events(&self) -> Vec<FlowEvent> {
        self.events.lock().unwrap().clone()
    }

    fn steps_started(&self) -> Vec<FlowStep> {
        self.events().iter().filter(|e| e.kind == FlowEventKind::Started).map(|e| e.step).collect()
    }
}

impl FlowObserver for Recorder {
    fn on_event(&self, event: FlowEvent) {
        if event.kind == FlowEventKind::Started {
            for (step, action) in self.on_start.lock().unwrap().iter() {
                if *step == event.step {
                    action();
                }
            }
        }
        self.events.lock().unwrap().push(event);
    }
}

struct Answers(Mutex<Vec<&'static str>>);

#[async_trait]
impl WifiPasswordPrompt for Answers {
    async fn ask_again(&self, _ssid: String, _attempt: u32) -> Option<SecretString> {
        self.0.lock().unwrap().pop().map(SecretString::new)
    }
}

#[tokio::test]
async fn onboards_over_softap_and_ble_in_the_briefs_order() {
    for link in [Link::SoftAp, Link::Ble] {
        let world = SimWorld::start(quick()).await.unwrap();
        let onboarding = world.onboarding().await.unwrap();
        let recorder = Recorder::default();
        let request = world.request(0, link);
        let done = onboarding.run(&request, &recorder, None, &CancellationToken::new()).await.unwrap();

        assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C");
        assert_eq!(done.network.unwrap().ssid, "HomeNet");
        assert!(matches!(*world.devices[0].claim.redemption().borrow(), Redemption::Redeemed(_)));
        assert!(onboarding.pending_claims().await.unwrap().is_empty());
        let started = recorder.steps_started();
        assert_eq!(started, FlowStep::ALL.to_vec());
        let fractions: Vec<f32> = recorder.events().iter().map(|e| e.fraction).collect();
        assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {fractions:?}");
        if link == Link::SoftAp {
            assert_eq!(world.phone_wifi.history(), ["join PROV_1A2B3C", "leave PROV_1A2B3C"]);
        } else {
            assert!(world.phone_wifi.history().is_empty());
        }
        // Exchanges: version, 2 handshake, 3 scan (start, status, 1 page), claim, set, apply, polls.
        let stats = world.devices[0].device.stats();
        assert_eq!(stats.by_endpoint["proto-ver"], 1);
        assert_eq!(stats.by_endpoint["prov-session"], 2);
        assert_eq!(stats.by_endpoint["unbox-claim"], 1);
        assert_eq!(stats.sessions, 1);
    }
}

// Linux answers on all of 127.0.0.0/8; macOS only on 127.0.0.1 unless configured.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_world_advertised_under_another_host_name_onboards() {
    // 127.0.0.2 stands in for the Android emulator's 10.0.2.2: another name for this computer.
    let options = WorldOptions { public_host: Some("127.0.0.2".into()), ..quick() };
    let world = SimWorld::start(options).await.unwrap();
    assert!(world.cloud.base_url().starts_with("http://127.0.0.2:"), "{}", world.cloud.base_url());
    assert!(world.device_address(0).starts_with("127.0.0.2:"));
    let onboarding = world.onboarding().await.unwrap();
    let request = world.request(0, Link::SoftAp);
    let done = onboarding.run(&request, &Recorder::default(), None, &CancellationToken::new()).await.unwrap();
    assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C");
    assert!(matches!(*world.devices[0].claim.redemption().borrow(), Redemption::Redeemed(_)));
}

#[tokio::test]
async fn the_claim_exists_before_joining_and_the_phone_leaves_before_waiting() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let phone = world.phone_wifi.clone();
    let joined_at_claim = Arc::new(Mutex::new(None));
    let seen = joined_at_claim.clone();
    let phone_at_claim = phone.clone();
    recorder
        .when_started(FlowStep::CreateClaim, move || *seen.lock().unwrap() = Some(phone_at_claim.joined()));
    let joined_at_wait = Arc::new(Mutex::new(None));
    let seen = joined_at_wait.clone();
    recorder.when_started(FlowStep::WaitRedemption, move || *seen.lock().unwrap() = Some(phone.joined()));
    onboarding
        .run(&world.request(0, Link::SoftAp), recorder.as_ref(), None, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(*joined_at_claim.lock().unwrap(), Some(None), "on the internet while creating the claim");
    assert_eq!(*joined_at_wait.lock().unwrap(), Some(None), "off the device's network while waiting");
}

/// The calls a run makes at the backend after creating its claim: (claim reads, confirms).
fn claim_calls(world: &SimWorld) -> (usize, usize) {
    let requests = world.cloud.backend().requests();
    let reads = requests.iter().filter(|r| r.method == "GET" && r.path.starts_with("/v1/claims/")).count();
    let confirms = requests.iter().filter(|r| r.path.ends_with("/confirm")).count();
    (reads, confirms)
}

#[tokio::test]
async fn over_ble_the_waiting_confirm_ends_the_wait_for_the_device() {
    // The first status read finds the device joining, which sends the confirm the backend holds
    // until the device redeems; the next read is a minute away and the device step's limit is
    // 10 s: only the backend's answer (the device redeemed, so is online, and is bound) lets the
    // run finish, with one status read more and the one confirm the run makes anyway.
    let world = SimWorld::start(quick()).await.unwrap();
    let mut settings = world.settings();
    settings.polling.initial_delay = Duration::from_millis(50);
    settings.polling.interval = Duration::from_secs(60);
    settings.polling.max_delay = Duration::from_secs(60);
    settings.polling.deadline = Duration::from_secs(120);
    settings.timeouts.device_online = Duration::from_secs(10);
    let onboarding = world.onboarding_with(Arc::new(MemorySecretStore::new()), settings).await.unwrap();
    let recorder = Recorder::default();
    let done = onboarding.run(&world.request(0, Link::Ble), &recorder, None, &CancellationToken::new()).await;
    assert_eq!(done.unwrap().binding.expect("bound").device_id.as_str(), "dev-1A2B3C");
    assert_eq!(world.devices[0].device.stats().by_endpoint["prov-config"], 4, "set, apply, two status reads");
    assert_eq!(claim_calls(&world), (0, 1), "one held confirm, no long-poll");
    assert_eq!(recorder.steps_started(), FlowStep::ALL.to_vec(), "the steps in the brief's order");
}

#[tokio::test]
async fn over_ble_a_join_that_failed_by_the_first_status_read_leaves_no_claim_read() {
    // The world's first status read comes when a join settles: the wrong password is reported
    // there, before any read found the device joining, so the long-poll on the claim is never
    // opened (and never cut off at the backend); the run makes the one backend call it needs.
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let mut request = world.request(0, Link::Ble);
    request.wifi.as_mut().unwrap().passphrase = SecretString::new("wrong password");
    let done = onboarding.run(&request, &Recorder::default(), None, &CancellationToken::new()).await;
    assert!(matches!(done, Err(FlowError::WifiRejected { .. })), "{done:?}");
    assert_eq!(world.devices[0].device.stats().by_endpoint["prov-config"], 3, "set, apply, one status read");
    assert_eq!(claim_calls(&world), (0, 0));
    assert_eq!(world.cloud.backend().requests().len(), 1, "the claim's creation only");
}

#[tokio::test]
async fn over_softap_the_claim_is_confirmed_only_off_the_devices_network() {
    // The device's access point has no internet: the confirm waits until the phone left it.
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let recorder = Recorder::default();
    let backend = world.cloud.backend().clone();
    let calls_before_leaving = Arc::new(Mutex::new(None));
    let seen = calls_before_leaving.clone();
    // The phone's calls only: the device may already have redeemed (its own call) by then.
    recorder.when_started(FlowStep::LeaveDevice, move || {
        let phone_calls = backend.requests().iter().filter(|r| r.path != "/v1/claims/redeem").count();
        *seen.lock().unwrap() = Some(phone_calls);
    });
    onboarding
        .run(&world.request(0, Link::SoftAp), &recorder, None, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(*calls_before_leaving.lock().unwrap(), Some(1), "the claim's creation only");
    assert_eq!(claim_calls(&world), (0, 1));
}

#[tokio::test]
async fn a_backend_without_the_waiting_confirm_is_long_polled_then_confirmed() {
    // A backend whose claims do not say `confirm_waits`: the run waits for the redemption
    // (over BLE from the first read that finds the device joining), then confirms.
    for link in [Link::SoftAp, Link::Ble] {
        let world = SimWorld::start(quick()).await.unwrap();
        world.cloud.backend().set_confirm_waits(false);
        let onboarding = world.onboarding().await.unwrap();
        let timeline = Timeline::new(None);
        let done = onboarding.run(&world.request(0, link), &timeline, None, &CancellationToken::new()).await;
        assert_eq!(done.unwrap().binding.expect("bound").device_id.as_str(), "dev-1A2B3C", "{link:?}");
        assert_eq!(claim_calls(&world), (1, 1), "{link:?}: one long-poll, one confirm");
        let text = timeline.render();
        let long_poll = text.find("backend long-poll").expect("the long-poll is on the timeline");
        assert!(text[long_poll..].contains("backend confirm"), "{link:?}: confirmed after it\n{text}");
    }
}

#[tokio::test]
async fn the_timeline_shows_every_exchange_wait_and_backend_call_in_order() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let timeline = Timeline::new(Some(Arc::new(Recorder::default())));
    onboarding
        .run(&world.request(0, Link::SoftAp), &timeline, None, &CancellationToken::new())
        .await
        .unwrap();
    let text = timeline.render();
    let lines: Vec<&str> = text.lines().collect();
    let position = |needle: &str| {
        lines
            .iter()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in\n{text}"))
    };
    let order = [
        "backend create claim",
        "exchange proto-ver",
        "exchange prov-session",
        "exchange unbox-claim",
        "wait ",
        "status connected to HomeNet",
        "LeaveDevice",
        "backend confirm once redeemed",
    ]
    .map(position);
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "out of order: {order:?}\n{text}");
    let exchanges = lines.iter().filter(|line| line.contains(" exchange ")).count() as u32;
    assert_eq!(exchanges, world.devices[0].device.stats().total(), "one line per exchange\n{text}");
    assert!(lines.iter().all(|line| line.trim_start().starts_with('+')), "offsets from the start\n{text}");
    assert!(!text.contains(HOME_PASSPHRASE) && !text.contains("abcd1234"), "no secret\n{text}");
}

#[tokio::test]
async fn a_wrong_wifi_password_is_asked_again_and_retried_on_the_same_session() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let mut request = world.request(0, Link::Ble);
    request.wifi.as_mut().unwrap().passphrase = SecretString::new("wrong password");
    let prompt = Answers(Mutex::new(vec![HOME_PASSPHRASE, "still wrong"]));
    let recorder = Recorder::default();
    onboarding.run(&request, &recorder, Some(&prompt), &CancellationToken::new()).await.unwrap();
    assert_eq!(world.devices[0].device.stats().sessions, 1, "no new handshake");
    assert_eq!(world.devices[0].device.stats().by_endpoint["prov-ctrl"], 2, "one reset per retry");
}

/// Both firmware flavours, both orders: the wrong password retried on the same session, and a
/// new run against a device an earlier run left failed (ESP-IDF v5.5.5's manager refuses that
/// run's apply until a reset; the example app reset itself and refuses the reset).
#[tokio::test]
async fn a_failed_join_is_recovered_on_both_firmware_flavours_in_both_orders() {
    for flavour in [Flavour::Plain, Flavour::ExampleApp] {
        for link in [Link::SoftAp, Link::Ble] {
            let options = WorldOptions { flavour, join_time: Duration::from_millis(20).into(), ..quick() };
            // In the same session: the person types the right password when asked again.
            let world = SimWorld::start(options.clone()).await.unwrap();
            let onboarding = world.onboarding().await.unwrap();
            let mut request = world.request(0, link);
            request.wifi.as_mut().unwrap().passphrase = SecretString::new("wrong password");
            let prompt = Answers(Mutex::new(vec![HOME_PASSPHRASE]));
            onboarding
                .run(&request, &Recorder::default(), Some(&prompt), &CancellationToken::new())
                .await
                .unwrap_or_else(|e| panic!("{flavour:?} {link:?}, same session: {e}"));
            assert_eq!(world.devices[0].device.stats().sessions, 1, "{flavour:?} {link:?}: no new handshake");

            // Across runs: the first run ends on the wrong password, the second succeeds.
            let world = SimWorld::start(options).await.unwrap();
            let onboarding = world.onboarding().await.unwrap();
            let mut request = world.request(0, link);
            request.wifi.as_mut().unwrap().passphrase = SecretString::new("wrong password");
            let error = onboarding
                .run(&request, &Recorder::default(), None, &CancellationToken::new())
                .await
                .unwrap_err();
            assert!(matches!(error, FlowError::WifiRejected { .. }), "{flavour:?} {link:?}: {error:?}");
            let done = onboarding
                .run(&world.request(0, link), &Recorder::default(), None, &CancellationToken::new())
                .await
                .unwrap_or_else(|e| panic!("{flavour:?} {link:?}, second run: {e}"));
            assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C");
            let resets = world.devices[0].device.stats().by_endpoint.get("prov-ctrl").copied().unwrap_or(0);
            // Plain: the second run's apply is refused, then one reset clears it; the example
            // app needs none.
            let expected = if flavour == Flavour::Plain { 1 } else { 0 };
            assert_eq!(resets, expected, "{flavour:?} {link:?}");
        }
    }
}

#[tokio::test]
async fn wifi_only_onboards_a_device_without_the_claim_endpoint_and_without_an_account() {
    for link in [Link::SoftAp, Link::Ble] {
        let world = SimWorld::start(quick()).await.unwrap();
        let mut config = world.devices[0].device.config().clone();
        config.name = "PROV_STOCK".into();
        let stock = SimDevice::new(config, Vec::new());
        let server = SoftApServer::bind(stock.clone(), "127.0.0.1:0").await.unwrap();
        world.phone_wifi.add_access_point("PROV_STOCK", None, -50);
        let central = Arc::new(unbox_sim::ble::SimBleCentral::new(vec![unbox_sim::ble::SimPeripheral::new(
            "24:0A:C4:00:00:01",
            stock.clone(),
        )]));
        let onboarding = Onboarding::without_account(
            Some(central),
            Some(world.phone_wifi.clone()),
            Arc::new(MemorySecretStore::new()),
            world.settings(),
        );
        let mut request = world.request(0, link);
        request.device_name = "PROV_STOCK".into();
        request.target = match link {
            Link::SoftAp => DeviceTarget::SoftAp {
                ssid: "PROV_STOCK".into(),
                passphrase: None,
                address: server.address().to_string(),
            },
            Link::Ble => DeviceTarget::Ble {
                peripheral_id: "24:0A:C4:00:00:01".into(),
                service: unbox_core::discovery::ESP_IDF_DEFAULT_SERVICE_UUID,
            },
        };
        if link == Link::SoftAp {
            // A claim request to a device without the endpoint says which mode exists.
            let account = world.onboarding().await.unwrap();
            let error = account
                .run(&request, &Recorder::default(), None, &CancellationToken::new())
                .await
                .unwrap_err();
            assert!(matches!(error, FlowError::DeviceCannotBind), "{error:?}");
            assert!(error.to_string().contains("Wi-Fi-only"), "{error}");
        }
        // Without an account, a claim request is refused before anything happens.
        let error = onboarding
            .run(&request, &Recorder::default(), None, &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(error, FlowError::AccountNeeded), "{error:?}");

        request.binding = BindingMode::None;
        let recorder = Recorder::default();
        let done = onboarding.run(&request, &recorder, None, &CancellationToken::new()).await.unwrap();
        assert!(done.binding.is_none());
        assert_eq!(done.network.as_ref().map(|n| n.ssid.as_str()), Some(unbox_sim::world::HOME_SSID));
        assert!(matches!(stock.station_state(), StationState::Connected { .. }), "{link:?}");
        let skipped: Vec<FlowStep> =
            recorder.events().iter().filter(|e| e.kind == FlowEventKind::Skipped).map(|e| e.step).collect();
        for step in [
            FlowStep::SignIn,
            FlowStep::CreateClaim,
            FlowStep::PushClaim,
            FlowStep::WaitRedemption,
            FlowStep::Confirm,
        ] {
            assert!(skipped.contains(&step), "{link:?}: {step:?} not skipped");
        }
    }
}

#[tokio::test]
async fn a_wrong_wifi_password_without_a_prompt_is_an_actionable_error() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let mut request = world.request(0, Link::SoftAp);
    request.wifi.as_mut().unwrap().passphrase = SecretString::new("wrong password");
    let error =
        onboarding.run(&request, &Recorder::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(error, FlowError::WifiRejected { .. }), "{error:?}");
    assert_eq!(error.user_action(), UserAction::EnterWifiPassword);
    assert_eq!(world.phone_wifi.joined(), None, "the phone left the device's network");
    // The claim was pushed: the flow can be resumed once the device is online.
    assert_eq!(onboarding.pending_claims().await.unwrap().len(), 1);
}

#[tokio::test]
async fn cancelling_closes_the_session_and_leaves_the_access_point() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let recorder = Recorder::default();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    recorder.when_started(FlowStep::PushWifi, move || trigger.cancel());
    let error = onboarding.run(&world.request(0, Link::SoftAp), &recorder, None, &cancel).await.unwrap_err();
    assert!(matches!(error, FlowError::Cancelled));
    assert_eq!(error.user_action(), UserAction::None);
    assert_eq!(world.phone_wifi.history(), ["join PROV_1A2B3C", "leave PROV_1A2B3C"]);
    assert!(!recorder.steps_started().contains(&FlowStep::WaitDeviceOnline));
}

#[tokio::test]
async fn an_interrupted_flow_resumes_by_waiting_on_the_claim() {
    let world = SimWorld::start(quick()).await.unwrap();
    let store = Arc::new(MemorySecretStore::new());
    let onboarding = world.onboarding_with(store.clone(), world.settings()).await.unwrap();
    let recorder = Recorder::default();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    recorder.when_started(FlowStep::WaitRedemption, move || trigger.cancel());
    let error = onboarding.run(&world.request(0, Link::Ble), &recorder, None, &cancel).await.unwrap_err();
    assert!(matches!(error, FlowError::Cancelled));
    assert_eq!(onboarding.pending_claims().await.unwrap().len(), 1);

    // The app restarts: a new service over the same secure storage.
    let restarted = world.onboarding_with(store, world.settings()).await.unwrap();
    let resumed = restarted.resume(&Recorder::default(), &CancellationToken::new()).await.unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C");
    assert!(restarted.pending_claims().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_backend_going_down_and_up_does_not_lose_the_onboarding() {
    let world = Arc::new(SimWorld::start(quick()).await.unwrap());
    let onboarding = world.onboarding().await.unwrap();
    let recorder = Recorder::default();
    let outage = world.clone();
    recorder.when_started(FlowStep::PushWifi, move || {
        let world = outage.clone();
        tokio::spawn(async move {
            world.cloud.server().go_down().await;
            tokio::time::sleep(Duration::from_millis(1500)).await;
            world.cloud.server().come_up().await.unwrap();
        });
    });
    let done = onboarding
        .run(&world.request(0, Link::Ble), &recorder, None, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C");
}

#[tokio::test]
async fn an_expired_claim_asks_to_start_over() {
    let world = Arc::new(SimWorld::start(quick()).await.unwrap());
    let onboarding = world.onboarding().await.unwrap();
    let recorder = Recorder::default();
    let clock = world.clone();
    recorder.when_started(FlowStep::PushWifi, move || {
        clock.cloud.backend().advance_clock(Duration::from_secs(3600))
    });
    let error = onboarding
        .run(&world.request(0, Link::Ble), &recorder, None, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(error, FlowError::Binding(BindingError::ClaimExpired)), "{error:?}");
    assert_eq!(error.user_action(), UserAction::StartOver);
    assert!(onboarding.pending_claims().await.unwrap().is_empty(), "a dead claim is forgotten");
}

#[tokio::test]
async fn wrong_device_code_is_reported_as_such() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let mut request = world.request(0, Link::SoftAp);
    request.credentials = unbox_core::security::ClientCredentials::Sec2 {
        username: "wifiprov".into(),
        password: SecretString::new("not-the-code"),
    };
    let error =
        onboarding.run(&request, &Recorder::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert_eq!(error.user_action(), UserAction::CheckDeviceCode, "{error:?}");
    assert!(onboarding.pending_claims().await.unwrap().is_empty(), "nothing was pushed");
}

#[tokio::test]
async fn a_claim_redeemed_by_another_device_is_refused_at_confirmation() {
    let world = SimWorld::start(quick()).await.unwrap();
    // A device that says it is dev-1A2B3C but redeems with another device's credential.
    let other = world.cloud.manufacture_device("dev-OTHER1");
    let claim = ClaimEndpoint::reporting_as(other, None, DeviceId::new("dev-1A2B3C").unwrap());
    let config = world.devices[0].device.config().clone().with_faults(Default::default());
    let impostor = SimDevice::new(config, vec![claim]);
    let server = SoftApServer::bind(impostor, "127.0.0.1:0").await.unwrap();
    let mut request = world.request(0, Link::SoftAp);
    if let DeviceTarget::SoftAp { address, .. } = &mut request.target {
        *address = server.address().to_string();
    }
    let onboarding = world.onboarding().await.unwrap();
    let error =
        onboarding.run(&request, &Recorder::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(error, FlowError::Binding(BindingError::DeviceMismatch)), "{error:?}");
    assert!(onboarding.pending_claims().await.unwrap().is_empty(), "the claim is dead");
}

#[tokio::test]
async fn an_access_token_expiring_mid_flow_is_refreshed() {
    let clock = Arc::new(ManualClock::new(std::time::SystemTime::now()));
    let world = Arc::new(SimWorld::start(WorldOptions { clock: clock.clone(), ..quick() }).await.unwrap());
    let onboarding = world.onboarding().await.unwrap();
    let recorder = Recorder::default();
    let later = clock.clone();
    recorder.when_started(FlowStep::WaitDeviceOnline, move || later.advance(Duration::from_secs(2 * 3600)));
    let done = onboarding
        .run(&world.request(0, Link::Ble), &recorder, None, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C");
}

/// A Wi-Fi-only onboarding of a stock device (no claim endpoint) over its access point, whose
/// config `adjust` changes; with `ap_gone_when_waiting` its access point is out of the phone's
/// reach for good once the credentials are applied.
async fn stock_device_run(
    adjust: impl FnOnce(&mut unbox_sim::device::DeviceConfig),
    ap_gone_when_waiting: bool,
) -> (SimWorld, SimDevice, Recorder, Result<unbox_core::flow::Onboarded, FlowError>) {
    let world = SimWorld::start(quick()).await.unwrap();
    let mut config = world.devices[0].device.config().clone();
    config.name = "PROV_STOCK".into();
    adjust(&mut config);
    let stock = SimDevice::new(config, Vec::new());
    let server = SoftApServer::bind(stock.clone(), "127.0.0.1:0").await.unwrap();
    world.phone_wifi.add_access_point("PROV_STOCK", None, -50);
    let recorder = Recorder::default();
    if ap_gone_when_waiting {
        let phone = world.phone_wifi.clone();
        recorder.when_started(FlowStep::WaitDeviceOnline, move || phone.remove_access_point("PROV_STOCK"));
    }
    let onboarding = Onboarding::without_account(
        None,
        Some(world.phone_wifi.clone()),
        Arc::new(MemorySecretStore::new()),
        world.settings(),
    );
    let mut request = world.request(0, Link::SoftAp);
    request.device_name = "PROV_STOCK".into();
    request.binding = BindingMode::None;
    request.target = DeviceTarget::SoftAp {
        ssid: "PROV_STOCK".into(),
        passphrase: None,
        address: server.address().to_string(),
    };
    let outcome = onboarding.run(&request, &recorder, None, &CancellationToken::new()).await;
    drop(server);
    (world, stock, recorder, outcome)
}

fn progress_messages(recorder: &Recorder) -> Vec<String> {
    recorder.events().into_iter().filter(|e| e.kind == FlowEventKind::Progress).map(|e| e.message).collect()
}

#[tokio::test]
async fn wifi_only_after_the_channel_switch_reaches_the_device_again_to_read_its_status() {
    // The access point follows the router's channel at apply: the first status read finds the
    // link gone; rejoining the access point reads the status on a new session.
    let (world, stock, recorder, outcome) = stock_device_run(
        |config| {
            config.faults.channel_switch_after_apply = Some(Duration::ZERO);
            config.stop_after_connected = Duration::from_secs(30);
        },
        false,
    )
    .await;
    let done = outcome.unwrap();
    assert_eq!(done.confirmation, Confirmation::Reported);
    assert_eq!(done.network.as_ref().map(|n| n.ssid.as_str()), Some(unbox_sim::world::HOME_SSID));
    assert_eq!(stock.stats().sessions, 2, "a new session after rejoining");
    assert!(progress_messages(&recorder).iter().any(|m| m.contains("reaching it again")));
    assert_eq!(
        world.phone_wifi.history(),
        ["join PROV_STOCK", "join PROV_STOCK", "leave PROV_STOCK"],
        "rejoined once, left once"
    );
    let details = done.device.expect("the device's details");
    assert_eq!(details.protocol, DeviceProtocol::EspUnified);
    assert_eq!(details.binding_modes, [BindingMode::None]);
    assert!(details.info_json.unwrap().contains("\"prov\""));
}

#[tokio::test]
async fn wifi_only_ends_unconfirmed_when_the_device_cannot_be_reached_again() {
    // The access point follows the router's channel at apply and the phone cannot find it
    // again: the old link is gone and no new one opens, while the device joins all the same.
    let (world, stock, recorder, outcome) =
        stock_device_run(|config| config.faults.channel_switch_after_apply = Some(Duration::ZERO), true)
            .await;
    let done = outcome.unwrap();
    assert_eq!(done.confirmation, Confirmation::Unconfirmed, "{:?}", world.phone_wifi.history());
    assert!(done.network.is_none() && done.binding.is_none());
    assert!(progress_messages(&recorder).iter().any(|m| m.contains("reaching it again")));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(matches!(stock.station_state(), StationState::Connected { .. }), "it joined all the same");
    let finished = recorder
        .events()
        .into_iter()
        .find(|e| e.step == FlowStep::WaitDeviceOnline && e.kind == FlowEventKind::Finished)
        .unwrap();
    assert!(finished.message.contains("check its light"), "{}", finished.message);
    assert_eq!(world.phone_wifi.joined(), None, "the phone left the device's network");
}

#[tokio::test]
async fn with_a_claim_the_redemption_decides_after_the_channel_switch() {
    let faults =
        unbox_sim::device::Faults { channel_switch_after_apply: Some(Duration::ZERO), ..Default::default() };
    let world = SimWorld::start(WorldOptions { faults, ..quick() }).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let recorder = Recorder::default();
    let done = onboarding
        .run(&world.request(0, Link::SoftAp), &recorder, None, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(done.confirmation, Confirmation::Redeemed);
    assert!(done.network.is_none());
    assert_eq!(done.binding.expect("bound").device_id.as_str(), "dev-1A2B3C");
    assert_eq!(world.devices[0].device.stats().sessions, 1, "no second session: the backend decided");
    assert_eq!(recorder.steps_started(), FlowStep::ALL.to_vec());
}

/// A BLE onboarding (claim or Wi-Fi only) whose device drops the link when the first status
/// read after apply arrives (Bluedroid drops the link when a handler fails: see `sim/src/ble.rs`);
/// unless `reachable_again`, the phone is out of the device's range from then on. Without a
/// device scan the exchanges are 1 proto-ver, 2-3 the handshake, (the claim), the config,
/// apply, then the status read that drops.
async fn ble_drop_after_apply(
    binding: BindingMode,
    reachable_again: bool,
) -> (SimWorld, Recorder, Result<unbox_core::flow::Onboarded, FlowError>) {
    let status_read = match binding {
        BindingMode::Claim => 7,
        BindingMode::None => 6,
    };
    let faults = unbox_sim::device::Faults { drop_at_exchange: Some(status_read), ..Default::default() };
    let world = SimWorld::start(WorldOptions { faults, ..quick() }).await.unwrap();
    let ble: Arc<dyn BleCentral> = match reachable_again {
        true => world.ble.clone(),
        false => {
            Arc::new(OutOfRangeAfterFirstConnection { inner: world.ble.clone(), connects: Mutex::new(0) })
        }
    };
    let onboarding = match binding {
        BindingMode::Claim => world.onboarding().await.unwrap(),
        BindingMode::None => {
            Onboarding::without_account(Some(ble), None, Arc::new(MemorySecretStore::new()), world.settings())
        }
    };
    let mut request = world.request(0, Link::Ble);
    request.scan_wifi = false;
    request.binding = binding;
    request.code = Some(unbox_core::qr::parse(world.setup_code(0).unwrap().expose()).unwrap());
    let recorder = Recorder::default();
    let outcome = onboarding.run(&request, &recorder, None, &CancellationToken::new()).await;
    (world, recorder, outcome)
}

/// The phone's Bluetooth once it moved out of the device's range after the first connection:
/// the peripheral is no longer found (as btleplug reports a peripheral it stopped hearing).
struct OutOfRangeAfterFirstConnection {
    inner: Arc<unbox_sim::ble::SimBleCentral>,
    connects: Mutex<u32>,
}

#[async_trait]
impl BleCentral for OutOfRangeAfterFirstConnection {
    async fn start_scan(
        &self,
        filter: ScanFilter,
        listener: Arc<dyn AdvertisementListener>,
    ) -> Result<(), BleError> {
        self.inner.start_scan(filter, listener).await
    }

    async fn stop_scan(&self) -> Result<(), BleError> {
        self.inner.stop_scan().await
    }

    async fn connect(&self, peripheral_id: &str) -> Result<Box<dyn BleConnection>, BleError> {
        let earlier = std::mem::replace(&mut *self.connects.lock().unwrap(), 1);
        match earlier {
            0 => self.inner.connect(peripheral_id).await,
            _ => Err(BleError::NotFound(peripheral_id.to_owned())),
        }
    }
}

#[tokio::test]
async fn a_ble_link_dropped_after_apply_is_redeemed_with_a_claim_and_never_failed() {
    let (world, recorder, outcome) = ble_drop_after_apply(BindingMode::Claim, true).await;
    let done = outcome.expect("the redemption decides, not the dropped link");
    assert_eq!(done.confirmation, Confirmation::Redeemed);
    assert!(done.network.is_none(), "the device never reported");
    assert_eq!(done.binding.expect("bound").device_id.as_str(), "dev-1A2B3C");
    assert_eq!(world.devices[0].device.stats().sessions, 1, "not reached again: the backend decided");
    assert!(!progress_messages(&recorder).iter().any(|m| m.contains("reaching it again")));
}

#[tokio::test]
async fn a_ble_link_dropped_after_apply_without_a_claim_is_reached_again_or_unconfirmed() {
    // The device still runs provisioning: reconnecting over BLE reads that it joined.
    let (world, recorder, outcome) = ble_drop_after_apply(BindingMode::None, true).await;
    let done = outcome.expect("reached again, not failed");
    assert_eq!(done.confirmation, Confirmation::Reported);
    assert_eq!(done.network.as_ref().map(|n| n.ssid.as_str()), Some(unbox_sim::world::HOME_SSID));
    assert!(done.binding.is_none());
    assert_eq!(world.devices[0].device.stats().sessions, 2, "a new session after reconnecting");
    assert!(progress_messages(&recorder).iter().any(|m| m.contains("reaching it again")));
    // What an app binding the device itself reads back: name, info JSON, address.
    let details = done.device.as_ref().expect("the device's details");
    assert_eq!(details.name, world.devices[0].name);
    assert!(details.info_json.as_deref().is_some_and(|json| json.contains("\"prov\"")));
    assert!(!done.network.as_ref().unwrap().ip4_addr.is_empty());
    let code = unbox_core::qr::parse(world.setup_code(0).unwrap().expose()).unwrap();
    assert_eq!(done.code, Some(code), "and the setup code the request started from");

    // The phone is out of range once the link dropped: no reconnect finds the device.
    let (world, recorder, outcome) = ble_drop_after_apply(BindingMode::None, false).await;
    let done = outcome.expect("unconfirmed, not failed");
    assert_eq!(done.confirmation, Confirmation::Unconfirmed);
    assert!(done.network.is_none() && done.binding.is_none());
    assert!(progress_messages(&recorder).iter().any(|m| m.contains("reaching it again")));
    assert!(matches!(world.devices[0].device.station_state(), StationState::Connected { .. }));
}

/// Chooses the strongest network the device sees with a wrong password, and records the list.
#[derive(Default)]
struct FirstNetwork(Mutex<Option<unbox_core::onboarding::NetworkList>>);

#[async_trait]
impl NetworkChooser for FirstNetwork {
    async fn choose(&self, networks: unbox_core::onboarding::NetworkList) -> Option<ChosenNetwork> {
        let ssid = networks.networks.first()?.ssid.clone();
        *self.0.lock().unwrap() = Some(networks);
        Some(ChosenNetwork { ssid, passphrase: SecretString::new("wrong password") })
    }
}

struct Cancels;

#[async_trait]
impl NetworkChooser for Cancels {
    async fn choose(&self, _networks: unbox_core::onboarding::NetworkList) -> Option<ChosenNetwork> {
        None
    }
}

#[tokio::test]
async fn without_a_network_the_person_chooses_from_the_devices_list_and_a_wrong_password_is_asked_again() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let mut request = world.request(0, Link::SoftAp);
    request.wifi = None;
    request.scan_wifi = false;
    let error =
        onboarding.run(&request, &Recorder::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(error, FlowError::NetworkNeeded), "{error:?}");

    let chooser = FirstNetwork::default();
    let prompt = Answers(Mutex::new(vec![HOME_PASSPHRASE]));
    let done = onboarding
        .run_choosing(
            &request,
            &Recorder::default(),
            Some(&prompt),
            Some(&chooser),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(done.network.unwrap().ssid, unbox_sim::world::HOME_SSID);
    assert_eq!(done.confirmation, Confirmation::Reported);
    let list = chooser.0.lock().unwrap().clone().expect("the chooser saw the list");
    let names: Vec<_> = list.networks.iter().map(|n| n.ssid.as_str()).collect();
    assert_eq!(names, [unbox_sim::world::HOME_SSID, "Neighbour"], "strongest first");
    assert_eq!(list.networks[1].bars, 2);

    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let mut request = world.request(0, Link::Ble);
    request.wifi = None;
    let error = onboarding
        .run_choosing(&request, &Recorder::default(), None, Some(&Cancels), &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(error, FlowError::Cancelled), "{error:?}");
    assert!(matches!(world.devices[0].device.station_state(), StationState::Idle));
}

fn setup_request(world: &SimWorld, link: Link, binding: BindingMode) -> SetupRequest {
    let request = world.request(0, link);
    SetupRequest {
        device_name: request.device_name,
        target: request.target,
        credentials: request.credentials,
        binding,
    }
}

fn home(passphrase: &str) -> WifiCredentials {
    WifiCredentials::new(unbox_sim::world::HOME_SSID, SecretString::new(passphrase))
}

#[tokio::test]
async fn the_staged_api_claims_before_joining_then_provisions_again_after_a_wrong_password_and_binds() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = Arc::new(world.onboarding().await.unwrap());
    let recorder = Recorder::default();
    let request = setup_request(&world, Link::SoftAp, BindingMode::Claim);
    let session = onboarding.connect(&request, &recorder, &CancellationToken::new()).await.unwrap();
    // The claim exists before the phone joins the device's access point (which has no internet).
    assert_eq!(
        recorder.steps_started(),
        [FlowStep::SignIn, FlowStep::CreateClaim, FlowStep::ConnectDevice, FlowStep::SecureSession]
    );
    let details = session.details();
    assert_eq!((details.protocol, details.security), (DeviceProtocol::EspUnified, Some(SecurityLevel::Sec2)));
    assert!(details.supports(BindingMode::Claim) && details.can_scan, "{details:?}");
    assert_eq!(session.binding(), BindingMode::Claim);

    let networks = session.scan_networks(&recorder).await.unwrap();
    let names: Vec<_> = networks.networks.iter().map(|n| n.ssid.as_str()).collect();
    assert_eq!(names, [unbox_sim::world::HOME_SSID, "Neighbour"]);
    let error = session.bind(&recorder).await.unwrap_err();
    assert!(matches!(error, FlowError::StepUnavailable(m) if m.contains("after provision")), "{error:?}");

    let error = session.provision(&home("wrong password"), &recorder).await.unwrap_err();
    assert!(matches!(error, FlowError::WifiRejected { .. }), "{error:?}");
    assert_eq!(error.user_action(), UserAction::EnterWifiPassword);
    let network = session.provision(&home(HOME_PASSPHRASE), &recorder).await.unwrap();
    assert_eq!(network.unwrap().ssid, unbox_sim::world::HOME_SSID);
    assert_eq!(onboarding.pending_claims().await.unwrap().len(), 1, "pushed once, remembered");
    assert_eq!(world.devices[0].device.stats().sessions, 1, "the retry ran on the same session");

    let binding = session.bind(&recorder).await.unwrap();
    assert_eq!(binding.device_id.as_str(), "dev-1A2B3C");
    assert!(onboarding.pending_claims().await.unwrap().is_empty());
    assert_eq!(world.phone_wifi.history(), ["join PROV_1A2B3C", "leave PROV_1A2B3C"]);
    session.close().await;
    session.close().await;
    assert_eq!(world.phone_wifi.history().len(), 2, "left once");
    let error = session.scan_networks(&recorder).await.unwrap_err();
    assert!(matches!(error, FlowError::SessionClosed), "{error:?}");
}

#[tokio::test]
async fn the_staged_api_in_wifi_only_mode_needs_no_account_and_has_nothing_to_bind() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = Arc::new(Onboarding::without_account(
        Some(world.ble.clone()),
        Some(world.phone_wifi.clone()),
        Arc::new(MemorySecretStore::new()),
        world.settings(),
    ));
    let recorder = Recorder::default();
    let claim = setup_request(&world, Link::Ble, BindingMode::Claim);
    let error = onboarding.connect(&claim, &recorder, &CancellationToken::new()).await.err().unwrap();
    assert!(matches!(error, FlowError::AccountNeeded), "{error:?}");

    let request = setup_request(&world, Link::Ble, BindingMode::None);
    let session = onboarding.connect(&request, &recorder, &CancellationToken::new()).await.unwrap();
    assert_eq!(session.binding(), BindingMode::None);
    let network = session.provision(&home(HOME_PASSPHRASE), &recorder).await.unwrap();
    assert_eq!(network.unwrap().ssid, unbox_sim::world::HOME_SSID);
    assert!(matches!(world.devices[0].device.station_state(), StationState::Connected { .. }));
    let error = session.bind(&recorder).await.unwrap_err();
    assert!(matches!(error, FlowError::StepUnavailable(m) if m.contains("Wi-Fi only")), "{error:?}");
    session.close().await;
}

#[tokio::test]
async fn a_staged_session_is_cancelled_or_closed_mid_step_and_leaves_the_access_point() {
    // Cancelled through the token given at connect, while the Wi-Fi is being sent.
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = Arc::new(world.onboarding().await.unwrap());
    let cancel = CancellationToken::new();
    let request = setup_request(&world, Link::SoftAp, BindingMode::None);
    let session = onboarding.connect(&request, &Recorder::default(), &cancel).await.unwrap();
    let recorder = Recorder::default();
    let trigger = cancel.clone();
    recorder.when_started(FlowStep::PushWifi, move || trigger.cancel());
    let error = session.provision(&home(HOME_PASSPHRASE), &recorder).await.unwrap_err();
    assert!(matches!(error, FlowError::Cancelled), "{error:?}");
    assert_eq!(world.phone_wifi.history(), ["join PROV_1A2B3C", "leave PROV_1A2B3C"]);
    assert!(matches!(session.scan_networks(&recorder).await, Err(FlowError::SessionClosed)));

    // Closed from another task while it waits for the device to come online.
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = Arc::new(world.onboarding().await.unwrap());
    let request = setup_request(&world, Link::SoftAp, BindingMode::None);
    let session = Arc::new(
        onboarding.connect(&request, &Recorder::default(), &CancellationToken::new()).await.unwrap(),
    );
    let waiting = Arc::new(tokio::sync::Notify::new());
    let recorder = Recorder::default();
    let signal = waiting.clone();
    recorder.when_started(FlowStep::WaitDeviceOnline, move || signal.notify_one());
    let running = tokio::spawn({
        let session = session.clone();
        async move { session.provision(&home(HOME_PASSPHRASE), &recorder).await }
    });
    waiting.notified().await;
    session.close().await;
    let error = running.await.unwrap().unwrap_err();
    assert!(matches!(error, FlowError::Cancelled), "{error:?}");
    assert_eq!(world.phone_wifi.joined(), None, "the phone left the device's network");
    assert_eq!(world.phone_wifi.history(), ["join PROV_1A2B3C", "leave PROV_1A2B3C"]);
}
