//! One list of devices from BLE and SoftAP discovery, one entry per physical device.
//!
//! An ESP device uses its service name (`PROV_XXXXXX`) both as BLE local name and as SoftAP
//! SSID, so a BLE device and an access point whose names are equal ignoring ASCII case are the
//! same device. Its BLE and Wi-Fi MAC addresses differ, so the name is the only link.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use uuid::Uuid;

use super::softap::{WifiNetwork, setup_mode_networks};
use super::table::{BleDevice, DiscoveryTable};
use crate::onboarding::DeviceProtocol;

/// How to reach a discovered device over BLE.
#[derive(Debug, Clone, PartialEq)]
pub struct BleEndpoint {
    /// The stack's identifier of the peripheral; pass it to `BleCentral::connect`.
    pub peripheral_id: String,
    /// Smoothed signal strength in dBm, if the stack reported one.
    pub rssi: Option<i16>,
    /// Advertised service UUIDs (the provisioning service among them on ESP devices).
    pub service_uuids: Vec<Uuid>,
    /// When the device was last heard over BLE.
    pub last_seen: Instant,
}

/// How to reach a discovered device through its own Wi-Fi access point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftApEndpoint {
    /// The access point's SSID, to join.
    pub ssid: String,
    /// The access point's MAC address, when the platform reported it.
    pub bssid: Option<[u8; 6]>,
    /// Signal strength in dBm.
    pub rssi: i16,
    /// The Wi-Fi channel, when the platform reported it.
    pub channel: Option<u16>,
    /// Whether joining needs the device's passphrase.
    pub secured: bool,
}

/// A device in setup mode, with every transport it was found on.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredDevice {
    /// The device's service name (BLE local name or SoftAP SSID); `None` for a BLE device whose
    /// scan response has not been heard yet.
    pub name: Option<String>,
    /// Present when the device was heard over BLE.
    pub ble: Option<BleEndpoint>,
    /// Present when the device's access point was in the Wi-Fi scan.
    pub softap: Option<SoftApEndpoint>,
    /// The strongest signal over its transports in dBm, if any was reported.
    pub rssi: Option<i16>,
    /// BLE manufacturer data by company identifier (e.g. a vendor's product id).
    pub manufacturer_data: BTreeMap<u16, Vec<u8>>,
    /// BLE service data by service UUID.
    pub service_data: BTreeMap<Uuid, Vec<u8>>,
    /// The provisioning protocol it speaks: ESP unified provisioning, or a captive portal for
    /// an access point named by one of the configured portal prefixes.
    pub protocol: DeviceProtocol,
}

impl DiscoveredDevice {
    /// Whether the device speaks Improv Wi-Fi (its service UUID or `0x4677` service data).
    pub fn speaks_improv(&self) -> bool {
        self.ble.as_ref().is_some_and(|ble| ble.service_uuids.contains(&crate::improv::ble::SERVICE_UUID))
            || self.service_data.contains_key(&crate::improv::ble::SERVICE_DATA_UUID)
    }

    /// The Improv state and capabilities the device advertises, read without connecting; `None`
    /// for other devices and for malformed service data.
    pub fn improv(&self) -> Option<crate::improv::ble::ServiceData> {
        crate::improv::ble::ServiceData::find(&self.service_data)?.ok()
    }
}

/// The devices of `table` merged with the setup-mode networks among `wifi_networks` (per the
/// table's SSID prefixes), plus the captive-portal access points (per its portal prefixes): one
/// entry per device, each saying its protocol, strongest signal first, ties by name.
///
/// When several BLE devices or access points share a name, the strongest of each are paired
/// first and the rest stay separate entries.
pub fn discovered_devices(table: &DiscoveryTable, wifi_networks: &[WifiNetwork]) -> Vec<DiscoveredDevice> {
    let mut ble_devices: Vec<&BleDevice> = table.devices().collect();
    ble_devices.sort_by(|a, b| b.rssi.cmp(&a.rssi).then_with(|| a.peripheral_id.cmp(&b.peripheral_id)));
    let config = table.config();
    let mut networks = setup_mode_networks(wifi_networks, &config.ssid_prefixes);
    // Portal access points (a name an ESP prefix already claimed stays an ESP device).
    let portals: Vec<WifiNetwork> = match config.portal_ssid_prefixes.as_slice() {
        [] => Vec::new(),
        prefixes => setup_mode_networks(wifi_networks, prefixes)
            .into_iter()
            .filter(|portal| !networks.iter().any(|esp| esp.ssid == portal.ssid && esp.bssid == portal.bssid))
            .collect(),
    };
    networks
        .sort_by(|a, b| b.rssi.cmp(&a.rssi).then_with(|| a.ssid.cmp(&b.ssid)).then(a.bssid.cmp(&b.bssid)));

    let mut networks_by_name: HashMap<String, Vec<SoftApEndpoint>> = HashMap::new();
    // Pushed strongest first, popped from the front by reversing once below.
    for network in networks {
        networks_by_name.entry(network.ssid.to_ascii_lowercase()).or_default().push(softap_endpoint(network));
    }
    for same_name in networks_by_name.values_mut() {
        same_name.reverse();
    }

    let mut devices: Vec<DiscoveredDevice> = ble_devices
        .into_iter()
        .map(|ble| {
            let softap = ble
                .local_name
                .as_ref()
                .and_then(|name| networks_by_name.get_mut(&name.to_ascii_lowercase()))
                .and_then(Vec::pop);
            ble_device(ble, softap)
        })
        .collect();
    devices.extend(networks_by_name.into_values().flatten().map(softap_device));
    devices.extend(portals.into_iter().map(|portal| DiscoveredDevice {
        protocol: DeviceProtocol::CaptivePortal,
        ..softap_device(softap_endpoint(portal))
    }));
    devices.sort_by(signal_then_name);
    devices
}

fn softap_endpoint(network: WifiNetwork) -> SoftApEndpoint {
    SoftApEndpoint {
        ssid: network.ssid,
        bssid: network.bssid,
        rssi: network.rssi,
        channel: network.channel,
        secured: network.secured,
    }
}

fn ble_device(ble: &BleDevice, softap: Option<SoftApEndpoint>) -> DiscoveredDevice {
    let rssi = match (ble.rssi, softap.as_ref().map(|endpoint| endpoint.rssi)) {
        (Some(ble_rssi), Some(softap_rssi)) => Some(ble_rssi.max(softap_rssi)),
        (ble_rssi, softap_rssi) => ble_rssi.or(softap_rssi),
    };
    DiscoveredDevice {
        name: ble.local_name.clone(),
        ble: Some(BleEndpoint {
            peripheral_id: ble.peripheral_id.clone(),
            rssi: ble.rssi,
            service_uuids: ble.service_uuids.clone(),
            last_seen: ble.last_seen,
        }),
        softap,
        rssi,
        manufacturer_data: ble.manufacturer_data.clone(),
        service_data: ble.service_data.clone(),
        protocol: DeviceProtocol::EspUnified,
    }
}

fn softap_device(softap: SoftApEndpoint) -> DiscoveredDevice {
    DiscoveredDevice {
        name: Some(softap.ssid.clone()),
        rssi: Some(softap.rssi),
        ble: None,
        softap: Some(softap),
        manufacturer_data: BTreeMap::new(),
        service_data: BTreeMap::new(),
        protocol: DeviceProtocol::EspUnified,
    }
}

/// Strongest first (unknown signal last), then by name ignoring case (nameless last), then by
/// the transports' identifiers so the order is total.
fn signal_then_name(a: &DiscoveredDevice, b: &DiscoveredDevice) -> Ordering {
    b.rssi
        .cmp(&a.rssi)
        .then_with(|| match (&a.name, &b.name) {
            (Some(a), Some(b)) => a
                .chars()
                .flat_map(char::to_lowercase)
                .cmp(b.chars().flat_map(char::to_lowercase))
                .then_with(|| a.cmp(b)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| {
            let a_id = a.ble.as_ref().map(|ble| &ble.peripheral_id);
            let b_id = b.ble.as_ref().map(|ble| &ble.peripheral_id);
            a_id.cmp(&b_id)
        })
        .then_with(|| {
            let a_ap = a.softap.as_ref().map(|softap| (&softap.ssid, softap.bssid));
            let b_ap = b.softap.as_ref().map(|softap| (&softap.ssid, softap.bssid));
            a_ap.cmp(&b_ap)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_access_points_join_the_list_saying_their_protocol() {
        let config =
            DiscoveryConfig { portal_ssid_prefixes: vec!["ESP32_".into()], ..DiscoveryConfig::default() };
        let table = DiscoveryTable::new(config).expect("valid");
        let scan = [
            network("PROV_1A2B3C", -60, true),
            network("ESP32_C0FFEE", -50, false),
            network("HomeNet", -40, true),
        ];
        let devices = discovered_devices(&table, &scan);
        let listed: Vec<(Option<&str>, DeviceProtocol)> =
            devices.iter().map(|device| (device.name.as_deref(), device.protocol)).collect();
        assert_eq!(
            listed,
            [
                (Some("ESP32_C0FFEE"), DeviceProtocol::CaptivePortal),
                (Some("PROV_1A2B3C"), DeviceProtocol::EspUnified)
            ]
        );
        // Without portal prefixes no portal is listed.
        let plain = DiscoveryTable::new(DiscoveryConfig::default()).expect("valid");
        assert_eq!(discovered_devices(&plain, &scan).len(), 1);
    }
    use crate::discovery::config::{DiscoveryConfig, ESP_IDF_DEFAULT_SERVICE_UUID};
    use crate::platform::ble::Advertisement;

    fn table_with(devices: &[(&str, Option<&str>, i16)]) -> DiscoveryTable {
        let mut table = DiscoveryTable::new(DiscoveryConfig::default()).expect("valid");
        let now = Instant::now();
        for &(peripheral_id, name, rssi) in devices {
            table.ingest(
                Advertisement {
                    peripheral_id: peripheral_id.to_owned(),
                    local_name: name.map(str::to_owned),
                    rssi,
                    service_uuids: vec![ESP_IDF_DEFAULT_SERVICE_UUID],
                    manufacturer_data: BTreeMap::from([(0x02e5, peripheral_id.as_bytes().to_vec())]),
                    service_data: BTreeMap::new(),
                    tx_power: None,
                },
                now,
            );
        }
        table
    }

    fn network(ssid: &str, rssi: i16, secured: bool) -> WifiNetwork {
        WifiNetwork { ssid: ssid.to_owned(), bssid: None, rssi, channel: Some(1), secured }
    }

    /// A listed device as (name, BLE peripheral id, SoftAP SSID, best RSSI).
    type Row<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<i16>);

    fn summary(devices: &[DiscoveredDevice]) -> Vec<Row<'_>> {
        devices
            .iter()
            .map(|device| {
                (
                    device.name.as_deref(),
                    device.ble.as_ref().map(|ble| ble.peripheral_id.as_str()),
                    device.softap.as_ref().map(|softap| softap.ssid.as_str()),
                    device.rssi,
                )
            })
            .collect()
    }

    #[test]
    fn ble_and_softap_of_one_device_merge_by_name_ignoring_case() {
        let table = table_with(&[("ble-1", Some("PROV_1A2B3C"), -70)]);
        let devices = discovered_devices(&table, &[network("PROV_1a2b3c", -50, true)]);
        assert_eq!(devices.len(), 1);
        let device = &devices[0];
        assert_eq!(device.name.as_deref(), Some("PROV_1A2B3C"));
        assert_eq!(device.rssi, Some(-50), "the best signal over both transports");
        assert_eq!(
            device.ble.as_ref().map(|ble| (ble.peripheral_id.as_str(), ble.rssi)),
            Some(("ble-1", Some(-70)))
        );
        assert_eq!(
            device.softap,
            Some(SoftApEndpoint {
                ssid: "PROV_1a2b3c".into(),
                bssid: None,
                rssi: -50,
                channel: Some(1),
                secured: true
            })
        );
        assert_eq!(device.manufacturer_data, BTreeMap::from([(0x02e5, b"ble-1".to_vec())]));
    }

    #[test]
    fn list_is_sorted_by_signal_then_name_with_each_devices_transports() {
        let table = table_with(&[
            ("ble-weak", Some("PROV_000003"), -80),
            ("ble-strong", Some("PROV_000001"), -40),
            ("ble-tie", Some("prov_000002"), -60),
            ("ble-nameless", None, -60),
            ("ble-both", Some("PROV_000005"), -90),
        ]);
        let wifi = [
            network("HomeNet", -30, true),
            network("PROV_000004", -60, false),
            network("PROV_000005", -45, false),
        ];
        let devices = discovered_devices(&table, &wifi);
        assert_eq!(
            summary(&devices),
            [
                (Some("PROV_000001"), Some("ble-strong"), None, Some(-40)),
                (Some("PROV_000005"), Some("ble-both"), Some("PROV_000005"), Some(-45)),
                (Some("prov_000002"), Some("ble-tie"), None, Some(-60)),
                (Some("PROV_000004"), None, Some("PROV_000004"), Some(-60)),
                (None, Some("ble-nameless"), None, Some(-60)),
                (Some("PROV_000003"), Some("ble-weak"), None, Some(-80)),
            ]
        );
    }

    #[test]
    fn devices_without_any_signal_reading_come_last() {
        let table =
            table_with(&[("ble-unknown", Some("PROV_AAAAAA"), 127), ("ble-known", Some("PROV_BBBBBB"), -99)]);
        let devices = discovered_devices(&table, &[]);
        assert_eq!(
            summary(&devices),
            [
                (Some("PROV_BBBBBB"), Some("ble-known"), None, Some(-99)),
                (Some("PROV_AAAAAA"), Some("ble-unknown"), None, None)
            ]
        );
        let with_wifi = discovered_devices(&table, &[network("PROV_AAAAAA", -70, false)]);
        assert_eq!(
            with_wifi.first().map(|device| device.rssi),
            Some(Some(-70)),
            "SoftAP supplies the signal"
        );
    }

    #[test]
    fn duplicate_names_pair_strongest_with_strongest_and_keep_the_rest_apart() {
        let table = table_with(&[("ble-a", Some("PROV_DUP"), -50), ("ble-b", Some("PROV_DUP"), -70)]);
        let first = WifiNetwork { bssid: Some([0, 0, 0, 0, 0, 1]), ..network("PROV_DUP", -60, false) };
        let second = WifiNetwork { bssid: Some([0, 0, 0, 0, 0, 2]), ..network("PROV_DUP", -65, false) };
        let third = WifiNetwork { bssid: Some([0, 0, 0, 0, 0, 3]), ..network("PROV_DUP", -95, false) };
        let devices = discovered_devices(&table, &[third.clone(), second, first]);
        let pairs: Vec<(Option<&str>, Option<i16>)> = devices
            .iter()
            .map(|device| {
                (
                    device.ble.as_ref().map(|ble| ble.peripheral_id.as_str()),
                    device.softap.as_ref().map(|ap| ap.rssi),
                )
            })
            .collect();
        assert_eq!(pairs, [(Some("ble-a"), Some(-60)), (Some("ble-b"), Some(-65)), (None, Some(-95))]);
        assert_eq!(
            devices.last().and_then(|device| device.softap.as_ref()).and_then(|ap| ap.bssid),
            third.bssid
        );
    }

    #[test]
    fn nothing_heard_gives_an_empty_list() {
        let table = table_with(&[]);
        assert!(discovered_devices(&table, &[network("HomeNet", -40, true)]).is_empty());
    }
}
