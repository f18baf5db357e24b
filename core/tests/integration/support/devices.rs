//! Shared set-up for integration tests: simulated devices reached over loopback HTTP or the
//! in-memory BLE world, through the core's real transports.

use std::sync::Arc;
use std::time::Duration;

use unbox_core::device::{DeviceSession, SecurityPolicy, StatusPolling};
use unbox_core::discovery::ESP_IDF_DEFAULT_SERVICE_UUID;
use unbox_core::secret::SecretString;
use unbox_core::security::ClientCredentials;
use unbox_core::transport::Transport;
use unbox_core::transport::ble::BleTransport;
use unbox_core::transport::softap::SoftApTransport;
use unbox_sim::ble::{SimBleCentral, SimPeripheral};
use unbox_sim::device::{DeviceConfig, SimDevice, SimNetwork, SimSecurity};
use unbox_sim::softap::SoftApServer;

pub const HOME_SSID: &str = "HomeNet";
pub const HOME_PASSPHRASE: &str = "correct horse battery";
pub const POP: &str = "abcd1234";

/// A device that joins quickly and sees two networks.
pub fn device_config(security: SimSecurity) -> DeviceConfig {
    DeviceConfig::new("PROV_1A2B3C")
        .with_security(security)
        .with_timing(Duration::from_millis(100), Duration::from_millis(150))
        .with_network(SimNetwork::new(HOME_SSID, HOME_PASSPHRASE))
        .with_network(SimNetwork { rssi: -71, channel: 11, ..SimNetwork::new("Neighbour", "their secret") })
}

pub fn sec2(patch_version: u32) -> SimSecurity {
    SimSecurity::Sec2 { username: "wifiprov".into(), password: SecretString::new(POP), patch_version }
}

pub fn sec1() -> SimSecurity {
    SimSecurity::Sec1 { pop: Some(SecretString::new(POP)) }
}

/// Client credentials matching a simulated device's security.
pub fn credentials_for(security: &SimSecurity) -> ClientCredentials {
    match security {
        SimSecurity::Sec0 => ClientCredentials::Sec0,
        SimSecurity::Sec1 { pop } => ClientCredentials::Sec1 { pop: pop.clone().unwrap_or_default() },
        SimSecurity::Sec2 { username, password, .. } => {
            ClientCredentials::Sec2 { username: username.clone(), password: password.clone() }
        }
    }
}

pub fn permissive() -> SecurityPolicy {
    SecurityPolicy {
        allow_unencrypted: true,
        allow_sec1_without_pop: true,
        allow_sec2_static_nonce: true,
        allow_cleartext_protocols: true,
    }
}

pub fn fast_polling() -> StatusPolling {
    StatusPolling {
        initial_delay: Duration::from_millis(50),
        interval: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
        deadline: Duration::from_secs(10),
    }
}

/// How a test reaches the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    SoftAp,
    Ble,
}

pub const LINKS: [Link; 2] = [Link::SoftAp, Link::Ble];

/// A simulated device reachable over one kind of link.
pub struct Rig {
    pub device: SimDevice,
    pub link: Link,
    server: Option<SoftApServer>,
    pub central: Option<Arc<SimBleCentral>>,
}

pub const PERIPHERAL_ID: &str = "24:0A:C4:1A:2B:3C";

impl Rig {
    pub async fn start(link: Link, config: DeviceConfig) -> Self {
        Self::with_device(link, SimDevice::new(config, Vec::new())).await
    }

    pub async fn with_device(link: Link, device: SimDevice) -> Self {
        match link {
            Link::SoftAp => {
                let server = SoftApServer::bind(device.clone(), "127.0.0.1:0").await.expect("bind loopback");
                Self { device, link, server: Some(server), central: None }
            }
            Link::Ble => {
                let central = SimBleCentral::new(vec![SimPeripheral::new(PERIPHERAL_ID, device.clone())]);
                Self { device, link, server: None, central: Some(Arc::new(central)) }
            }
        }
    }

    pub async fn with_peripheral(peripheral: SimPeripheral) -> Self {
        let device = peripheral.device.clone();
        let central = SimBleCentral::new(vec![peripheral]);
        Self { device, link: Link::Ble, server: None, central: Some(Arc::new(central)) }
    }

    /// TCP connections the device's SoftAP server accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.server.as_ref().map_or(0, SoftApServer::connections_accepted)
    }

    /// A fresh link to the device (a new socket or a new BLE connection).
    pub async fn connect(&self) -> Arc<dyn Transport> {
        self.try_connect(Duration::from_secs(5)).await.expect("connect to the simulated device")
    }

    pub async fn try_connect(
        &self,
        timeout: Duration,
    ) -> Result<Arc<dyn Transport>, unbox_core::transport::TransportError> {
        match self.link {
            Link::SoftAp => {
                let address = self.server.as_ref().expect("server").address().to_string();
                Ok(Arc::new(SoftApTransport::new(&address, timeout)?))
            }
            Link::Ble => {
                let central = self.central.as_ref().expect("central");
                Ok(Arc::new(
                    BleTransport::connect(
                        central.as_ref(),
                        PERIPHERAL_ID,
                        ESP_IDF_DEFAULT_SERVICE_UUID,
                        timeout,
                    )
                    .await?,
                ))
            }
        }
    }

    /// Connects and opens a secure session with the device's own credentials.
    pub async fn session(&self) -> DeviceSession {
        let credentials = credentials_for(&self.device.config().security);
        DeviceSession::open(self.connect().await, &credentials, &permissive()).await.expect("open session")
    }
}

/// The scanner's list once `count` devices in it have names (their scan responses were heard);
/// at most 5 s.
pub async fn heard_with_names(
    scanner: &unbox_core::discovery::DiscoveryScanner,
    count: usize,
) -> Vec<unbox_core::discovery::DiscoveredDevice> {
    let mut updates = scanner.subscribe();
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let devices = updates.borrow_and_update().clone();
            if devices.iter().filter(|d| d.name.is_some()).count() == count {
                return devices;
            }
            updates.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{count} devices are heard with their names"))
}
