//! The live list of devices in setup mode, from the shell's BLE scan and Wi-Fi scan results.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use unbox_core::discovery as core;
use unbox_core::onboarding::DeviceProtocol;
use unbox_core::platform::ble::{ManufacturerData, ServiceData};
use uuid::Uuid;

use crate::ble::{BleCentral, core_central};
use crate::runtime::on_runtime;

/// What discovery looks for. `defaultDiscoveryOptions()` finds ESP devices in setup mode.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DiscoveryOptions {
    /// BLE service UUIDs that mark a device in setup mode.
    pub service_uuids: Vec<Uuid>,
    /// BLE local-name prefixes that mark a device in setup mode.
    pub name_prefixes: Vec<String>,
    /// SoftAP SSID prefixes that mark a device in setup mode.
    pub ssid_prefixes: Vec<String>,
    /// SSID prefixes of captive-portal devices' access points (WiFiManager-style firmware, whose
    /// default names are `ESP32_` or `ESP_` and the chip id); empty by default.
    pub portal_ssid_prefixes: Vec<String>,
    /// A BLE device not heard for longer than this leaves the list.
    pub expiry: Duration,
    /// How often signal strengths and expiry are published.
    pub refresh_interval: Duration,
}

/// The options that find ESP devices in setup mode (the core's defaults).
#[uniffi::export]
pub fn default_discovery_options() -> DiscoveryOptions {
    let config = core::DiscoveryConfig::default();
    DiscoveryOptions {
        service_uuids: config.service_uuids,
        name_prefixes: config.name_prefixes,
        ssid_prefixes: config.ssid_prefixes,
        portal_ssid_prefixes: config.portal_ssid_prefixes,
        expiry: config.expiry,
        refresh_interval: config.refresh_interval,
    }
}

// Options of their own: the app sets what it can tune; the core's other settings keep their
// defaults (checked when discovery starts).
impl From<DiscoveryOptions> for core::DiscoveryConfig {
    fn from(options: DiscoveryOptions) -> Self {
        Self {
            service_uuids: options.service_uuids,
            name_prefixes: options.name_prefixes,
            ssid_prefixes: options.ssid_prefixes,
            portal_ssid_prefixes: options.portal_ssid_prefixes,
            expiry: options.expiry,
            refresh_interval: options.refresh_interval,
            ..core::DiscoveryConfig::default()
        }
    }
}

/// One network from the phone's Wi-Fi scan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WifiNetwork {
    /// The network name.
    pub ssid: String,
    /// The access point's MAC address (6 bytes), when the platform reports it.
    pub bssid: Option<Vec<u8>>,
    /// Received signal strength in dBm.
    pub rssi: i16,
    /// The Wi-Fi channel, when the platform reports it.
    pub channel: Option<u16>,
    /// Whether joining needs a passphrase.
    pub secured: bool,
}

impl From<WifiNetwork> for core::WifiNetwork {
    fn from(network: WifiNetwork) -> Self {
        Self {
            ssid: network.ssid,
            bssid: network.bssid.and_then(|bytes| <[u8; 6]>::try_from(bytes).ok()),
            rssi: network.rssi,
            channel: network.channel,
            secured: network.secured,
        }
    }
}

impl From<core::WifiNetwork> for WifiNetwork {
    fn from(network: core::WifiNetwork) -> Self {
        Self {
            ssid: network.ssid,
            bssid: network.bssid.map(Vec::from),
            rssi: network.rssi,
            channel: network.channel,
            secured: network.secured,
        }
    }
}

/// How to reach a discovered device over BLE.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BleEndpoint {
    /// The stack's identifier of the peripheral, to connect to.
    pub peripheral_id: String,
    /// Smoothed signal strength in dBm.
    pub rssi: Option<i16>,
    /// Advertised service UUIDs.
    pub service_uuids: Vec<Uuid>,
}

/// How to reach a discovered device through its own access point.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SoftApEndpoint {
    /// The access point's SSID, to join.
    pub ssid: String,
    /// The access point's MAC address, when reported.
    pub bssid: Option<Vec<u8>>,
    /// Signal strength in dBm.
    pub rssi: i16,
    /// The Wi-Fi channel, when reported.
    pub channel: Option<u16>,
    /// Whether joining needs the device's passphrase.
    pub secured: bool,
}

/// A device in setup mode with every transport it was found on.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DiscoveredDevice {
    /// The device's service name (BLE local name or SoftAP SSID), when known.
    pub name: Option<String>,
    /// Present when heard over BLE.
    pub ble: Option<BleEndpoint>,
    /// Present when its access point was in the Wi-Fi scan.
    pub softap: Option<SoftApEndpoint>,
    /// The strongest signal over its transports in dBm.
    pub rssi: Option<i16>,
    /// BLE manufacturer data by company identifier.
    pub manufacturer_data: ManufacturerData,
    /// BLE service data by service UUID.
    pub service_data: ServiceData,
    /// The provisioning protocol it speaks.
    pub protocol: DeviceProtocol,
    /// What an Improv device advertises (read without connecting); null for other devices.
    pub improv: Option<ImprovAdvertisement>,
}

/// The state and capabilities an Improv device advertises (service data `0x4677`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImprovAdvertisement {
    /// The person must press the device's button before it takes Wi-Fi credentials.
    pub authorization_required: bool,
    /// The device has joined a network already.
    pub provisioned: bool,
    /// It can identify itself (blink, beep) when asked.
    pub can_identify: bool,
}

impl From<core::DiscoveredDevice> for DiscoveredDevice {
    fn from(device: core::DiscoveredDevice) -> Self {
        let improv = device.improv();
        Self {
            name: device.name,
            ble: device.ble.map(|ble| BleEndpoint {
                peripheral_id: ble.peripheral_id,
                rssi: ble.rssi,
                service_uuids: ble.service_uuids,
            }),
            softap: device.softap.map(|ap| SoftApEndpoint {
                ssid: ap.ssid,
                bssid: ap.bssid.map(Vec::from),
                rssi: ap.rssi,
                channel: ap.channel,
                secured: ap.secured,
            }),
            rssi: device.rssi,
            manufacturer_data: device.manufacturer_data,
            service_data: device.service_data,
            improv: improv.map(|advertised| ImprovAdvertisement {
                authorization_required: advertised.state == unbox_core::improv::State::AuthorizationRequired,
                provisioned: advertised.state == unbox_core::improv::State::Provisioned,
                can_identify: advertised.capabilities.identify(),
            }),
            protocol: device.protocol,
        }
    }
}

/// Told of every change of the device list.
#[uniffi::export(with_foreign)]
pub trait DiscoveryListener: Send + Sync {
    /// The whole list, strongest signal first.
    fn on_devices_changed(&self, devices: Vec<DiscoveredDevice>);
}

/// A shell's listener seen as the core's.
struct ForeignListener(Arc<dyn DiscoveryListener>);

impl core::DeviceListListener for ForeignListener {
    fn on_devices_changed(&self, devices: Vec<core::DiscoveredDevice>) {
        self.0.on_devices_changed(devices.into_iter().map(DiscoveredDevice::from).collect());
    }
}

/// A running discovery. Stop it with `stop()`.
#[derive(Debug, uniffi::Object)]
pub struct DeviceDiscovery {
    scanner: Mutex<Option<core::DiscoveryScanner>>,
    devices: tokio::sync::watch::Receiver<Vec<core::DiscoveredDevice>>,
}

/// Starts discovery: a BLE scan on `central` when given (null with Bluetooth off), plus the
/// Wi-Fi scan results passed to `setWifiNetworks` of the discovery. `listener` hears every
/// change of the list until the discovery stops.
#[uniffi::export]
pub async fn start_discovery(
    options: DiscoveryOptions,
    central: Option<Arc<dyn BleCentral>>,
    listener: Arc<dyn DiscoveryListener>,
) -> Result<Arc<DeviceDiscovery>, DiscoveryError> {
    on_runtime(async move {
        let central = central.map(core_central);
        let scanner = core::DiscoveryScanner::start(options.into(), central).await?;
        scanner.notify(Arc::new(ForeignListener(listener)));
        let devices = scanner.subscribe();
        Ok(Arc::new(DeviceDiscovery { scanner: Mutex::new(Some(scanner)), devices }))
    })
    .await
}

#[uniffi::export]
impl DeviceDiscovery {
    /// The current list, strongest signal first.
    pub fn devices(&self) -> Vec<DiscoveredDevice> {
        self.devices.borrow().iter().cloned().map(DiscoveredDevice::from).collect()
    }

    /// Replaces the Wi-Fi scan results with the phone's latest scan.
    pub async fn set_wifi_networks(&self, networks: Vec<WifiNetwork>) {
        if let Some(scanner) = self.scanner.lock().await.as_ref() {
            scanner.set_wifi_networks(networks.into_iter().map(Into::into).collect());
        }
    }

    /// Stops the BLE scan and the discovery. Stopping twice does nothing.
    pub async fn stop(&self) -> Result<(), DiscoveryError> {
        let scanner = self.scanner.lock().await.take();
        match scanner {
            Some(scanner) => on_runtime(async move { Ok(scanner.stop().await?) }).await,
            None => Ok(()),
        }
    }
}

/// Why discovery could not start or stop.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum DiscoveryError {
    /// A discovery option is unusable.
    #[error(transparent)]
    InvalidOptions(core::DiscoveryConfigError),
    /// The Bluetooth stack refused to start or stop the scan.
    #[error(transparent)]
    Bluetooth(unbox_core::platform::ble::BleError),
}

impl From<core::DiscoveryError> for DiscoveryError {
    fn from(error: core::DiscoveryError) -> Self {
        match error {
            core::DiscoveryError::Config(config) => Self::InvalidOptions(config),
            core::DiscoveryError::Ble(ble) => Self::Bluetooth(ble),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_round_trip_to_the_core_defaults() {
        let config = core::DiscoveryConfig::from(default_discovery_options());
        assert_eq!(config, core::DiscoveryConfig::default());
    }

    struct Deaf;

    impl DiscoveryListener for Deaf {
        fn on_devices_changed(&self, _devices: Vec<DiscoveredDevice>) {}
    }

    #[tokio::test]
    async fn unusable_options_are_typed_errors() {
        let options = DiscoveryOptions { expiry: Duration::ZERO, ..default_discovery_options() };
        let started = start_discovery(options, None, Arc::new(Deaf)).await;
        assert!(matches!(started, Err(DiscoveryError::InvalidOptions(_))), "{started:?}");
    }

    #[test]
    fn wifi_networks_keep_a_six_byte_bssid_only() {
        let network = WifiNetwork {
            ssid: "PROV_1A2B3C".into(),
            bssid: Some(vec![1, 2, 3, 4, 5, 6]),
            rssi: -50,
            channel: Some(6),
            secured: false,
        };
        let converted = core::WifiNetwork::from(network.clone());
        assert_eq!(converted.bssid, Some([1, 2, 3, 4, 5, 6]));
        assert_eq!(WifiNetwork::from(converted), network);
        let odd = core::WifiNetwork::from(WifiNetwork { bssid: Some(vec![1, 2]), ..network });
        assert_eq!(odd.bssid, None);
    }

    struct Silent;

    impl DiscoveryListener for Silent {
        fn on_devices_changed(&self, _devices: Vec<DiscoveredDevice>) {}
    }

    #[tokio::test]
    async fn softap_only_discovery_lists_setup_mode_networks() {
        let discovery = start_discovery(default_discovery_options(), None, Arc::new(Silent)).await.unwrap();
        let network = |ssid: &str| WifiNetwork {
            ssid: ssid.into(),
            bssid: None,
            rssi: -40,
            channel: None,
            secured: true,
        };
        discovery.set_wifi_networks(vec![network("PROV_1A2B3C"), network("HomeNet")]).await;
        let mut devices = discovery.devices.clone();
        let listed = devices.wait_for(|list| !list.is_empty()).await.unwrap().clone();
        assert_eq!(listed.len(), 1);
        assert_eq!(discovery.devices()[0].softap.as_ref().unwrap().ssid, "PROV_1A2B3C");
        discovery.stop().await.unwrap();
        discovery.stop().await.unwrap();
    }
}
