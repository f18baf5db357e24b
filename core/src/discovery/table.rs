//! The BLE device table: folds a stream of advertisements into one entry per peripheral.
//!
//! ESP devices advertise the provisioning service UUID in ADV_IND and their name only in the
//! scan response, so a device usually appears nameless and learns its name a moment later; both
//! packets carry the same peripheral id and merge into one entry. The table keeps only the latest
//! state of each device, so its memory grows with the number of devices, never with the number
//! of advertisements. Time is passed in by the caller, which keeps the table deterministic.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use uuid::Uuid;

use super::config::{DiscoveryConfig, DiscoveryConfigError};
use crate::platform::ble::Advertisement;

/// Strongest RSSI the Bluetooth Core specification allows in an advertising report (dBm).
const MAX_VALID_RSSI: i16 = 20;
/// Weakest RSSI the Bluetooth Core specification allows; 127 means "not available".
const MIN_VALID_RSSI: i16 = -127;

/// What the table knows about one BLE device in setup mode.
#[derive(Debug, Clone, PartialEq)]
pub struct BleDevice {
    /// The stack's identifier of the peripheral; pass it to `BleCentral::connect`.
    pub peripheral_id: String,
    /// The latest local name heard (from the scan response on ESP devices).
    pub local_name: Option<String>,
    /// Smoothed signal strength in dBm; `None` until the stack reports a usable value.
    pub rssi: Option<i16>,
    /// The latest usable signal strength in dBm, unsmoothed.
    pub last_rssi: Option<i16>,
    /// The latest non-empty list of advertised service UUIDs.
    pub service_uuids: Vec<Uuid>,
    /// The latest non-empty manufacturer data, by company identifier.
    pub manufacturer_data: BTreeMap<u16, Vec<u8>>,
    /// The latest non-empty service data, by service UUID.
    pub service_data: BTreeMap<Uuid, Vec<u8>>,
    /// The latest advertised transmit power in dBm.
    pub tx_power: Option<i16>,
    /// When the device was first heard.
    pub first_seen: Instant,
    /// When the device was last heard.
    pub last_seen: Instant,
}

/// What one advertisement did to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// The advertisement did not match and its peripheral is not tracked.
    Ignored,
    /// A new device entered the table.
    Added,
    /// A tracked device changed its name, services, or advertised data.
    Updated,
    /// A tracked device was heard again with nothing new but its signal strength.
    Refreshed,
    /// A tracked device renamed itself out of the name filter and left the table.
    Removed,
}

/// One tracked device plus the state behind its reported values.
#[derive(Debug, Clone)]
struct Entry {
    device: BleDevice,
    /// Full-precision smoothed RSSI behind `device.rssi`.
    smoothed_rssi: Option<f32>,
    /// Whether any advertisement of this device carried a wanted service UUID.
    has_wanted_service: bool,
}

/// A bounded table of the BLE devices in setup mode heard recently, keyed by peripheral id.
///
/// A device enters when one of its advertisements carries a wanted service UUID or a name with
/// a wanted prefix; later packets from the same peripheral (e.g. a scan response carrying only
/// the name) merge into its entry whether or not they match on their own.
#[derive(Debug, Clone)]
pub struct DiscoveryTable {
    config: DiscoveryConfig,
    entries: HashMap<String, Entry>,
}

impl DiscoveryTable {
    /// Creates an empty table with `config`'s filter, expiry, smoothing and capacity.
    pub fn new(config: DiscoveryConfig) -> Result<Self, DiscoveryConfigError> {
        config.validate()?;
        Ok(Self { config, entries: HashMap::new() })
    }

    /// The configuration the table was created with.
    pub fn config(&self) -> &DiscoveryConfig {
        &self.config
    }

    /// Folds one advertisement or scan response, heard at `now`, into the table.
    pub fn ingest(&mut self, advertisement: Advertisement, now: Instant) -> Ingested {
        let has_wanted_service = self.has_wanted_service(&advertisement.service_uuids);
        if let Some(entry) = self.entries.get_mut(&advertisement.peripheral_id) {
            let changed =
                merge_into(entry, advertisement, has_wanted_service, self.config.rssi_smoothing, now);
            if !(entry.has_wanted_service || self.config.accepts_name(entry.device.local_name.as_deref())) {
                let peripheral_id = entry.device.peripheral_id.clone();
                self.entries.remove(&peripheral_id);
                return Ingested::Removed;
            }
            return if changed { Ingested::Updated } else { Ingested::Refreshed };
        }
        if !(has_wanted_service || self.config.accepts_name(advertisement.local_name.as_deref())) {
            return Ingested::Ignored;
        }
        if self.entries.len() >= self.config.max_devices {
            self.evict_least_recently_heard();
        }
        let entry = new_entry(advertisement, has_wanted_service, now);
        self.entries.insert(entry.device.peripheral_id.clone(), entry);
        Ingested::Added
    }

    /// Removes the devices not heard for longer than the configured expiry; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.entries.len();
        let expiry = self.config.expiry;
        self.entries.retain(|_, entry| now.saturating_duration_since(entry.device.last_seen) <= expiry);
        before - self.entries.len()
    }

    /// The device with `peripheral_id`, if tracked.
    pub fn get(&self, peripheral_id: &str) -> Option<&BleDevice> {
        self.entries.get(peripheral_id).map(|entry| &entry.device)
    }

    /// The tracked devices, in no particular order.
    pub fn devices(&self) -> impl Iterator<Item = &BleDevice> {
        self.entries.values().map(|entry| &entry.device)
    }

    /// How many devices are tracked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no device is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn has_wanted_service(&self, service_uuids: &[Uuid]) -> bool {
        service_uuids.iter().any(|uuid| self.config.service_uuids.contains(uuid))
    }

    fn evict_least_recently_heard(&mut self) {
        let stalest = self
            .entries
            .values()
            .min_by_key(|entry| entry.device.last_seen)
            .map(|entry| entry.device.peripheral_id.clone());
        if let Some(peripheral_id) = stalest {
            self.entries.remove(&peripheral_id);
        }
    }
}

fn new_entry(advertisement: Advertisement, has_wanted_service: bool, now: Instant) -> Entry {
    let rssi = usable_rssi(advertisement.rssi);
    Entry {
        device: BleDevice {
            peripheral_id: advertisement.peripheral_id,
            local_name: advertisement.local_name,
            rssi,
            last_rssi: rssi,
            service_uuids: advertisement.service_uuids,
            manufacturer_data: advertisement.manufacturer_data,
            service_data: advertisement.service_data,
            tx_power: advertisement.tx_power,
            first_seen: now,
            last_seen: now,
        },
        smoothed_rssi: rssi.map(f32::from),
        has_wanted_service,
    }
}

/// Merges a later packet into an entry; returns whether anything but signal strength changed.
fn merge_into(
    entry: &mut Entry,
    advertisement: Advertisement,
    has_wanted_service: bool,
    smoothing: f32,
    now: Instant,
) -> bool {
    let device = &mut entry.device;
    device.last_seen = device.last_seen.max(now);
    if let Some(rssi) = usable_rssi(advertisement.rssi) {
        let sample = f32::from(rssi);
        let smoothed =
            entry.smoothed_rssi.map_or(sample, |previous| previous + smoothing * (sample - previous));
        entry.smoothed_rssi = Some(smoothed);
        device.rssi = Some(round_rssi(smoothed));
        device.last_rssi = Some(rssi);
    }
    entry.has_wanted_service |= has_wanted_service;
    let mut changed = false;
    changed |= replace_if_some(&mut device.local_name, advertisement.local_name);
    changed |= replace_if_some(&mut device.tx_power, advertisement.tx_power);
    changed |= replace_if_non_empty(&mut device.service_uuids, advertisement.service_uuids, Vec::is_empty);
    changed |= replace_if_non_empty(
        &mut device.manufacturer_data,
        advertisement.manufacturer_data,
        BTreeMap::is_empty,
    );
    changed |= replace_if_non_empty(&mut device.service_data, advertisement.service_data, BTreeMap::is_empty);
    changed
}

fn replace_if_some<T: PartialEq>(slot: &mut Option<T>, value: Option<T>) -> bool {
    match value {
        Some(value) if slot.as_ref() != Some(&value) => {
            *slot = Some(value);
            true
        }
        _ => false,
    }
}

fn replace_if_non_empty<T: PartialEq>(slot: &mut T, value: T, is_empty: impl Fn(&T) -> bool) -> bool {
    if is_empty(&value) || *slot == value {
        return false;
    }
    *slot = value;
    true
}

/// The RSSI if the stack reported a real value (127 means "not available").
fn usable_rssi(rssi: i16) -> Option<i16> {
    (MIN_VALID_RSSI..=MAX_VALID_RSSI).contains(&rssi).then_some(rssi)
}

/// Rounds a smoothed RSSI, which always lies within the valid range, to whole dBm.
fn round_rssi(smoothed: f32) -> i16 {
    // The average of values in -127..=20 stays in that range, so the cast cannot saturate.
    smoothed.round().clamp(f32::from(MIN_VALID_RSSI), f32::from(MAX_VALID_RSSI)) as i16
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::discovery::config::ESP_IDF_DEFAULT_SERVICE_UUID;

    const LAMP: &str = "AA:BB:CC:00:00:01";
    const PLUG: &str = "AA:BB:CC:00:00:02";

    fn table() -> DiscoveryTable {
        DiscoveryTable::new(DiscoveryConfig::default()).expect("default config is valid")
    }

    /// The ADV_IND of an ESP device: service UUID, no name.
    fn adv(peripheral_id: &str, rssi: i16) -> Advertisement {
        Advertisement::esp_adv_ind(peripheral_id, ESP_IDF_DEFAULT_SERVICE_UUID, rssi)
    }

    /// The scan response of an ESP device: name (and here manufacturer data), no service UUID.
    fn scan_response(peripheral_id: &str, name: &str, rssi: i16) -> Advertisement {
        Advertisement::esp_scan_response(peripheral_id, name, rssi, BTreeMap::from([(0x02e5, vec![1, 2, 3])]))
    }

    fn other_device(peripheral_id: &str, name: Option<&str>) -> Advertisement {
        Advertisement {
            peripheral_id: peripheral_id.to_owned(),
            local_name: name.map(str::to_owned),
            rssi: -40,
            service_uuids: vec![Uuid::from_u128(0x180d)],
            manufacturer_data: BTreeMap::from([(0x004c, vec![0x10])]),
            service_data: BTreeMap::new(),
            tx_power: None,
        }
    }

    #[test]
    fn adv_then_scan_response_merge_into_one_named_entry() {
        let mut table = table();
        let t0 = Instant::now();
        assert_eq!(table.ingest(adv(LAMP, -60), t0), Ingested::Added);
        let nameless = table.get(LAMP).expect("tracked after ADV_IND");
        assert_eq!(nameless.local_name, None);
        assert_eq!(nameless.service_uuids, vec![ESP_IDF_DEFAULT_SERVICE_UUID]);

        let t1 = t0 + Duration::from_millis(5);
        assert_eq!(table.ingest(scan_response(LAMP, "PROV_1A2B3C", -60), t1), Ingested::Updated);
        assert_eq!(table.len(), 1);
        let device = table.get(LAMP).expect("still tracked");
        assert_eq!(device.local_name.as_deref(), Some("PROV_1A2B3C"));
        assert_eq!(device.service_uuids, vec![ESP_IDF_DEFAULT_SERVICE_UUID], "scan response keeps the UUID");
        assert_eq!(device.manufacturer_data, BTreeMap::from([(0x02e5, vec![1, 2, 3])]));
        assert_eq!(device.tx_power, Some(9));
        assert_eq!((device.first_seen, device.last_seen), (t0, t1));

        // The next ADV_IND (no name, no manufacturer data) keeps what the scan response brought.
        assert_eq!(table.ingest(adv(LAMP, -60), t1 + Duration::from_millis(160)), Ingested::Refreshed);
        let device = table.get(LAMP).expect("still tracked");
        assert_eq!(device.local_name.as_deref(), Some("PROV_1A2B3C"));
        assert_eq!(device.manufacturer_data.len(), 1);
    }

    #[test]
    fn scan_response_first_matches_by_name_prefix_alone() {
        let mut table = table();
        let now = Instant::now();
        assert_eq!(table.ingest(scan_response(PLUG, "prov_a1b2c3", -70), now), Ingested::Added);
        assert_eq!(table.ingest(adv(PLUG, -70), now), Ingested::Updated, "the service UUID is new");
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn duplicates_refresh_without_growing_the_table() {
        let mut table = table();
        let t0 = Instant::now();
        table.ingest(adv(LAMP, -50), t0);
        for step in 1..=1000u64 {
            assert_eq!(table.ingest(adv(LAMP, -50), t0 + Duration::from_millis(step)), Ingested::Refreshed);
        }
        assert_eq!(table.len(), 1);
        assert_eq!(table.get(LAMP).map(|device| device.last_seen), Some(t0 + Duration::from_millis(1000)));
    }

    #[test]
    fn rssi_is_smoothed_while_the_last_raw_value_is_kept() {
        let mut table = table();
        let now = Instant::now();
        table.ingest(adv(LAMP, -60), now);
        // EWMA with weight 0.3: -60 → -57 (sample -50) → -60.9 (sample -70) → -60.33 (sample -59).
        let expected = [(-50, -57), (-70, -61), (-59, -60)];
        for (sample, smoothed) in expected {
            assert_eq!(table.ingest(adv(LAMP, sample), now), Ingested::Refreshed);
            let device = table.get(LAMP).expect("tracked");
            assert_eq!((device.rssi, device.last_rssi), (Some(smoothed), Some(sample)));
        }
    }

    #[test]
    fn unavailable_rssi_leaves_signal_strength_alone_but_counts_as_heard() {
        let mut table = table();
        let t0 = Instant::now();
        table.ingest(adv(LAMP, 127), t0);
        assert_eq!(table.get(LAMP).map(|device| device.rssi), Some(None));
        table.ingest(adv(LAMP, -65), t0);
        let t1 = t0 + Duration::from_secs(1);
        table.ingest(adv(LAMP, 127), t1);
        let device = table.get(LAMP).expect("tracked");
        assert_eq!((device.rssi, device.last_rssi, device.last_seen), (Some(-65), Some(-65), t1));
    }

    #[test]
    fn renames_update_the_name_and_renaming_out_of_the_filter_removes_name_only_devices() {
        let mut table = table();
        let now = Instant::now();
        table.ingest(scan_response(PLUG, "PROV_000001", -70), now);
        assert_eq!(table.ingest(scan_response(PLUG, "PROV_000002", -70), now), Ingested::Updated);
        assert_eq!(table.get(PLUG).and_then(|device| device.local_name.as_deref()), Some("PROV_000002"));
        assert_eq!(table.ingest(scan_response(PLUG, "Kitchen plug", -70), now), Ingested::Removed);
        assert!(table.is_empty());

        // A device that advertises the service stays whatever it calls itself.
        table.ingest(adv(LAMP, -60), now);
        assert_eq!(table.ingest(scan_response(LAMP, "Lamp", -60), now), Ingested::Updated);
        assert_eq!(table.get(LAMP).and_then(|device| device.local_name.as_deref()), Some("Lamp"));
    }

    #[test]
    fn non_matching_devices_are_ignored() {
        let mut table = table();
        let now = Instant::now();
        assert_eq!(
            table.ingest(other_device("11:22:33:44:55:66", Some("Heart rate")), now),
            Ingested::Ignored
        );
        assert_eq!(table.ingest(other_device("11:22:33:44:55:67", None), now), Ingested::Ignored);
        assert_eq!(table.ingest(other_device("11:22:33:44:55:68", Some("PRO")), now), Ingested::Ignored);
        assert!(table.is_empty());
    }

    #[test]
    fn empty_filter_tracks_every_device() {
        let config =
            DiscoveryConfig { service_uuids: vec![], name_prefixes: vec![], ..DiscoveryConfig::default() };
        let mut table = DiscoveryTable::new(config).expect("valid");
        let now = Instant::now();
        assert_eq!(table.ingest(other_device("11:22:33:44:55:66", None), now), Ingested::Added);
        assert_eq!(table.ingest(other_device("11:22:33:44:55:66", Some("Anything")), now), Ingested::Updated);
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn devices_not_heard_within_the_expiry_disappear() {
        let mut table = table();
        let t0 = Instant::now();
        table.ingest(adv(LAMP, -60), t0);
        table.ingest(adv(PLUG, -60), t0);
        table.ingest(adv(PLUG, -60), t0 + Duration::from_secs(6));
        assert_eq!(table.expire(t0 + Duration::from_secs(10)), 0, "exactly at the expiry a device stays");
        assert_eq!(table.expire(t0 + Duration::from_millis(10_001)), 1);
        assert!(table.get(LAMP).is_none());
        assert!(table.get(PLUG).is_some());
        assert_eq!(table.expire(t0 + Duration::from_secs(17)), 1);
        assert!(table.is_empty());
        // A device that comes back is a new entry.
        assert_eq!(table.ingest(adv(LAMP, -60), t0 + Duration::from_secs(18)), Ingested::Added);
    }

    #[test]
    fn out_of_order_times_never_move_last_seen_backwards() {
        let mut table = table();
        let t0 = Instant::now();
        table.ingest(adv(LAMP, -60), t0 + Duration::from_secs(5));
        table.ingest(adv(LAMP, -60), t0);
        assert_eq!(table.get(LAMP).map(|device| device.last_seen), Some(t0 + Duration::from_secs(5)));
        assert_eq!(table.expire(t0), 0);
    }

    #[test]
    fn a_full_table_makes_room_by_dropping_the_device_heard_least_recently() {
        let config = DiscoveryConfig { max_devices: 2, ..DiscoveryConfig::default() };
        let mut table = DiscoveryTable::new(config).expect("valid");
        let t0 = Instant::now();
        table.ingest(adv("A", -60), t0);
        table.ingest(adv("B", -60), t0 + Duration::from_secs(1));
        table.ingest(adv("A", -60), t0 + Duration::from_secs(2));
        assert_eq!(table.ingest(adv("C", -60), t0 + Duration::from_secs(3)), Ingested::Added);
        assert_eq!(table.len(), 2);
        assert!(table.get("B").is_none());
        assert!(table.get("A").is_some() && table.get("C").is_some());
    }

    #[test]
    fn invalid_config_is_refused() {
        let config = DiscoveryConfig { rssi_smoothing: 2.0, ..DiscoveryConfig::default() };
        assert!(matches!(DiscoveryTable::new(config), Err(DiscoveryConfigError::RssiSmoothingOutOfRange(_))));
    }
}
