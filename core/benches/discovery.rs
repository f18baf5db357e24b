//! Discovery table throughput and heap use.
//!
//! Before the criterion runs, a counting global allocator measures the peak heap while streaming
//! 10,000 and then 100,000 advertisements from the same 1,000 devices into a table: equal peaks
//! show that memory follows the number of devices, not of advertisements.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use unbox_core::discovery::{
    DiscoveryConfig, DiscoveryTable, ESP_IDF_DEFAULT_SERVICE_UUID, WifiNetwork, discovered_devices,
};
use unbox_core::platform::ble::Advertisement;

/// Counts the bytes currently allocated and their high-water mark.
struct CountingAllocator;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl CountingAllocator {
    fn grew(by: usize) {
        let now = ALLOCATED.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            Self::grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            Self::grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(pointer, layout) };
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
            Self::grew(new_size);
        }
        moved
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const DEVICES: usize = 1_000;

/// The `index`-th packet of a stream where 1,000 ESP devices take turns, alternating ADV_IND
/// (service UUID, TX power) and scan response (name, manufacturer data), with RSSI jitter.
fn advertisement(index: usize) -> Advertisement {
    let device = index % DEVICES;
    let round = index / DEVICES;
    let jitter = ((index * 7919) % 11) as i16 - 5;
    let rssi = -40 - (device % 50) as i16 + jitter;
    let peripheral_id = format!("24:0A:C4:00:{:02X}:{:02X}", device / 256, device % 256);
    if round % 2 == 0 {
        Advertisement::esp_adv_ind(peripheral_id, ESP_IDF_DEFAULT_SERVICE_UUID, rssi)
    } else {
        let manufacturer_data = BTreeMap::from([(0x02e5, vec![0x01, 0x02, 0x03, 0x04])]);
        Advertisement::esp_scan_response(peripheral_id, format!("PROV_{device:06X}"), rssi, manufacturer_data)
    }
}

/// A table with the default settings; the streams span well under its 10 s expiry.
fn table() -> DiscoveryTable {
    DiscoveryTable::new(DiscoveryConfig::default()).unwrap_or_else(|error| panic!("default config: {error}"))
}

/// Streams `count` packets, each built just before it is ingested as a stack would hand it over,
/// and returns (peak heap above the starting point, heap still held by the table) in bytes.
fn heap_for(count: usize) -> (usize, usize) {
    let start = Instant::now();
    let baseline = ALLOCATED.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let mut table = table();
    for index in 0..count {
        table.ingest(advertisement(index), start + Duration::from_micros(index as u64));
    }
    let peak = PEAK.load(Ordering::Relaxed) - baseline;
    let held = ALLOCATED.load(Ordering::Relaxed) - baseline;
    assert_eq!(black_box(&table).len(), DEVICES.min(count));
    (peak, held)
}

fn report_heap() {
    println!("discovery table heap, {DEVICES} distinct devices:");
    for count in [1_000, 10_000, 100_000] {
        let (peak, held) = heap_for(count);
        println!(
            "  {count:>7} advertisements: peak {peak:>8} B, held {held:>8} B ({} B per device)",
            held / DEVICES
        );
    }
}

fn bench_ingest(criterion: &mut Criterion) {
    const ADVERTISEMENTS: usize = 100_000;
    let stream: Vec<Advertisement> = (0..ADVERTISEMENTS).map(advertisement).collect();
    let start = Instant::now();
    let mut group = criterion.benchmark_group("discovery");
    group.throughput(Throughput::Elements(ADVERTISEMENTS as u64));
    group.bench_function("ingest 100k advertisements from 1k devices", |bencher| {
        bencher.iter_batched(
            || stream.clone(),
            |stream| {
                let mut table = table();
                for (index, advertisement) in stream.into_iter().enumerate() {
                    table.ingest(advertisement, start + Duration::from_micros(index as u64));
                }
                table
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn bench_list(criterion: &mut Criterion) {
    let mut table = table();
    let start = Instant::now();
    for index in 0..2 * DEVICES {
        table.ingest(advertisement(index), start);
    }
    // 100 networks: every other one is the access point of a BLE device (same service name).
    let networks: Vec<WifiNetwork> = (0..100)
        .map(|index| WifiNetwork {
            ssid: if index % 2 == 0 { format!("prov_{:06x}", index * 10) } else { format!("Home-{index}") },
            bssid: Some([0x24, 0x0a, 0xc4, 0, 0, index as u8]),
            rssi: -50 - (index % 40) as i16,
            channel: Some(6),
            secured: index % 3 == 0,
        })
        .collect();
    let mut group = criterion.benchmark_group("discovery");
    group.throughput(Throughput::Elements(DEVICES as u64));
    group.bench_function("merged sorted list of 1k BLE devices and 100 networks", |bencher| {
        bencher.iter(|| discovered_devices(black_box(&table), black_box(&networks)));
    });
    group.finish();
}

fn main() {
    report_heap();
    let mut criterion = Criterion::default().configure_from_args();
    bench_ingest(&mut criterion);
    bench_list(&mut criterion);
    criterion.final_summary();
}
