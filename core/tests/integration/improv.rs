//! The Improv client against the simulated Improv device (ESPHome's `esp32_improv` and
//! `improv_serial` behaviour): over the in-memory GATT server with notifications, and over a
//! real pseudo-terminal opened as a serial port.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use unbox_core::improv::{
    self, Capabilities, DeviceFault, FrameError, ImprovClient, ImprovError, ImprovProgress, ImprovTimeouts,
    State,
};
use unbox_core::platform::ble::BleCentral;
use unbox_core::secret::SecretString;
use unbox_sim::ble::SimBleCentral;
use unbox_sim::device::SimNetwork;
use unbox_sim::device::improv::gatt::SimImprovPeripheral;
use unbox_sim::device::improv::{ImprovDeviceConfig, SimImprovDevice};

const PERIPHERAL: &str = "C8:2B:96:00:11:22";

fn home() -> Vec<SimNetwork> {
    vec![SimNetwork::new("HomeWifi", "correct horse"), SimNetwork::new("Cafe", "")]
}

fn timeouts() -> ImprovTimeouts {
    ImprovTimeouts {
        authorization: Duration::from_secs(5),
        command: Duration::from_secs(5),
        provisioning: Duration::from_secs(5),
    }
}

async fn open_ble(config: ImprovDeviceConfig) -> (SimImprovDevice, ImprovClient) {
    let device = SimImprovDevice::new(config);
    let central = SimBleCentral::new(Vec::new())
        .with_improv(vec![SimImprovPeripheral::new(PERIPHERAL, device.clone())]);
    let connection = central.connect(PERIPHERAL).await.unwrap();
    let client = improv::ble::open(connection, timeouts()).await.unwrap();
    (device, client)
}

fn recorder() -> (Arc<Mutex<Vec<ImprovProgress>>>, impl FnMut(ImprovProgress) + Send) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (seen, move |progress| sink.lock().unwrap().push(progress))
}

#[tokio::test]
async fn ble_provisioning_waits_for_the_button_then_returns_the_redirect_url() {
    let (device, mut client) = open_ble(ImprovDeviceConfig::esphome("Kitchen Light", home())).await;
    assert_eq!(client.state(), State::AuthorizationRequired);
    assert_eq!(client.capabilities(), Some(Capabilities(0x07)));

    let (seen, mut record) = recorder();
    let button = device.clone();
    let press = tokio::spawn(async move {
        // The person presses once the app shows the prompt.
        while button.state() == State::AuthorizationRequired {
            tokio::time::sleep(Duration::from_millis(20)).await;
            button.press_button();
        }
    });
    let done = client.provision("HomeWifi", &SecretString::new("correct horse"), &mut record).await.unwrap();
    press.await.unwrap();

    assert_eq!(done.redirect_url.as_deref(), Some("http://kitchen-light.local"));
    assert_eq!(device.joined_network().as_deref(), Some("HomeWifi"));
    assert_eq!(client.state(), State::Provisioned);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            ImprovProgress::AuthorizationRequired { timeout: Duration::from_secs(5) },
            ImprovProgress::Authorized,
            ImprovProgress::Provisioning,
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn nobody_pressing_the_button_times_out_without_sending_credentials() {
    let (device, mut client) = open_ble(ImprovDeviceConfig::esphome("Plug", home())).await;
    let error =
        client.provision("HomeWifi", &SecretString::new("correct horse"), &mut |_| {}).await.unwrap_err();
    assert_eq!(error, ImprovError::AuthorizationTimedOut(Duration::from_secs(5)));
    assert_eq!(error.user_action(), unbox_core::UserAction::Retry);
    assert_eq!(device.joined_network(), None);
    assert_eq!(device.state(), State::AuthorizationRequired);
}

#[tokio::test]
async fn every_command_up_to_2_4_over_ble() {
    let mut config = ImprovDeviceConfig::esphome("Sensor", home());
    config.requires_authorization = false;
    let (device, mut client) = open_ble(config).await;

    client.identify().await.unwrap();
    let info = client.device_info().await.unwrap();
    assert_eq!(
        (info.firmware.as_str(), info.chip.as_str(), info.device_name.as_str()),
        ("ESPHome", "ESP32-C3", "Sensor")
    );
    let networks = client.scan_networks().await.unwrap();
    assert_eq!(
        networks.iter().map(|n| (n.ssid.as_str(), n.secured())).collect::<Vec<_>>(),
        [("HomeWifi", true), ("Cafe", false)]
    );
    assert_eq!(client.hostname(None).await.unwrap(), "sensor");
    assert_eq!(client.hostname(Some("porch-sensor")).await.unwrap(), "porch-sensor");
    assert_eq!(client.hostname(Some("bad_name")).await, Err(ImprovError::Device(DeviceFault::BadHostname)));
    assert_eq!(client.device_name(Some("Porch")).await.unwrap(), "Porch");
    assert_eq!(client.device_info().await.unwrap().device_name, "Porch");
    assert_eq!(device.identifies(), 1);
    assert_eq!(device.hostname(), "porch-sensor");
}

#[tokio::test]
async fn capability_bits_are_honoured_and_older_firmware_refuses_newer_commands() {
    let mut config = ImprovDeviceConfig::esphome("Old", home());
    config.capabilities = Capabilities(0);
    config.max_command = 0x04; // revision 2.2 firmware
    let (device, mut client) = open_ble(config).await;
    assert_eq!(client.identify().await, Err(ImprovError::Unsupported("identify")));
    assert_eq!(client.device_info().await.unwrap_err(), ImprovError::Unsupported("device info"));
    assert_eq!(client.scan_networks().await.unwrap_err(), ImprovError::Unsupported("scanning for networks"));
    assert_eq!(device.identifies(), 0);
    assert_eq!(client.hostname(None).await, Err(ImprovError::Device(DeviceFault::UnknownCommand)));
}

#[tokio::test]
async fn a_wrong_password_is_the_device_s_unable_to_connect() {
    let mut config = ImprovDeviceConfig::esphome("Plug", home());
    config.requires_authorization = false;
    let (device, mut client) = open_ble(config).await;
    let error = client.provision("HomeWifi", &SecretString::new("wrong"), &mut |_| {}).await.unwrap_err();
    assert_eq!(error, ImprovError::Device(DeviceFault::UnableToConnect));
    assert_eq!(error.user_action(), unbox_core::UserAction::EnterWifiPassword);
    assert_eq!(device.state(), State::Authorized);
    // The device takes a second try on the same link.
    client.provision("HomeWifi", &SecretString::new("correct horse"), &mut |_| {}).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn faults_become_typed_errors() {
    let mut config = ImprovDeviceConfig::esphome("Noisy", home());
    config.requires_authorization = false;
    config.faults.corrupt_results = true;
    let (_, mut client) = open_ble(config).await;
    assert!(matches!(client.device_info().await, Err(ImprovError::Frame(FrameError::Checksum { .. }))));

    let mut config = ImprovDeviceConfig::esphome("Quiet", home());
    config.requires_authorization = false;
    config.faults.drop_link_when_provisioned = true;
    let (device, mut client) = open_ble(config).await;
    let done = client.provision("Cafe", &SecretString::new(""), &mut |_| {}).await.unwrap();
    assert_eq!(done.redirect_url, None, "the link went before the result");
    assert_eq!(device.joined_network().as_deref(), Some("Cafe"));
}

#[tokio::test]
async fn results_longer_than_the_mtu_are_cut_as_a_real_notification_is() {
    let mut config = ImprovDeviceConfig::esphome("A device with a rather long name indeed", home());
    config.requires_authorization = false;
    let device = SimImprovDevice::new(config);
    let mut peripheral = SimImprovPeripheral::new(PERIPHERAL, device);
    peripheral.mtu = 23;
    let central = SimBleCentral::new(Vec::new()).with_improv(vec![peripheral]);
    let mut client = improv::ble::open(central.connect(PERIPHERAL).await.unwrap(), timeouts()).await.unwrap();
    assert!(matches!(client.device_info().await, Err(ImprovError::Frame(_))));
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn serial_provisioning_over_a_pseudo_terminal() {
    use unbox_core::improv::serial;
    use unbox_sim::device::improv::pty::ImprovPty;

    let mut config = ImprovDeviceConfig::esphome("Desk Lamp", home());
    config.requires_authorization = false;
    let device = SimImprovDevice::new(config);
    let line = ImprovPty::open(device.clone()).unwrap();
    let (reader, writer) =
        serial::open_port(line.path().to_str().unwrap(), serial::DEFAULT_BAUD_RATE).unwrap();
    let mut client = serial::open(reader, writer, timeouts()).await.unwrap();
    assert_eq!(client.state(), State::Authorized);
    assert_eq!(client.capabilities(), None);
    assert_eq!(client.identify().await, Err(ImprovError::Unsupported("identify")));
    assert_eq!(client.device_info().await.unwrap().firmware, "ESPHome");
    assert_eq!(client.scan_networks().await.unwrap().len(), 2);

    let done = client.provision("HomeWifi", &SecretString::new("correct horse"), &mut |_| {}).await.unwrap();
    assert_eq!(done.redirect_url.as_deref(), Some("http://desk-lamp.local"));
    assert_eq!(
        client.request_state().await.unwrap(),
        (State::Provisioned, Some("http://desk-lamp.local".into()))
    );
    client.close().await;
}

#[tokio::test]
async fn discovery_lists_improv_and_esp_devices_together_with_the_advertised_state() {
    use unbox_core::discovery::{DiscoveryConfig, DiscoveryScanner};
    use unbox_sim::ble::SimPeripheral;
    use unbox_sim::device::{DeviceConfig, SimDevice};

    let esp =
        SimPeripheral::new("24:0A:C4:00:00:01", SimDevice::new(DeviceConfig::new("PROV_AAAAAA"), Vec::new()));
    let improv_device = SimImprovDevice::new(ImprovDeviceConfig::esphome("Kitchen Light", home()));
    let central: Arc<dyn BleCentral> = Arc::new(
        SimBleCentral::new(vec![esp])
            .with_improv(vec![SimImprovPeripheral::new(PERIPHERAL, improv_device.clone())]),
    );
    let scanner = DiscoveryScanner::start(DiscoveryConfig::default(), Some(central)).await.unwrap();
    let found = crate::support::devices::heard_with_names(&scanner, 2).await;
    let improv = found.iter().find(|d| d.speaks_improv()).expect("the Improv device is listed");
    let esp = found.iter().find(|d| !d.speaks_improv()).expect("the ESP device is listed");
    assert_eq!(improv.name.as_deref(), Some("Kitchen Light"));
    assert_eq!(esp.name.as_deref(), Some("PROV_AAAAAA"));
    let advertised = improv.improv().expect("state read from the advertisement");
    assert_eq!(advertised.state, State::AuthorizationRequired);
    assert!(advertised.capabilities.identify());
    assert_eq!(esp.improv(), None);
    scanner.stop().await.unwrap();
}

/// Keeps every flow event.
#[derive(Default)]
struct Events(Mutex<Vec<unbox_core::flow::FlowEvent>>);

impl unbox_core::flow::FlowObserver for Events {
    fn on_event(&self, event: unbox_core::flow::FlowEvent) {
        self.0.lock().unwrap().push(event);
    }
}

#[tokio::test]
async fn the_one_call_flow_onboards_an_improv_device_wifi_only_through_the_seam() {
    use tokio_util::sync::CancellationToken;
    use unbox_core::device::{SecurityPolicy, WifiCredentials};
    use unbox_core::flow::{
        BindingMode, DeviceTarget, FlowError, Onboarding, OnboardingRequest, OnboardingSettings,
    };
    use unbox_core::onboarding::DeviceProtocol;
    use unbox_core::platform::secret_store::MemorySecretStore;
    use unbox_core::security::ClientCredentials;

    let device = SimImprovDevice::new(ImprovDeviceConfig::esphome("Kitchen Light", home()));
    let central: Arc<dyn BleCentral> = Arc::new(
        SimBleCentral::new(Vec::new())
            .with_improv(vec![SimImprovPeripheral::new(PERIPHERAL, device.clone())]),
    );
    let request = OnboardingRequest {
        device_name: "Kitchen Light".into(),
        target: DeviceTarget::Ble { peripheral_id: PERIPHERAL.into(), service: improv::ble::SERVICE_UUID },
        credentials: ClientCredentials::Sec0,
        wifi: Some(WifiCredentials::new("HomeWifi", "correct horse")),
        scan_wifi: true,
        binding: BindingMode::None,
        code: None,
    };
    let settings = OnboardingSettings::default();

    // An app that refuses cleartext protocols never sends the password.
    let strict = OnboardingSettings {
        policy: SecurityPolicy { allow_cleartext_protocols: false, ..settings.policy },
        ..settings.clone()
    };
    let refusing =
        Onboarding::without_account(Some(central.clone()), None, Arc::new(MemorySecretStore::new()), strict);
    let error =
        refusing.run(&request, &Events::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(error, FlowError::Device(_)), "{error:?}");
    assert_eq!(device.joined_network(), None);

    let onboarding =
        Onboarding::without_account(Some(central), None, Arc::new(MemorySecretStore::new()), settings);
    let button = device.clone();
    let press = tokio::spawn(async move {
        while button.state() == State::AuthorizationRequired {
            tokio::time::sleep(Duration::from_millis(20)).await;
            button.press_button();
        }
    });
    let events = Events::default();
    let done = onboarding.run(&request, &events, None, &CancellationToken::new()).await.unwrap();
    press.await.unwrap();

    assert!(done.binding.is_none(), "Improv onboards Wi-Fi only");
    let details = done.device.expect("the device's details");
    assert_eq!(details.protocol, DeviceProtocol::ImprovBle);
    assert_eq!(details.binding_modes, vec![BindingMode::None]);
    let network = done.network.expect("joined");
    assert_eq!(network.ssid, "HomeWifi");
    assert_eq!(network.redirect_url.as_deref(), Some("http://kitchen-light.local"));
    assert_eq!(device.joined_network().as_deref(), Some("HomeWifi"));
    let messages: Vec<String> = events.0.lock().unwrap().iter().map(|e| e.message.clone()).collect();
    assert!(messages.iter().any(|m| m.contains("Press the button on the device")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("anyone nearby can read the Wi-Fi password")), "{messages:?}");

    // A claim is refused: Improv cannot carry one.
    let claim = OnboardingRequest { binding: BindingMode::Claim, ..request };
    let error =
        onboarding.run(&claim, &Events::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(matches!(error, FlowError::AccountNeeded | FlowError::DeviceCannotBind), "{error:?}");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_one_call_flow_onboards_an_improv_serial_device_through_the_seam() {
    use tokio_util::sync::CancellationToken;
    use unbox_core::device::WifiCredentials;
    use unbox_core::flow::{BindingMode, DeviceTarget, Onboarding, OnboardingRequest, OnboardingSettings};
    use unbox_core::improv::serial::DEFAULT_BAUD_RATE;
    use unbox_core::onboarding::DeviceProtocol;
    use unbox_core::platform::secret_store::MemorySecretStore;
    use unbox_core::security::ClientCredentials;
    use unbox_sim::device::improv::pty::ImprovPty;

    let mut config = ImprovDeviceConfig::esphome("Desk Lamp", home());
    config.requires_authorization = false;
    let device = SimImprovDevice::new(config);
    let line = ImprovPty::open(device.clone()).unwrap();
    let port = line.path().to_str().unwrap().to_owned();
    let request = OnboardingRequest {
        device_name: "Desk Lamp".into(),
        target: DeviceTarget::ImprovSerial { port: port.clone(), baud: DEFAULT_BAUD_RATE },
        credentials: ClientCredentials::Sec0,
        wifi: Some(WifiCredentials::new("HomeWifi", "correct horse")),
        scan_wifi: true,
        binding: BindingMode::None,
        code: None,
    };
    // Neither Bluetooth nor Wi-Fi joining: the serial port is all the flow needs.
    let onboarding = Onboarding::without_account(
        None,
        None,
        Arc::new(MemorySecretStore::new()),
        OnboardingSettings::default(),
    );
    let events = Events::default();
    let done = onboarding.run(&request, &events, None, &CancellationToken::new()).await.unwrap();

    assert!(done.binding.is_none(), "Improv onboards Wi-Fi only");
    let details = done.device.expect("the device's details");
    assert_eq!(details.protocol, DeviceProtocol::ImprovSerial);
    assert_eq!(details.firmware.as_deref(), Some("ESPHome 2025.11.0"));
    assert_eq!(details.binding_modes, vec![BindingMode::None]);
    let network = done.network.expect("joined");
    assert_eq!(network.ssid, "HomeWifi");
    assert_eq!(network.redirect_url.as_deref(), Some("http://desk-lamp.local"));
    assert_eq!(device.joined_network().as_deref(), Some("HomeWifi"));
    let messages: Vec<String> = events.0.lock().unwrap().iter().map(|e| e.message.clone()).collect();
    assert!(messages.iter().any(|m| m.contains("anyone nearby can read the Wi-Fi password")), "{messages:?}");
    assert!(
        !messages.iter().any(|m| m.contains("Press the button")),
        "serial has no authorization: {messages:?}"
    );

    // A port nothing answers Improv on is a typed Improv error, not a hang or a panic.
    let missing = OnboardingRequest {
        target: DeviceTarget::ImprovSerial {
            port: "/dev/unbox-no-such-port".into(),
            baud: DEFAULT_BAUD_RATE,
        },
        ..request
    };
    let error =
        onboarding.run(&missing, &Events::default(), None, &CancellationToken::new()).await.unwrap_err();
    assert!(
        matches!(error, unbox_core::flow::FlowError::Improv(ImprovError::Serial(ref text)) if text.contains("/dev/unbox-no-such-port")),
        "{error:?}"
    );
}
