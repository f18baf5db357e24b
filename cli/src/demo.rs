//! `unbox demo`: a simulated device on loopback, provisioned end to end by the core's client.

use std::sync::Arc;
use std::time::Duration;

use unbox_core::device::{
    DeviceSession, ScanOptions, SecurityPolicy, StatusPolling, WifiCredentials, WifiStatus,
};
use unbox_core::secret::SecretString;
use unbox_core::security::ClientCredentials;
use unbox_core::transport::softap::SoftApTransport;
use unbox_sim::device::{DeviceConfig, SimDevice, SimNetwork, SimSecurity};
use unbox_sim::softap::SoftApServer;

use crate::exit::{Code, Failure};

const SSID: &str = "HomeNet";
const PASSPHRASE: &str = "correct horse battery";

fn failed(step: &str) -> impl Fn(unbox_core::device::DeviceError) -> Failure + '_ {
    move |error| Failure::new(Code::Internal, format!("{step}: {error}"))
}

/// Runs the demo and prints each step.
pub async fn run() -> Result<(), Failure> {
    let password = SecretString::new("abcd1234");
    let config = DeviceConfig::new("PROV_1A2B3C")
        .with_security(SimSecurity::Sec2 {
            username: "wifiprov".into(),
            password: password.clone(),
            patch_version: 1,
        })
        .with_network(SimNetwork::new(SSID, PASSPHRASE))
        .with_network(SimNetwork { rssi: -72, channel: 1, ..SimNetwork::new("Neighbour", "not yours") });
    let device = SimDevice::new(config, Vec::new());
    let server = SoftApServer::bind(device.clone(), "127.0.0.1:0")
        .await
        .map_err(|e| Failure::new(Code::Internal, format!("cannot start the simulated device: {e}")))?;
    println!("simulated device PROV_1A2B3C (security 2) on http://{}", server.address());

    let transport = Arc::new(
        SoftApTransport::new(&server.address().to_string(), Duration::from_secs(10))
            .map_err(|e| Failure::new(Code::Internal, e.to_string()))?,
    );
    let credentials = ClientCredentials::Sec2 { username: "wifiprov".into(), password, patch_version: 1 };
    let session = DeviceSession::open(transport, &credentials, &SecurityPolicy::default())
        .await
        .map_err(failed("secure session"))?;
    println!(
        "secure session established: {:?}, capabilities {:?}",
        session.info().security,
        session.info().capabilities
    );
    let networks = session
        .scan_wifi(ScanOptions::for_transport(session.transport().kind()))
        .await
        .map_err(failed("scan"))?;
    for network in &networks {
        println!(
            "  device sees {:<12} {:>4} dBm  channel {:>2}  {:?}",
            network.ssid, network.rssi, network.channel, network.auth
        );
    }
    session
        .set_wifi_config(&WifiCredentials::new(SSID, PASSPHRASE))
        .await
        .map_err(failed("send Wi-Fi credentials"))?;
    session.apply_wifi_config().await.map_err(failed("apply Wi-Fi credentials"))?;
    println!("credentials sent and applied; waiting for the device to join {SSID}");
    let connected = session
        .wait_for_wifi(StatusPolling::default(), |status| {
            if let WifiStatus::Connecting { .. } = status {
                println!("  device is connecting...");
            }
        })
        .await
        .map_err(failed("join Wi-Fi"))?;
    println!("device joined {} with address {}", connected.ssid, connected.ip4_addr);
    let stats = device.stats();
    println!("exchanges with the device: {} ({:?})", stats.total(), stats.by_endpoint);
    Ok(())
}
