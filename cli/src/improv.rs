//! Improv Wi-Fi from the desktop: the `--protocol` values of `unbox provision` (whose Improv
//! devices, over Bluetooth or a serial port, go through the same flow as every other device), the
//! serial ports that answer Improv in `unbox scan`, and `unbox demo --protocol improv`. Improv
//! has no claim channel: devices onboard Wi-Fi only, and the credentials travel in clear (BLE or
//! the serial line), which the flow warns about.

use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use tokio_util::sync::CancellationToken;
use unbox_core::device::WifiCredentials;
use unbox_core::flow::{BindingMode, DeviceTarget, Onboarding, OnboardingRequest, OnboardingSettings};
use unbox_core::improv::serial::{self, DEFAULT_BAUD_RATE};
use unbox_core::improv::{ImprovTimeouts, State};
use unbox_core::platform::ble::BleCentral;
use unbox_core::platform::secret_store::MemorySecretStore;
use unbox_core::security::ClientCredentials;

use crate::batch;
use crate::exit::Failure;

/// The device protocol to speak.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// ESP-IDF unified provisioning (BLE or SoftAP), with claim binding.
    Esp,
    /// Improv Wi-Fi over Bluetooth LE (ESPHome).
    Improv,
    /// Improv Wi-Fi over a serial port (ESPHome, WLED); needs --port.
    ImprovSerial,
    /// A captive-portal form on the device's open access point (WiFiManager-style firmware).
    Portal,
}

/// The serial ports that answer Improv's request-state, with the state they report.
pub async fn answering_serial_ports() -> Vec<(String, State)> {
    let Ok(ports) = serial::available_ports() else { return Vec::new() };
    let quick = ImprovTimeouts { command: Duration::from_secs(1), ..ImprovTimeouts::default() };
    let probes = ports.into_iter().map(|port| async move {
        let (reader, writer) = serial::open_port(&port, DEFAULT_BAUD_RATE).ok()?;
        let client = serial::open(reader, writer, quick).await.ok()?;
        let state = client.state();
        client.close().await;
        Some((port, state))
    });
    futures::future::join_all(probes).await.into_iter().flatten().collect()
}

/// `unbox demo --protocol improv`: a simulated ESPHome device over the in-memory BLE world and
/// (Linux) a second one on a pseudo-terminal, onboarded together through the flow, Wi-Fi only;
/// the demo presses the first one's button when it asks.
pub async fn demo(json: bool, timeline: bool, cancel: &CancellationToken) -> Result<(), Failure> {
    use unbox_sim::ble::SimBleCentral;
    use unbox_sim::device::SimNetwork;
    use unbox_sim::device::improv::gatt::SimImprovPeripheral;
    use unbox_sim::device::improv::{ImprovDeviceConfig, SimImprovDevice};

    const PERIPHERAL: &str = "C8:2B:96:00:00:01";
    let networks = vec![SimNetwork::new("HomeWifi", "demo-passphrase")];
    let device = SimImprovDevice::new(ImprovDeviceConfig::esphome("Kitchen Light", networks.clone()));
    let central: Arc<dyn BleCentral> = Arc::new(
        SimBleCentral::new(Vec::new())
            .with_improv(vec![SimImprovPeripheral::new(PERIPHERAL, device.clone())]),
    );
    let request = |device_name: &str, target| OnboardingRequest {
        device_name: device_name.to_owned(),
        target,
        credentials: ClientCredentials::Sec0,
        wifi: Some(WifiCredentials::new("HomeWifi", "demo-passphrase")),
        scan_wifi: true,
        binding: BindingMode::None,
        code: None,
    };
    let mut requests = vec![request(
        "Kitchen Light",
        DeviceTarget::Ble {
            peripheral_id: PERIPHERAL.into(),
            service: unbox_core::improv::ble::SERVICE_UUID,
        },
    )];
    #[cfg(target_os = "linux")]
    let _line = {
        let mut config = ImprovDeviceConfig::esphome("Desk Lamp", networks);
        config.requires_authorization = false;
        let line =
            unbox_sim::device::improv::pty::ImprovPty::open(SimImprovDevice::new(config)).map_err(|e| {
                Failure::new(crate::exit::Code::Internal, format!("cannot open a pseudo-terminal: {e}"))
            })?;
        let port = line.path().display().to_string();
        if !json {
            println!("simulated Improv serial device Desk Lamp on {port}");
        }
        requests.push(request("Desk Lamp", DeviceTarget::ImprovSerial { port, baud: DEFAULT_BAUD_RATE }));
        line
    };
    if !json {
        println!("simulated Improv BLE device Kitchen Light (the demo presses its button)");
    }
    let button = device.clone();
    let presser = tokio::spawn(async move {
        // The person reads the prompt, walks over, presses.
        while button.state() == State::AuthorizationRequired {
            tokio::time::sleep(Duration::from_millis(300)).await;
            button.press_button();
        }
    });
    let onboarding = Onboarding::without_account(
        Some(central),
        None,
        Arc::new(MemorySecretStore::new()),
        OnboardingSettings::default(),
    );
    let outcomes = batch::run(&onboarding, requests, 2, json, timeline, None, cancel).await;
    presser.abort();
    batch::report(outcomes, json)
}
