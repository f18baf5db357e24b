//! BLE advertisements and phone Wi-Fi scans through the discovery table and the merged device
//! list: whatever a stranger's radio sends, the table holds at most `max_devices` entries and
//! the list names each device once.
#![no_main]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use unbox_core::discovery::{
    DiscoveryConfig, DiscoveryTable, ESP_IDF_DEFAULT_SERVICE_UUID, WifiNetwork, discovered_devices,
    setup_mode_networks,
};
use unbox_core::platform::ble::Advertisement;
use uuid::Uuid;

fn uuid(input: &mut Unstructured) -> Result<Uuid> {
    Ok(if input.arbitrary()? { ESP_IDF_DEFAULT_SERVICE_UUID } else { Uuid::from_u128(input.arbitrary()?) })
}

fn name(input: &mut Unstructured) -> Result<Option<String>> {
    Ok(match input.int_in_range(0u8..=3)? {
        0 => None,
        1 => Some(format!("PROV_{}", input.arbitrary::<String>()?)),
        2 => Some(format!("prov_{:02x}", input.arbitrary::<u8>()?)),
        _ => Some(input.arbitrary()?),
    })
}

fn advertisement(input: &mut Unstructured) -> Result<Advertisement> {
    let mut manufacturer_data = BTreeMap::new();
    for _ in 0..input.int_in_range(0u8..=2)? {
        manufacturer_data.insert(input.arbitrary()?, input.arbitrary()?);
    }
    let mut service_data = BTreeMap::new();
    for _ in 0..input.int_in_range(0u8..=2)? {
        service_data.insert(uuid(input)?, input.arbitrary()?);
    }
    let mut service_uuids = Vec::new();
    for _ in 0..input.int_in_range(0u8..=3)? {
        service_uuids.push(uuid(input)?);
    }
    Ok(Advertisement {
        // Few ids, so that streams come back to the same devices.
        peripheral_id: format!("AA:BB:CC:00:00:{:02X}", input.int_in_range(0u8..=40)?),
        local_name: name(input)?,
        rssi: input.arbitrary()?,
        service_uuids,
        manufacturer_data,
        service_data,
        tx_power: input.arbitrary()?,
    })
}

fn network(input: &mut Unstructured) -> Result<WifiNetwork> {
    Ok(WifiNetwork {
        ssid: name(input)?.unwrap_or_default(),
        bssid: input.arbitrary()?,
        rssi: input.arbitrary()?,
        channel: input.arbitrary()?,
        secured: input.arbitrary()?,
    })
}

fn run(input: &mut Unstructured) -> Result<()> {
    let max_devices = usize::from(input.int_in_range(1u8..=16)?);
    let config = DiscoveryConfig {
        max_devices,
        expiry: Duration::from_millis(u64::from(input.int_in_range(1u16..=20_000)?)),
        rssi_smoothing: f32::from(input.int_in_range(1u8..=100)?) / 100.0,
        ..DiscoveryConfig::default()
    };
    let Ok(mut table) = DiscoveryTable::new(config) else { return Ok(()) };
    let start = Instant::now();
    let mut networks = Vec::new();
    while !input.is_empty() {
        let now = start + Duration::from_millis(u64::from(input.arbitrary::<u16>()?));
        match input.int_in_range(0u8..=9)? {
            0 => {
                table.expire(now);
            }
            1 => networks.push(network(input)?),
            _ => {
                table.ingest(advertisement(input)?, now);
            }
        }
        assert!(table.len() <= max_devices, "{} devices in a table of {max_devices}", table.len());
    }
    let prefixes = table.config().ssid_prefixes.clone();
    let access_points = setup_mode_networks(&networks, &prefixes);
    assert!(access_points.len() <= networks.len());
    let devices = discovered_devices(&table, &networks);
    assert!(
        devices.len() <= table.len() + access_points.len(),
        "{} devices from {} BLE devices and {} access points",
        devices.len(),
        table.len(),
        access_points.len()
    );
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
