//! Improv Wi-Fi from the desktop: `unbox provision --protocol improv-serial --port /dev/ttyUSB0`
//! (or `--protocol improv --device NAME[=PERIPHERAL_ID]` over Bluetooth), the serial ports that
//! answer Improv in `unbox scan`, and `unbox demo --protocol improv`. Improv has no claim channel:
//! devices onboard Wi-Fi only, and the credentials travel in clear (BLE or the serial line).

use std::time::Duration;

use clap::ValueEnum;
use unbox_core::improv::serial::{self, DEFAULT_BAUD_RATE};
use unbox_core::improv::{ImprovClient, ImprovError, ImprovProgress, ImprovTimeouts, Provisioned, State};
use unbox_core::platform::ble::BleCentral;
use unbox_core::secret::SecretString;

use crate::exit::{Code, Failure};

/// The device protocol to speak.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// ESP-IDF unified provisioning (BLE or SoftAP), with claim binding.
    Esp,
    /// Improv Wi-Fi over Bluetooth LE (ESPHome).
    Improv,
    /// Improv Wi-Fi over a serial port (ESPHome, WLED); needs --port.
    ImprovSerial,
}

/// The warning printed before credentials go out in clear.
pub const CLEARTEXT_WARNING: &str = "Improv sends the Wi-Fi password unencrypted (anyone nearby can read it over \
     Bluetooth); Improv has no account binding: the device is onboarded Wi-Fi only";

/// Failure of an Improv step, its exit code from the error's user action.
pub fn failure(error: ImprovError) -> Failure {
    Failure::new(error.user_action().into(), error.to_string())
}

/// Opens Improv on a serial port.
pub async fn open_serial(
    port: &str,
    baud_rate: u32,
    timeouts: ImprovTimeouts,
) -> Result<ImprovClient, ImprovError> {
    let (reader, writer) = serial::open_port(port, baud_rate)?;
    serial::open(reader, writer, timeouts).await
}

/// Opens Improv on a BLE peripheral.
pub async fn open_ble(
    central: &dyn BleCentral,
    peripheral_id: &str,
    timeouts: ImprovTimeouts,
) -> Result<ImprovClient, ImprovError> {
    let connection = central.connect(peripheral_id).await?;
    unbox_core::improv::ble::open(connection, timeouts).await
}

/// Sends the credentials, showing the button prompt when the device asks for it, and prints the
/// result.
pub async fn provision(
    mut client: ImprovClient,
    label: &str,
    ssid: &str,
    passphrase: &SecretString,
    json: bool,
) -> Result<Provisioned, Failure> {
    if !json {
        eprintln!("warning: {CLEARTEXT_WARNING}");
    }
    let mut show = |progress: ImprovProgress| {
        if json {
            return;
        }
        match progress {
            ImprovProgress::AuthorizationRequired { timeout } => {
                eprintln!("{label}: press the button on the device (waiting {}s)", timeout.as_secs())
            }
            ImprovProgress::Authorized => eprintln!("{label}: authorized"),
            ImprovProgress::Provisioning => eprintln!("{label}: joining {ssid}..."),
        }
    };
    let outcome = client.provision(ssid, passphrase, &mut show).await;
    client.close().await;
    let done = outcome.map_err(failure)?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "device": label,
                "protocol": "improv",
                "joined": ssid,
                "binding": "none",
                "redirect_url": done.redirect_url,
            })
        );
    } else {
        println!("{label}: joined {ssid} (Wi-Fi only, not bound to an account)");
        if let Some(url) = &done.redirect_url {
            println!("{label}: continue at {url}");
        }
    }
    Ok(done)
}

/// The serial ports that answer Improv's request-state, with the state they report.
pub async fn answering_serial_ports() -> Vec<(String, State)> {
    let Ok(ports) = serial::available_ports() else { return Vec::new() };
    let quick = ImprovTimeouts { command: Duration::from_secs(1), ..ImprovTimeouts::default() };
    let probes = ports.into_iter().map(|port| async move {
        let client = open_serial(&port, DEFAULT_BAUD_RATE, quick).await.ok()?;
        let state = client.state();
        client.close().await;
        Some((port, state))
    });
    futures::future::join_all(probes).await.into_iter().flatten().collect()
}

/// `unbox demo --protocol improv`: a simulated ESPHome device over the in-memory BLE world and a
/// second one on a pseudo-terminal (Linux), both onboarded; the demo presses the first one's
/// button when it asks.
pub async fn demo(json: bool) -> Result<(), Failure> {
    use unbox_sim::ble::SimBleCentral;
    use unbox_sim::device::SimNetwork;
    use unbox_sim::device::improv::gatt::SimImprovPeripheral;
    use unbox_sim::device::improv::{ImprovDeviceConfig, SimImprovDevice};

    const PERIPHERAL: &str = "C8:2B:96:00:00:01";
    let networks = vec![SimNetwork::new("HomeWifi", "demo-passphrase")];
    let passphrase = SecretString::new("demo-passphrase");
    let device = SimImprovDevice::new(ImprovDeviceConfig::esphome("Kitchen Light", networks.clone()));
    let central = SimBleCentral::new(Vec::new())
        .with_improv(vec![SimImprovPeripheral::new(PERIPHERAL, device.clone())]);
    let button = device.clone();
    let presser = tokio::spawn(async move {
        // The person reads the prompt, walks over, presses.
        while button.state() == State::AuthorizationRequired {
            tokio::time::sleep(Duration::from_millis(300)).await;
            button.press_button();
        }
    });
    let client = open_ble(&central, PERIPHERAL, ImprovTimeouts::default()).await.map_err(failure)?;
    provision(client, "Kitchen Light (Improv BLE)", "HomeWifi", &passphrase, json).await?;
    presser.abort();

    #[cfg(target_os = "linux")]
    {
        let mut config = ImprovDeviceConfig::esphome("Desk Lamp", networks);
        config.requires_authorization = false;
        let line = unbox_sim::device::improv::pty::ImprovPty::open(SimImprovDevice::new(config))
            .map_err(|e| Failure::new(Code::Internal, format!("cannot open a pseudo-terminal: {e}")))?;
        let port = line.path().display().to_string();
        let client =
            open_serial(&port, DEFAULT_BAUD_RATE, ImprovTimeouts::default()).await.map_err(failure)?;
        provision(client, &format!("Desk Lamp (Improv serial on {port})"), "HomeWifi", &passphrase, json)
            .await?;
    }
    Ok(())
}
