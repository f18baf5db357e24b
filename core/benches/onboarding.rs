//! 64 concurrent onboardings against the simulated world (cloud, devices, phone) in one process:
//! every device must end bound. Reports wall time and peak heap (a counting allocator), not a
//! criterion statistic: one run is the unit of interest. `cargo bench --bench onboarding`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use unbox_core::flow::{FlowEvent, FlowObserver};
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

const DEVICES: usize = 64;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for link in [Link::Ble, Link::SoftAp] {
        runtime.block_on(async {
            // Firmware timing: apply waits 1 s, joining takes 1.5 s.
            let options = WorldOptions { devices: DEVICES, ..WorldOptions::default() };
            let world = SimWorld::start(options).await.expect("world");
            let onboarding = world.onboarding().await.expect("onboarding");
            let cancel = CancellationToken::new();
            let baseline = CURRENT.load(Ordering::Relaxed);
            PEAK.store(baseline, Ordering::Relaxed);
            let started = Instant::now();
            let runs = (0..DEVICES).map(|index| {
                let request = world.request(index, link);
                let onboarding = &onboarding;
                let cancel = &cancel;
                async move { onboarding.run(&request, &Quiet, None, cancel).await }
            });
            let results: Vec<_> = futures::stream::iter(runs).buffer_unordered(DEVICES).collect().await;
            let wall = started.elapsed();
            let bound = results.iter().filter(|r| r.is_ok()).count();
            let failures: Vec<String> = results.iter().filter_map(|r| r.as_ref().err().map(|e| e.to_string())).collect();
            let peak = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
            println!(
                "onboarding/{link:?}: {bound}/{DEVICES} bound in {:.2} s wall; peak extra heap {:.1} MiB ({:.0} KiB per device)",
                wall.as_secs_f64(),
                peak as f64 / (1024.0 * 1024.0),
                peak as f64 / 1024.0 / DEVICES as f64,
            );
            assert_eq!(bound, DEVICES, "every device must be bound: {failures:?}");
        });
    }
}
