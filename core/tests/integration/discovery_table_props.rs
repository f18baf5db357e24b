//! Properties of the discovery table and list over arbitrary advertisement streams.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use unbox_core::discovery::{
    DiscoveryConfig, DiscoveryTable, ESP_IDF_DEFAULT_SERVICE_UUID, ESP_IDF_EXAMPLE_SERVICE_UUID, Ingested,
    WifiNetwork, discovered_devices,
};
use unbox_core::platform::ble::Advertisement;
use uuid::Uuid;

/// One step of a stream: an advertisement heard at a time, or an expiry pass.
#[derive(Debug, Clone)]
enum Step {
    Hear { advertisement: Advertisement, at_ms: u64 },
    Expire { at_ms: u64 },
}

fn service_uuid() -> impl Strategy<Value = Uuid> {
    prop_oneof![
        Just(ESP_IDF_DEFAULT_SERVICE_UUID),
        Just(ESP_IDF_EXAMPLE_SERVICE_UUID),
        Just(Uuid::from_u128(0x0000180d_0000_1000_8000_00805f9b34fb)),
        any::<u128>().prop_map(Uuid::from_u128),
    ]
}

fn local_name() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "PROV_[0-9A-F]{6}",
        "prov_[0-9a-f]{0,6}",
        Just("PROV_".to_owned()),
        Just("PRO".to_owned()),
        Just(String::new()),
        ".{0,12}",
    ])
}

fn advertisement() -> impl Strategy<Value = Advertisement> {
    (
        // Few ids so that streams revisit devices.
        (0u8..12).prop_map(|id| format!("AA:BB:CC:00:00:{id:02X}")),
        local_name(),
        any::<i16>(),
        prop::collection::vec(service_uuid(), 0..3),
        prop::collection::btree_map(any::<u16>(), prop::collection::vec(any::<u8>(), 0..8), 0..3),
        prop::collection::btree_map(service_uuid(), prop::collection::vec(any::<u8>(), 0..8), 0..2),
        prop::option::of(any::<i16>()),
    )
        .prop_map(
            |(peripheral_id, local_name, rssi, service_uuids, manufacturer_data, service_data, tx_power)| {
                Advertisement {
                    peripheral_id,
                    local_name,
                    rssi,
                    service_uuids,
                    manufacturer_data,
                    service_data,
                    tx_power,
                }
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (advertisement(), 0u64..60_000).prop_map(|(advertisement, at_ms)| Step::Hear { advertisement, at_ms }),
        1 => (0u64..60_000).prop_map(|at_ms| Step::Expire { at_ms }),
    ]
}

fn config() -> impl Strategy<Value = DiscoveryConfig> {
    (1usize..16, 1u64..20_000, 1u32..=100, any::<bool>()).prop_map(
        |(max_devices, expiry_ms, weight, filter_all)| {
            let defaults = DiscoveryConfig::default();
            DiscoveryConfig {
                max_devices,
                expiry: Duration::from_millis(expiry_ms),
                rssi_smoothing: weight as f32 / 100.0,
                service_uuids: if filter_all { Vec::new() } else { defaults.service_uuids.clone() },
                name_prefixes: if filter_all { Vec::new() } else { defaults.name_prefixes.clone() },
                ..defaults
            }
        },
    )
}

fn wifi_network() -> impl Strategy<Value = WifiNetwork> {
    (
        prop_oneof!["PROV_[0-9A-F]{6}", "prov_[0-9a-f]{6}", ".{0,12}"],
        prop::option::of(any::<[u8; 6]>()),
        any::<i16>(),
        prop::option::of(any::<u16>()),
        any::<bool>(),
    )
        .prop_map(|(ssid, bssid, rssi, channel, secured)| WifiNetwork {
            ssid,
            bssid,
            rssi,
            channel,
            secured,
        })
}

/// Whether an advertisement would admit its device to an empty table.
fn matches_on_its_own(advertisement: &Advertisement, config: &DiscoveryConfig) -> bool {
    let filters_nothing = config.service_uuids.is_empty() && config.name_prefixes.is_empty();
    let wanted_service = advertisement.service_uuids.iter().any(|uuid| config.service_uuids.contains(uuid));
    let wanted_name = advertisement.local_name.as_deref().is_some_and(|name| {
        config.name_prefixes.iter().any(|prefix| {
            name.as_bytes()
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
        })
    });
    filters_nothing || wanted_service || wanted_name
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_streams_keep_the_table_bounded_by_distinct_matching_devices(
        config in config(),
        steps in prop::collection::vec(step(), 0..120),
        wifi in prop::collection::vec(wifi_network(), 0..8),
    ) {
        let start = Instant::now();
        let mut table = DiscoveryTable::new(config.clone()).expect("generated configs are valid");
        let mut matching_ids = HashSet::new();
        for step in steps {
            match step {
                Step::Hear { advertisement, at_ms } => {
                    let id = advertisement.peripheral_id.clone();
                    let matched = matches_on_its_own(&advertisement, &config);
                    if matched {
                        matching_ids.insert(id.clone());
                    }
                    let outcome = table.ingest(advertisement, start + Duration::from_millis(at_ms));
                    if outcome == Ingested::Added {
                        prop_assert!(matched, "only a matching advertisement adds a device");
                    }
                    if outcome == Ingested::Ignored {
                        prop_assert!(table.get(&id).is_none());
                    }
                }
                Step::Expire { at_ms } => {
                    let now = start + Duration::from_millis(at_ms);
                    table.expire(now);
                    for device in table.devices() {
                        prop_assert!(now.saturating_duration_since(device.last_seen) <= config.expiry);
                    }
                }
            }
            prop_assert!(table.len() <= matching_ids.len());
            prop_assert!(table.len() <= config.max_devices);
            for device in table.devices() {
                prop_assert!(matching_ids.contains(&device.peripheral_id));
                prop_assert!(device.first_seen <= device.last_seen);
                if let Some(rssi) = device.rssi {
                    prop_assert!((-127..=20).contains(&rssi));
                }
            }
        }

        let list = discovered_devices(&table, &wifi);
        let ble_ids: Vec<&str> =
            list.iter().filter_map(|device| device.ble.as_ref().map(|ble| ble.peripheral_id.as_str())).collect();
        prop_assert_eq!(ble_ids.len(), table.len(), "every BLE device is listed");
        prop_assert_eq!(ble_ids.iter().collect::<HashSet<_>>().len(), ble_ids.len(), "and listed once");
        prop_assert!(list.len() <= table.len() + wifi.len());
        prop_assert!(list.windows(2).all(|pair| pair[0].rssi >= pair[1].rssi), "strongest first");
        for device in &list {
            prop_assert!(device.ble.is_some() || device.softap.is_some());
            let best = [device.ble.as_ref().and_then(|ble| ble.rssi), device.softap.as_ref().map(|ap| ap.rssi)];
            prop_assert_eq!(device.rssi, best.into_iter().flatten().max());
        }
    }

    #[test]
    fn any_advertisement_into_a_default_table_never_panics(advertisement in advertisement()) {
        let mut table = DiscoveryTable::new(DiscoveryConfig::default()).expect("default is valid");
        let now = Instant::now();
        let first = table.ingest(advertisement.clone(), now);
        let again = table.ingest(advertisement, now);
        prop_assert!(matches!((first, again), (Ingested::Ignored, Ingested::Ignored) | (Ingested::Added, Ingested::Refreshed)));
        let tracked = table.len();
        prop_assert_eq!(table.expire(now + Duration::from_secs(11)), tracked, "silence beyond the expiry empties it");
        prop_assert!(table.is_empty());
    }
}

#[test]
fn manufacturer_data_of_many_adverts_does_not_accumulate() {
    let mut table = DiscoveryTable::new(DiscoveryConfig::default()).expect("default is valid");
    let now = Instant::now();
    for company in 0..=u16::MAX {
        table.ingest(
            Advertisement {
                peripheral_id: "AA:BB:CC:00:00:01".into(),
                local_name: Some("PROV_000001".into()),
                rssi: -60,
                service_uuids: Vec::new(),
                manufacturer_data: BTreeMap::from([(company, vec![0; 20])]),
                service_data: BTreeMap::new(),
                tx_power: None,
            },
            now,
        );
    }
    let device = table.get("AA:BB:CC:00:00:01").expect("tracked");
    assert_eq!(
        device.manufacturer_data,
        BTreeMap::from([(u16::MAX, vec![0; 20])]),
        "only the latest is kept"
    );
}
