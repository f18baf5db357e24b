//! `unbox scan`: devices in setup mode around this computer, over Bluetooth (btleplug) and in
//! the Wi-Fi networks the OS reports (NetworkManager's `nmcli` on Linux).

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use unbox_core::ble::BleCentral;
use unbox_core::ble::btleplug::BtleplugCentral;
use unbox_core::discovery::{DiscoveredDevice, DiscoveryConfig, DiscoveryScanner, WifiNetwork};

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

/// Parses `nmcli -t -f SSID,BSSID,SIGNAL,CHAN,SECURITY dev wifi list` (colons in values are
/// escaped with a backslash; signal is 0–100 %).
pub fn parse_nmcli(output: &str) -> Vec<WifiNetwork> {
    output
        .lines()
        .filter_map(|line| {
            let mut fields = Vec::new();
            let mut current = String::new();
            let mut chars = line.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => current.extend(chars.next()),
                    ':' => fields.push(std::mem::take(&mut current)),
                    other => current.push(other),
                }
            }
            fields.push(current);
            let [ssid, bssid, signal, channel, security] = <[String; 5]>::try_from(fields).ok()?;
            if ssid.is_empty() {
                return None;
            }
            let bssid = hex::decode(bssid.replace(':', "")).ok().and_then(|b| <[u8; 6]>::try_from(b).ok());
            // NetworkManager reports quality in percent; map it onto a dBm-like scale.
            let quality: i16 = signal.parse().ok()?;
            Some(WifiNetwork {
                ssid,
                bssid,
                rssi: quality / 2 - 100,
                channel: channel.parse().ok(),
                secured: !security.is_empty() && security != "--",
            })
        })
        .collect()
}

fn os_wifi_networks() -> Option<Vec<WifiNetwork>> {
    let output = std::process::Command::new("nmcli")
        .args(["-t", "-f", "SSID,BSSID,SIGNAL,CHAN,SECURITY", "dev", "wifi", "list"])
        .output()
        .ok()?;
    output.status.success().then(|| parse_nmcli(&String::from_utf8_lossy(&output.stdout)))
}

fn print_devices(devices: &[DiscoveredDevice], json: bool) -> Result<(), Failure> {
    if json {
        let rows: Vec<_> = devices
            .iter()
            .map(|d| {
                serde_json::json!({
                    "name": d.name,
                    "rssi": d.rssi,
                    "ble": d.ble.as_ref().map(|b| b.peripheral_id.clone()),
                    "softap": d.softap.as_ref().map(|s| s.ssid.clone()),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).map_err(|e| Failure::new(Code::Internal, e.to_string()))?
        );
        return Ok(());
    }
    if devices.is_empty() {
        println!("no device in setup mode found; put the device in setup mode and scan again");
    }
    for device in devices {
        let transports: Vec<&str> =
            [device.ble.as_ref().map(|_| "ble"), device.softap.as_ref().map(|_| "softap")]
                .into_iter()
                .flatten()
                .collect();
        println!(
            "{:<20} {:>5} dBm  {:<11} {}",
            device.name.as_deref().unwrap_or("(no name)"),
            device.rssi.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
            transports.join("+"),
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
    let wifi = os_wifi_networks();
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
    print_devices(&devices, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nmcli_terse_output() {
        let output = "PROV_1A2B3C:24\\:0A\\:C4\\:1A\\:2B\\:3C:80:6:WPA2\nHome\\:Net:AA\\:BB\\:CC\\:DD\\:EE\\:FF:40:11:\n:00\\:11\\:22\\:33\\:44\\:55:10:1:WPA2\n";
        let networks = parse_nmcli(output);
        assert_eq!(networks.len(), 2, "hidden networks are skipped");
        assert_eq!(networks[0].ssid, "PROV_1A2B3C");
        assert_eq!(networks[0].bssid, Some([0x24, 0x0a, 0xc4, 0x1a, 0x2b, 0x3c]));
        assert_eq!((networks[0].rssi, networks[0].channel, networks[0].secured), (-60, Some(6), true));
        assert_eq!(networks[1].ssid, "Home:Net");
        assert!(!networks[1].secured);
    }
}
