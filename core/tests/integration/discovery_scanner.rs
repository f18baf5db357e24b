//! The discovery scanner against an in-memory BLE central that replays scripted advertisements,
//! on tokio's paused clock so expiry and refresh timing are deterministic.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use unbox_core::discovery::{
    DeviceListListener, DiscoveredDevice, DiscoveryConfig, DiscoveryConfigError, DiscoveryError,
    DiscoveryScanner, ESP_IDF_DEFAULT_SERVICE_UUID, WifiNetwork,
};
use unbox_core::platform::ble::{
    Advertisement, AdvertisementListener, BleCentral, BleConnection, BleError, ScanFilter,
};
use uuid::Uuid;

const LAMP: &str = "24:0A:C4:00:00:01";
const PLUG: &str = "24:0A:C4:00:00:02";
const HEART_RATE: &str = "11:22:33:44:55:66";

/// One scripted advertisement: sent `after` the previous one.
struct Step {
    after: Duration,
    advertisement: Advertisement,
}

/// A BLE central that replays a script of advertisements once a scan starts.
struct ScriptedCentral {
    script: Mutex<Vec<Step>>,
    refuse_with: Option<BleError>,
    filter: Mutex<Option<ScanFilter>>,
    replay: Mutex<Option<JoinHandle<()>>>,
    stop_calls: watch::Sender<usize>,
}

impl ScriptedCentral {
    fn new(script: Vec<Step>) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(script),
            refuse_with: None,
            filter: Mutex::new(None),
            replay: Mutex::new(None),
            stop_calls: watch::channel(0).0,
        })
    }

    fn refusing(error: BleError) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(Vec::new()),
            refuse_with: Some(error),
            filter: Mutex::new(None),
            replay: Mutex::new(None),
            stop_calls: watch::channel(0).0,
        })
    }

    fn filter(&self) -> Option<ScanFilter> {
        self.filter.lock().expect("filter lock").clone()
    }

    async fn wait_for_stop_calls(&self, calls: usize) {
        let mut stop_calls = self.stop_calls.subscribe();
        within_a_minute(stop_calls.wait_for(|count| *count == calls)).await.expect("central alive");
    }
}

#[async_trait]
impl BleCentral for ScriptedCentral {
    async fn start_scan(
        &self,
        filter: ScanFilter,
        listener: Arc<dyn AdvertisementListener>,
    ) -> Result<(), BleError> {
        if let Some(error) = &self.refuse_with {
            return Err(error.clone());
        }
        *self.filter.lock().expect("filter lock") = Some(filter);
        let script = std::mem::take(&mut *self.script.lock().expect("script lock"));
        let replay = tokio::spawn(async move {
            for step in script {
                tokio::time::sleep(step.after).await;
                listener.on_advertisement(step.advertisement);
            }
        });
        *self.replay.lock().expect("replay lock") = Some(replay);
        Ok(())
    }

    async fn stop_scan(&self) -> Result<(), BleError> {
        if let Some(replay) = self.replay.lock().expect("replay lock").take() {
            replay.abort();
        }
        self.stop_calls.send_modify(|count| *count += 1);
        Ok(())
    }

    async fn connect(&self, peripheral_id: &str) -> Result<Box<dyn BleConnection>, BleError> {
        Err(BleError::NotFound(peripheral_id.to_owned()))
    }
}

/// ESP ADV_IND: provisioning service UUID, no name.
fn adv(peripheral_id: &str, rssi: i16) -> Advertisement {
    Advertisement::esp_adv_ind(peripheral_id, ESP_IDF_DEFAULT_SERVICE_UUID, rssi)
}

/// ESP scan response: the name and manufacturer data.
fn scan_response(peripheral_id: &str, name: &str, rssi: i16) -> Advertisement {
    Advertisement::esp_scan_response(peripheral_id, name, rssi, BTreeMap::from([(0x02e5, vec![0xca, 0xfe])]))
}

fn heart_rate_monitor(rssi: i16) -> Advertisement {
    Advertisement {
        peripheral_id: HEART_RATE.to_owned(),
        local_name: Some("HRM Pro".to_owned()),
        rssi,
        service_uuids: vec![Uuid::from_u128(0x0000180d_0000_1000_8000_00805f9b34fb)],
        manufacturer_data: BTreeMap::new(),
        service_data: BTreeMap::new(),
        tx_power: None,
    }
}

fn at_once(advertisement: Advertisement) -> Step {
    Step { after: Duration::ZERO, advertisement }
}

fn after_ms(millis: u64, advertisement: Advertisement) -> Step {
    Step { after: Duration::from_millis(millis), advertisement }
}

async fn within_a_minute<F: std::future::IntoFuture>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .expect("the expected update came within a minute")
}

/// Waits until the published list satisfies `done` and returns it.
async fn wait_for_list(
    devices: &mut watch::Receiver<Vec<DiscoveredDevice>>,
    done: impl FnMut(&Vec<DiscoveredDevice>) -> bool,
) -> Vec<DiscoveredDevice> {
    within_a_minute(devices.wait_for(done)).await.expect("scanner alive").clone()
}

fn names(devices: &[DiscoveredDevice]) -> Vec<Option<&str>> {
    devices.iter().map(|device| device.name.as_deref()).collect()
}

#[tokio::test(start_paused = true)]
async fn lists_each_esp_device_once_with_its_scan_response_name_and_ignores_others() {
    let central = ScriptedCentral::new(vec![
        at_once(heart_rate_monitor(-40)),
        at_once(adv(LAMP, -60)),
        after_ms(2, scan_response(LAMP, "PROV_1A2B3C", -62)),
        after_ms(160, adv(LAMP, -58)),
        after_ms(0, adv(LAMP, -58)),
        after_ms(2, scan_response(LAMP, "PROV_1A2B3C", -61)),
        after_ms(50, heart_rate_monitor(-41)),
    ]);
    let config = DiscoveryConfig::default();
    let scanner = DiscoveryScanner::start(config.clone(), Some(central.clone())).await.expect("starts");
    assert_eq!(central.filter(), Some(config.scan_filter()), "the stack is asked for ESP devices");

    let mut devices = scanner.subscribe();
    let listed = wait_for_list(&mut devices, |list| list.iter().any(|device| device.name.is_some())).await;
    assert_eq!(names(&listed), [Some("PROV_1A2B3C")]);
    let lamp = &listed[0];
    assert_eq!(lamp.ble.as_ref().map(|ble| ble.peripheral_id.as_str()), Some(LAMP));
    assert_eq!(lamp.manufacturer_data, BTreeMap::from([(0x02e5, vec![0xca, 0xfe])]));
    assert_eq!(lamp.softap, None);

    // Let the whole script play out and a refresh pass: still one entry, never the heart-rate monitor.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = scanner.devices();
    assert_eq!(names(&settled), [Some("PROV_1A2B3C")]);
    assert_eq!(settled[0].ble.as_ref().and_then(|ble| ble.rssi), Some(-60), "smoothed over the jitter");
    scanner.stop().await.expect("stops");
    central.wait_for_stop_calls(1).await;
}

/// Keeps every list a listener was told of.
#[derive(Default)]
struct ToldLists(Mutex<Vec<Vec<DiscoveredDevice>>>);

impl DeviceListListener for ToldLists {
    fn on_devices_changed(&self, devices: Vec<DiscoveredDevice>) {
        self.0.lock().unwrap().push(devices);
    }
}

#[tokio::test(start_paused = true)]
async fn a_listener_is_told_of_each_change_of_the_list_until_the_discovery_stops() {
    let central = ScriptedCentral::new(vec![
        at_once(adv(LAMP, -60)),
        after_ms(2, scan_response(LAMP, "PROV_1A2B3C", -62)),
    ]);
    let scanner = DiscoveryScanner::start(DiscoveryConfig::default(), Some(central)).await.expect("starts");
    let told = Arc::new(ToldLists::default());
    scanner.notify(told.clone());
    let mut devices = scanner.subscribe();
    wait_for_list(&mut devices, |list| list.iter().any(|device| device.name.is_some())).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let last = told.0.lock().unwrap().last().cloned();
    assert_eq!(last, Some(scanner.devices()), "the listener heard the latest list");
    scanner.stop().await.expect("stops");
    let heard = told.0.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(told.0.lock().unwrap().len(), heard, "nothing is told after the stop");
}

#[tokio::test(start_paused = true)]
async fn a_device_that_goes_quiet_leaves_the_list_after_the_expiry() {
    let mut script = vec![at_once(adv(LAMP, -60)), at_once(scan_response(LAMP, "PROV_00000A", -60))];
    script.extend((0..30).map(|_| after_ms(1000, adv(PLUG, -70))));
    let central = ScriptedCentral::new(script);
    let started = Instant::now();
    let scanner = DiscoveryScanner::start(DiscoveryConfig::default(), Some(central)).await.expect("starts");
    let mut devices = scanner.subscribe();

    wait_for_list(&mut devices, |list| list.len() == 2).await;
    let after_expiry = wait_for_list(&mut devices, |list| list.len() == 1).await;
    let gone_after = started.elapsed();
    assert_eq!(after_expiry[0].ble.as_ref().map(|ble| ble.peripheral_id.as_str()), Some(PLUG));
    assert!(
        gone_after > Duration::from_secs(10) && gone_after <= Duration::from_secs(12),
        "the lamp left {gone_after:?} after its last advertisement; expected within one refresh after 10 s"
    );
}

#[tokio::test(start_paused = true)]
async fn softap_networks_merge_with_ble_devices_into_one_sorted_list() {
    let central = ScriptedCentral::new(vec![
        at_once(adv(LAMP, -75)),
        at_once(scan_response(LAMP, "PROV_1A2B3C", -75)),
        at_once(adv(PLUG, -50)),
        at_once(scan_response(PLUG, "PROV_D4E5F6", -50)),
    ]);
    let scanner = DiscoveryScanner::start(DiscoveryConfig::default(), Some(central)).await.expect("starts");
    let mut devices = scanner.subscribe();
    wait_for_list(&mut devices, |list| list.iter().filter(|device| device.name.is_some()).count() == 2).await;

    scanner.set_wifi_networks(vec![
        WifiNetwork { ssid: "HomeNet".into(), bssid: None, rssi: -30, channel: Some(11), secured: true },
        WifiNetwork { ssid: "prov_1a2b3c".into(), bssid: None, rssi: -45, channel: Some(1), secured: true },
        WifiNetwork { ssid: "PROV_777777".into(), bssid: None, rssi: -80, channel: Some(6), secured: false },
    ]);
    let merged = wait_for_list(&mut devices, |list| list.len() == 3).await;
    let rows: Vec<(Option<&str>, bool, bool, Option<i16>)> = merged
        .iter()
        .map(|device| (device.name.as_deref(), device.ble.is_some(), device.softap.is_some(), device.rssi))
        .collect();
    assert_eq!(
        rows,
        [
            (Some("PROV_1A2B3C"), true, true, Some(-45)),
            (Some("PROV_D4E5F6"), true, false, Some(-50)),
            (Some("PROV_777777"), false, true, Some(-80)),
        ]
    );

    // A later Wi-Fi scan replaces the earlier one.
    scanner.set_wifi_networks(Vec::new());
    let ble_only = wait_for_list(&mut devices, |list| list.len() == 2).await;
    assert!(ble_only.iter().all(|device| device.softap.is_none()));
}

#[tokio::test(start_paused = true)]
async fn signal_strength_changes_are_published_on_the_refresh_tick() {
    let mut script = vec![at_once(adv(LAMP, -90)), at_once(scan_response(LAMP, "PROV_1A2B3C", -90))];
    script.extend((0..20).map(|_| after_ms(100, adv(LAMP, -40))));
    let central = ScriptedCentral::new(script);
    let config =
        DiscoveryConfig { refresh_interval: Duration::from_millis(500), ..DiscoveryConfig::default() };
    let scanner = DiscoveryScanner::start(config, Some(central)).await.expect("starts");
    let mut devices = scanner.subscribe();

    let first =
        wait_for_list(&mut devices, |list| list.first().is_some_and(|device| device.name.is_some())).await;
    assert_eq!(first[0].rssi, Some(-90));
    let closer =
        wait_for_list(&mut devices, |list| list.first().and_then(|device| device.rssi) > Some(-50)).await;
    assert_eq!(closer.len(), 1);
    assert_eq!(
        closer[0].ble.as_ref().map(|ble| ble.service_uuids.clone()),
        Some(vec![ESP_IDF_DEFAULT_SERVICE_UUID])
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_scanner_stops_the_ble_scan() {
    let central = ScriptedCentral::new(vec![at_once(adv(LAMP, -60))]);
    let scanner =
        DiscoveryScanner::start(DiscoveryConfig::default(), Some(central.clone())).await.expect("starts");
    let mut devices = scanner.subscribe();
    wait_for_list(&mut devices, |list| list.len() == 1).await;
    drop(scanner);
    central.wait_for_stop_calls(1).await;
    // Subscribers learn that discovery ended: the channel closes.
    within_a_minute(async { while devices.changed().await.is_ok() {} }).await;
}

#[tokio::test(start_paused = true)]
async fn softap_only_discovery_runs_without_bluetooth() {
    let scanner = DiscoveryScanner::start(DiscoveryConfig::default(), None).await.expect("starts");
    let mut devices = scanner.subscribe();
    scanner.set_wifi_networks(vec![WifiNetwork {
        ssid: "PROV_ABCDEF".into(),
        bssid: Some([0x24, 0x0a, 0xc4, 0xab, 0xcd, 0xef]),
        rssi: -55,
        channel: Some(1),
        secured: false,
    }]);
    let listed = wait_for_list(&mut devices, |list| list.len() == 1).await;
    assert_eq!(listed[0].name.as_deref(), Some("PROV_ABCDEF"));
    assert_eq!(listed[0].softap.as_ref().map(|softap| softap.secured), Some(false));
    scanner.stop().await.expect("stops without a central");
}

#[tokio::test(start_paused = true)]
async fn refused_bluetooth_and_bad_settings_are_typed_errors() {
    let off = ScriptedCentral::refusing(BleError::Unavailable("Bluetooth is off".into()));
    let error = DiscoveryScanner::start(DiscoveryConfig::default(), Some(off)).await.expect_err("refused");
    assert_eq!(error, DiscoveryError::Ble(BleError::Unavailable("Bluetooth is off".into())));
    assert!(!error.is_retryable());

    let busy = ScriptedCentral::refusing(BleError::Other("scanning too frequently".into()));
    let error = DiscoveryScanner::start(DiscoveryConfig::default(), Some(busy)).await.expect_err("refused");
    assert!(error.is_retryable());

    let config = DiscoveryConfig { refresh_interval: Duration::ZERO, ..DiscoveryConfig::default() };
    let error = DiscoveryScanner::start(config, None).await.expect_err("bad config");
    assert_eq!(error, DiscoveryError::Config(DiscoveryConfigError::Zero("refresh_interval")));
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("refresh_interval"));
}

#[tokio::test]
async fn finds_the_simulators_devices_through_the_in_memory_ble_world() {
    use unbox_sim::ble::{SimBleCentral, SimPeripheral};
    use unbox_sim::device::{DeviceConfig, SimDevice};

    let peripherals = ["PROV_AAAAAA", "PROV_BBBBBB"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            SimPeripheral::new(
                format!("24:0A:C4:00:00:0{i}"),
                SimDevice::new(DeviceConfig::new(*name), Vec::new()),
            )
        })
        .collect();
    let central: Arc<dyn BleCentral> = Arc::new(SimBleCentral::new(peripherals));
    let scanner = DiscoveryScanner::start(DiscoveryConfig::default(), Some(central)).await.unwrap();
    let found = crate::support::devices::heard_with_names(&scanner, 2).await;
    let mut names: Vec<_> = found.iter().filter_map(|d| d.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["PROV_AAAAAA", "PROV_BBBBBB"]);
    assert_eq!(found.len(), 2, "the advertisement and the scan response merged into one entry each");
    scanner.stop().await.unwrap();
}
