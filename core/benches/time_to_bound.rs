//! Time to bound: how long one onboarding takes from its start to a confirmed binding, above
//! the device's own floor (the firmware's apply delay, its join and, with backend latency, the
//! round trip of its own redemption: time no client can save), for SoftAP and BLE, at loopback
//! speed and at a phone's latencies; with the device exchanges and the app's backend calls each
//! onboarding costs, and the timeline of each scenario's median run. Then 64 concurrent BLE onboardings at a phone's latencies: wall time and
//! peak heap (a counting allocator). A plain repeated benchmark (each run is seconds of
//! simulated radio time, not a microbenchmark): `cargo bench -p unbox-core --bench time_to_bound`;
//! `UNBOX_BENCH_RUNS` sets the runs per scenario (default 12).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use unbox_core::binding::wire::paths;
use unbox_core::flow::{FlowEvent, FlowObserver, OnboardingSettings, Timeline};
use unbox_core::platform::secret_store::MemorySecretStore;
use unbox_sim::latency::{LatencyRange, SimLatency};
use unbox_sim::world::{Link, SimWorld, WorldOptions};

struct CountingAllocator;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

struct Quiet;

impl FlowObserver for Quiet {
    fn on_event(&self, _event: FlowEvent) {}
}

/// One way the world is slow.
struct Scenario {
    name: &'static str,
    latency: SimLatency,
    join_time: LatencyRange,
}

fn scenarios() -> [Scenario; 3] {
    let join = LatencyRange::fixed(Duration::from_millis(1500));
    [
        Scenario { name: "loopback", latency: SimLatency::default(), join_time: join },
        Scenario {
            name: "backend 80 ms",
            latency: SimLatency { backend_round_trip: Duration::from_millis(80), ..SimLatency::default() },
            join_time: join,
        },
        Scenario {
            name: "phone-like",
            latency: SimLatency::phone_like(),
            join_time: LatencyRange::between(Duration::from_secs(1), Duration::from_secs(5)),
        },
    ]
}

/// What one onboarding took.
struct Run {
    timeline: String,
    total: Duration,
    floor: Duration,
    exchanges: u32,
    backend_calls: usize,
}

/// The flow's settings as an app ships them, with the simulated backend as the devices' own.
fn shipped_settings(world: &SimWorld) -> OnboardingSettings {
    OnboardingSettings {
        device_backend_url: world.settings().device_backend_url,
        ..OnboardingSettings::default()
    }
}

async fn one_run(scenario: &Scenario, link: Link) -> Run {
    let options =
        WorldOptions { join_time: scenario.join_time, latency: scenario.latency, ..WorldOptions::default() };
    let world = SimWorld::start(options).await.expect("world");
    // Signed in already: the person's time in the browser is not the flow's.
    let store = Arc::new(MemorySecretStore::new());
    world.session(store.clone()).await.expect("session").sign_in().await.expect("sign-in");
    let onboarding = world.onboarding_with(store, shipped_settings(&world)).await.expect("onboarding");
    let request = world.request(0, link);
    let before = world.cloud.backend().requests().len();
    let timeline = Timeline::new(None);
    let started = Instant::now();
    onboarding.run(&request, &timeline, None, &CancellationToken::new()).await.expect("bound");
    let total = started.elapsed();
    let device = &world.devices[0].device;
    let config = device.config();
    let floor = config.apply_delay + config.join_time + scenario.latency.backend_round_trip;
    let backend_calls = world.cloud.backend().requests()[before..]
        .iter()
        .filter(|request| request.path.trim_start_matches('/') != paths::REDEEM)
        .count();
    Run { timeline: timeline.render(), total, floor, exchanges: device.stats().total(), backend_calls }
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * share).round() as usize;
    sorted[index]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn main() {
    let runs: usize = std::env::var("UNBOX_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(12);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "{:<26} {:>4} {:>10} {:>10} {:>12} {:>12} {:>10} {:>14}",
        "time to bound", "runs", "median", "p95", "above floor", "above p95", "exchanges", "backend calls"
    );
    let mut timelines = Vec::new();
    for scenario in scenarios() {
        for link in [Link::SoftAp, Link::Ble] {
            let mut results: Vec<Run> =
                (0..runs).map(|_| runtime.block_on(one_run(&scenario, link))).collect();
            results.sort_by_key(|r| r.total.saturating_sub(r.floor));
            let median = &results[results.len() / 2];
            timelines.push((
                format!("{link:?}, {}", scenario.name),
                (millis(median.floor), median.timeline.clone()),
            ));
            let mut totals: Vec<Duration> = results.iter().map(|r| r.total).collect();
            let mut above: Vec<Duration> = results.iter().map(|r| r.total.saturating_sub(r.floor)).collect();
            totals.sort();
            above.sort();
            let exchanges = results.iter().map(|r| f64::from(r.exchanges)).sum::<f64>() / runs as f64;
            let calls = results.iter().map(|r| r.backend_calls as f64).sum::<f64>() / runs as f64;
            println!(
                "{:<26} {:>4} {:>8.0}ms {:>8.0}ms {:>10.0}ms {:>10.0}ms {:>10.1} {:>14.1}",
                format!("{link:?}, {}", scenario.name),
                runs,
                millis(percentile(&totals, 0.5)),
                millis(percentile(&totals, 0.95)),
                millis(percentile(&above, 0.5)),
                millis(percentile(&above, 0.95)),
                exchanges,
                calls,
            );
        }
    }
    for (name, timeline) in &timelines {
        println!("\ntimeline of the median {name} run (floor {:.0} ms):\n{}", timeline.0, timeline.1);
    }
    runtime.block_on(batch(64));
}

/// `devices` concurrent BLE onboardings at a phone's latencies; every device must end bound.
async fn batch(devices: usize) {
    let options = WorldOptions {
        devices,
        join_time: LatencyRange::between(Duration::from_secs(1), Duration::from_secs(5)),
        latency: SimLatency::phone_like(),
        ..WorldOptions::default()
    };
    let world = SimWorld::start(options).await.expect("world");
    let store = Arc::new(MemorySecretStore::new());
    world.session(store.clone()).await.expect("session").sign_in().await.expect("sign-in");
    let onboarding = world.onboarding_with(store, shipped_settings(&world)).await.expect("onboarding");
    let cancel = CancellationToken::new();
    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let started = Instant::now();
    let runs = (0..devices).map(|index| {
        let request = world.request(index, Link::Ble);
        let onboarding = &onboarding;
        let cancel = &cancel;
        async move { onboarding.run(&request, &Quiet, None, cancel).await }
    });
    let results: Vec<_> = futures::stream::iter(runs).buffer_unordered(devices).collect().await;
    let wall = started.elapsed();
    let failures: Vec<String> =
        results.iter().filter_map(|r| r.as_ref().err().map(|e| e.to_string())).collect();
    let bound = devices - failures.len();
    let slowest_floor = world
        .devices
        .iter()
        .map(|d| d.device.config().apply_delay + d.device.config().join_time)
        .max()
        .unwrap_or_default();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
    println!(
        "batch: {bound}/{devices} BLE onboardings bound at phone-like latencies in {:.2} s wall (slowest device's floor {:.2} s); peak extra heap {:.1} MiB ({:.0} KiB per device)",
        wall.as_secs_f64(),
        slowest_floor.as_secs_f64(),
        peak as f64 / (1024.0 * 1024.0),
        peak as f64 / 1024.0 / devices as f64,
    );
    assert_eq!(bound, devices, "every device must be bound: {failures:?}");
}
