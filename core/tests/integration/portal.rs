//! Captive-portal devices through the flow, against the simulated WiFiManager portal (real HTTP
//! on loopback, `sim/src/device/portal.rs`, after tzapu/WiFiManager's `WiFiManager.cpp`): the
//! claim in the firmware's claim field, Wi-Fi only confirmed on the home network's DNS-SD or
//! unconfirmed, the portal's quirks and faults, all through the device handle.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use unbox_core::binding::BindingError;
use unbox_core::flow::{
    BindingMode, Confirmation, DeviceTarget, FlowError, FlowEvent, FlowEventKind, FlowObserver, FlowStep,
    OnboardingRequest,
};
use unbox_core::onboarding::DeviceProtocol;
use unbox_core::platform::phone_wifi::PhoneWifi;
use unbox_core::platform::secret_store::MemorySecretStore;
use unbox_core::portal::{PageError, PortalError, PortalParameter};
use unbox_sim::device::{
    PortalConfig, PortalFaults, PortalParam, PortalServer, PortalState, Redemption, SimNetwork, SimPortal,
};
use unbox_sim::world::{HOME_PASSPHRASE, HOME_SSID, SimWorld, WorldOptions};

fn quick() -> WorldOptions {
    WorldOptions {
        devices: 0,
        portals: 1,
        apply_delay: Duration::from_millis(50),
        join_time: Duration::from_millis(100).into(),
        ..WorldOptions::default()
    }
}

#[derive(Default)]
struct Events(Mutex<Vec<FlowEvent>>);

impl FlowObserver for Events {
    fn on_event(&self, event: FlowEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Events {
    fn of(&self, step: FlowStep) -> Vec<(FlowEventKind, String)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.step == step)
            .map(|e| (e.kind.clone(), e.message.clone()))
            .collect()
    }
}

fn target(request: &mut OnboardingRequest) -> &mut unbox_core::flow::PortalTarget {
    match &mut request.target {
        DeviceTarget::Portal(target) => target,
        other => panic!("not a portal target: {other:?}"),
    }
}

#[tokio::test]
async fn a_portal_device_is_claimed_through_its_claim_field() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let events = Events::default();
    let request = world.portal_request(0, BindingMode::Claim);
    let done = onboarding.run(&request, &events, None, &CancellationToken::new()).await.unwrap();

    assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "portal-C0FFEE");
    let portal = &world.portals[0].portal;
    assert_eq!(portal.saved("s").as_deref(), Some(HOME_SSID));
    assert_eq!(portal.saved("p").as_deref(), Some(HOME_PASSPHRASE));
    assert!(portal.saved("claim").is_some_and(|token| !token.is_empty()));
    assert_eq!(portal.saves(), 1);
    assert!(matches!(*portal.redemption().borrow(), Redemption::Redeemed(_)));
    assert_eq!(world.phone_wifi.history(), ["join ESP32_C0FFEE", "leave ESP32_C0FFEE"]);
    // The device shut its access point down on success.
    assert!(matches!(*portal.state().borrow(), PortalState::Online { .. }));
    assert!(world.phone_wifi.scan_networks().await.unwrap().is_empty());

    let session = events.of(FlowStep::SecureSession);
    assert!(
        session.iter().any(|(kind, message)| *kind == FlowEventKind::Warning
            && message.contains("anyone nearby can read the Wi-Fi password")),
        "{session:?}"
    );
    assert_eq!(done.confirmation, Confirmation::Redeemed);
    assert_eq!(done.device.expect("details").protocol, DeviceProtocol::CaptivePortal);
    assert_eq!(events.of(FlowStep::ScanWifi).last().unwrap().1, "The device sees HomeNet");
    assert_eq!(events.of(FlowStep::Confirm).last().unwrap().0, FlowEventKind::Finished);
    let fractions: Vec<f32> = events.0.lock().unwrap().iter().map(|e| e.fraction).collect();
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {fractions:?}");
}

#[tokio::test]
async fn wifi_only_is_confirmed_on_the_home_network_or_reported_unconfirmed() {
    let world = SimWorld::start(WorldOptions { portals: 2, ..quick() }).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();

    let events = Events::default();
    let request = world.portal_request(0, BindingMode::None);
    let done = onboarding.run(&request, &events, None, &CancellationToken::new()).await.unwrap();
    assert!(done.binding.is_none());
    assert!(world.portals[0].portal.saved("claim").is_some_and(|token| token.is_empty()), "no token sent");
    assert_eq!(done.confirmation, Confirmation::Reported);
    assert_eq!(done.network.expect("found").ssid, HOME_SSID);
    let online = events.of(FlowStep::WaitDeviceOnline);
    assert_eq!(online.last().unwrap(), &(FlowEventKind::Finished, "The device joined HomeNet".to_owned()));
    assert!(world.service_browser.browses() >= 1);

    let mut request = world.portal_request(1, BindingMode::None);
    target(&mut request).announce = None;
    let done = onboarding.run(&request, &Events::default(), None, &CancellationToken::new()).await.unwrap();
    assert_eq!(done.confirmation, Confirmation::Unconfirmed);
    assert!(done.network.is_none());
}

#[tokio::test]
async fn a_wrong_password_leaves_the_portal_open_and_the_device_unseen() {
    let world = SimWorld::start(quick()).await.unwrap();
    let mut settings = world.settings();
    settings.polling.deadline = Duration::from_millis(600);
    let onboarding = world.onboarding_with(Arc::new(MemorySecretStore::new()), settings).await.unwrap();
    let mut request = world.portal_request(0, BindingMode::None);
    request.wifi.as_mut().expect("the portal request names the network").passphrase = "wrong-password".into();
    let done = onboarding.run(&request, &Events::default(), None, &CancellationToken::new()).await.unwrap();
    assert_eq!(done.confirmation, Confirmation::Unconfirmed, "never announced on the home network");
    // WiFiManager keeps its portal open after a failed join, with the SSID and password cleared.
    let portal = &world.portals[0].portal;
    let mut state = portal.state();
    state.wait_for(|s| *s == PortalState::Open).await.unwrap();
    assert_eq!(portal.saved("s"), None);
    assert_eq!(world.phone_wifi.scan_networks().await.unwrap().len(), 1);
}

/// A portal of its own in `world`, in range of its phone.
async fn own_portal(
    world: &SimWorld,
    ssid: &str,
    config: impl FnOnce(&mut PortalConfig),
) -> (SimPortal, PortalServer) {
    let mut portal_config = PortalConfig::new(ssid, vec![SimNetwork::new(HOME_SSID, HOME_PASSPHRASE)]);
    portal_config.close_delay = Duration::from_millis(50);
    config(&mut portal_config);
    let portal = SimPortal::new(portal_config);
    let server = PortalServer::bind(portal.clone(), "127.0.0.1:0").await.unwrap();
    world.phone_wifi.add_access_point(ssid, None, -50);
    (portal, server)
}

fn request_for(
    world: &SimWorld,
    server: &PortalServer,
    ssid: &str,
    binding: BindingMode,
) -> OnboardingRequest {
    let mut request = world.portal_request(0, binding);
    request.device_name = ssid.into();
    let target = target(&mut request);
    target.ssid = ssid.into();
    target.address = server.address().to_string();
    target.announce = None;
    request
}

/// A portal's SSID, its faults, the binding asked and the error expected.
type FaultCase = (&'static str, PortalFaults, BindingMode, fn(&FlowError) -> bool);

#[tokio::test]
async fn portal_faults_are_typed_and_the_phone_always_leaves() {
    let world = SimWorld::start(quick()).await.unwrap();
    let mut settings = world.settings();
    settings.timeouts.device = Duration::from_millis(500);
    let onboarding = world.onboarding_with(Arc::new(MemorySecretStore::new()), settings).await.unwrap();
    let cases: [FaultCase; 4] = [
        (
            "ESP_GARBAGE",
            PortalFaults { garbage_page: true, ..PortalFaults::default() },
            BindingMode::None,
            |e| matches!(e, FlowError::Portal(PortalError::Page { error: PageError::NoWifiForm, .. })),
        ),
        (
            "ESP_DROPSAVE",
            PortalFaults { drop_save: true, ..PortalFaults::default() },
            BindingMode::None,
            |e| matches!(e, FlowError::Portal(PortalError::Broken { .. })),
        ),
        (
            "ESP_NOPAGE",
            PortalFaults { no_wifi_page: true, ..PortalFaults::default() },
            BindingMode::Claim,
            |e| matches!(e, FlowError::DeviceCannotBind),
        ),
        (
            "ESP_SLOW",
            PortalFaults { reply_delay: Duration::from_secs(30), ..PortalFaults::default() },
            BindingMode::None,
            |e| matches!(e, FlowError::Portal(PortalError::Timeout { .. }) | FlowError::TimedOut { .. }),
        ),
    ];
    for (ssid, faults, binding, expected) in cases {
        let (portal, server) = own_portal(&world, ssid, |config| config.faults = faults).await;
        let request = request_for(&world, &server, ssid, binding);
        let error =
            onboarding.run(&request, &Events::default(), None, &CancellationToken::new()).await.unwrap_err();
        assert!(expected(&error), "{ssid}: {error:?}");
        assert_eq!(world.phone_wifi.joined(), None, "{ssid}: the phone left the access point");
        assert!(!matches!(*portal.state().borrow(), PortalState::Online { .. }), "{ssid}");
    }
}

#[tokio::test]
async fn the_form_is_checked_before_anything_is_sent() {
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let (portal, server) = own_portal(&world, "ESP_PARAMS", |config| {
        config.params.push(PortalParam { id: "mqtt_server".into(), label: "MQTT".into(), max_len: 8 });
    })
    .await;

    let mut request = request_for(&world, &server, "ESP_PARAMS", BindingMode::None);
    target(&mut request).parameters =
        vec![PortalParameter { id: "mqtt_server".into(), value: "broker.example.com".into() }];
    let error =
        onboarding.run(&request, &Events::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(
        matches!(&error, FlowError::Portal(PortalError::ValueTooLong { len: 18, max: 8, .. })),
        "{error:?}"
    );

    target(&mut request).parameters = vec![PortalParameter { id: "mqtt_port".into(), value: "1883".into() }];
    let error =
        onboarding.run(&request, &Events::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(
        matches!(&error, FlowError::Portal(PortalError::UndeclaredParameter(id)) if id == "mqtt_port"),
        "{error:?}"
    );

    // A claim without the device id the app must give (the portal cannot report one).
    let mut claim = request_for(&world, &server, "ESP_PARAMS", BindingMode::Claim);
    target(&mut claim).device_id = None;
    let error =
        onboarding.run(&claim, &Events::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(&error, FlowError::DeviceCannotBind), "{error:?}");
    assert_eq!(portal.saves(), 0, "nothing was posted");

    target(&mut request).parameters =
        vec![PortalParameter { id: "mqtt_server".into(), value: "10.0.0.2".into() }];
    onboarding.run(&request, &Events::default(), None, &CancellationToken::new()).await.unwrap();
    assert_eq!(portal.saved("mqtt_server").as_deref(), Some("10.0.0.2"));
}

#[tokio::test]
async fn another_device_redeeming_a_read_token_is_never_confirmed() {
    // The app names a device id that is not the one holding the claim field's token.
    let world = SimWorld::start(quick()).await.unwrap();
    let onboarding = world.onboarding().await.unwrap();
    let mut request = world.portal_request(0, BindingMode::Claim);
    target(&mut request).device_id = Some("dev-someone-else".into());
    let error =
        onboarding.run(&request, &Events::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(&error, FlowError::Binding(BindingError::DeviceMismatch)), "{error:?}");
}

#[tokio::test]
async fn other_hosts_are_redirected_to_the_portal_as_wifimanager_does() {
    let world = SimWorld::start(quick()).await.unwrap();
    let address = world.portals[0].server.address();
    let own = address.to_string();
    for (path, host, status) in [
        ("/", "connectivitycheck.gstatic.com", "302"),
        ("/generate_204", "connectivitycheck.gstatic.com", "302"),
        ("/", own.as_str(), "200"),
        ("/generate_204", own.as_str(), "404"),
        // `handleWifi` does not redirect.
        ("/wifi", "captive.apple.com", "200"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes()).await.unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.unwrap();
        let reply = String::from_utf8_lossy(&reply).to_ascii_lowercase();
        assert!(reply.starts_with(&format!("http/1.1 {status}")), "{path} {host}: {reply}");
        if status == "302" {
            assert!(reply.contains(&format!("location: http://{address}")), "{reply}");
        }
    }
}
