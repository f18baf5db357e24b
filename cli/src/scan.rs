//! `unbox scan`: devices in setup mode around this computer, over Bluetooth (btleplug) and in
//! the Wi-Fi networks the OS reports (NetworkManager's `nmcli` on Linux).

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use unbox_core::btleplug::BtleplugCentral;
use unbox_core::discovery::{DiscoveredDevice, DiscoveryConfig, DiscoveryScanner};
use unbox_core::improv::State;
use unbox_core::platform::ble::BleCentral;

use crate::exit::{Code, Failure};

/// Arguments of `scan`.
#[derive(Args)]
pub struct ScanArgs {
    /// How long to listen, in seconds.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Name / SSID prefix of devices in setup mode.
    #[arg(long, default_value = "PROV_")]
    prefix: String,
}

fn protocol(device: &DiscoveredDevice) -> &'static str {
    if device.speaks_improv() { "improv" } else { "esp" }
}

fn print_devices(
    devices: &[DiscoveredDevice],
    serial: &[(String, State)],
    json: bool,
) -> Result<(), Failure> {
    if json {
        let mut rows: Vec<_> = devices
            .iter()
            .map(|d| {
                serde_json::json!({
                    "name": d.name,
                    "protocol": protocol(d),
                    "improv_state": d.improv().map(|i| format!("{:?}", i.state)),
                    "rssi": d.rssi,
                    "ble": d.ble.as_ref().map(|b| b.peripheral_id.clone()),
                    "softap": d.softap.as_ref().map(|s| s.ssid.clone()),
                })
            })
            .collect();
        rows.extend(serial.iter().map(|(port, state)| {
            serde_json::json!({ "name": null, "protocol": "improv-serial", "improv_state": format!("{state:?}"), "serial": port })
        }));
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).map_err(|e| Failure::new(Code::Internal, e.to_string()))?
        );
        return Ok(());
    }
    if devices.is_empty() && serial.is_empty() {
        println!("no device in setup mode found; put the device in setup mode and scan again");
    }
    for (port, state) in serial {
        println!("{port:<20} {:>9}  {:<11} improv-serial ({state:?})", "", "serial");
    }
    for device in devices {
        let transports: Vec<&str> =
            [device.ble.as_ref().map(|_| "ble"), device.softap.as_ref().map(|_| "softap")]
                .into_iter()
                .flatten()
                .collect();
        println!(
            "{:<20} {:>5} dBm  {:<11} {:<6} {}",
            device.name.as_deref().unwrap_or("(no name)"),
            device.rssi.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
            transports.join("+"),
            protocol(device),
            device.ble.as_ref().map(|b| b.peripheral_id.as_str()).unwrap_or(""),
        );
    }
    Ok(())
}

/// Scans and prints what it found.
pub async fn run(args: ScanArgs, json: bool) -> Result<(), Failure> {
    let ble: Option<Arc<dyn BleCentral>> = match BtleplugCentral::new().await {
        Ok(central) => Some(Arc::new(central)),
        Err(error) => {
            eprintln!("Bluetooth scan skipped: {error}");
            None
        }
    };
    let wifi = crate::desktop_wifi::scan_with_nmcli();
    if wifi.is_none() {
        eprintln!("Wi-Fi scan skipped: nmcli is not available on this system");
    }
    if ble.is_none() && wifi.is_none() {
        return Err(Failure::new(
            Code::Unavailable,
            "neither Bluetooth nor a Wi-Fi scan is available on this computer",
        ));
    }
    let config = DiscoveryConfig {
        name_prefixes: vec![args.prefix.clone()],
        ssid_prefixes: vec![args.prefix.clone()],
        ..DiscoveryConfig::default()
    };
    let scanner = DiscoveryScanner::start(config, ble)
        .await
        .map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?;
    if let Some(networks) = wifi {
        scanner.set_wifi_networks(networks);
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let devices = scanner.devices();
    scanner.stop().await.map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?;
    let serial = crate::improv::answering_serial_ports().await;
    print_devices(&devices, &serial, json)
}
