//! A full SoftAP provisioning (version, sec2 handshake, set config, apply, status) against the
//! simulated device on loopback HTTP, measured end to end through the real transport.
//! The device joins instantly so the figure is protocol and crypto cost, not simulated radio time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use unbox_core::device::{DeviceSession, SecurityPolicy, StatusPolling, WifiCredentials};
use unbox_core::secret::SecretString;
use unbox_core::security::ClientCredentials;
use unbox_core::transport::softap::SoftApTransport;
use unbox_sim::device::{DeviceConfig, SimDevice, SimNetwork, SimSecurity};
use unbox_sim::softap::SoftApServer;

const PASSWORD: &str = "abcd1234";

fn device() -> SimDevice {
    let config = DeviceConfig::new("PROV_BENCH")
        .with_security(SimSecurity::Sec2 {
            username: "wifiprov".into(),
            password: SecretString::new(PASSWORD),
            patch_version: 1,
        })
        .with_timing(Duration::ZERO, Duration::ZERO)
        .with_network(SimNetwork::new("HomeNet", "correct horse battery"));
    SimDevice::new(config, Vec::new())
}

async fn provision(address: &str) -> u32 {
    let transport = Arc::new(SoftApTransport::new(address, Duration::from_secs(5)).expect("transport"));
    let credentials =
        ClientCredentials::Sec2 { username: "wifiprov".into(), password: SecretString::new(PASSWORD) };
    let session =
        DeviceSession::open(transport, &credentials, &SecurityPolicy::default()).await.expect("session");
    session.set_wifi_config(&WifiCredentials::new("HomeNet", "correct horse battery")).await.expect("set");
    session.apply_wifi_config().await.expect("apply");
    let polling = StatusPolling {
        initial_delay: Duration::from_micros(1),
        interval: Duration::from_micros(1),
        max_delay: Duration::from_millis(1),
        deadline: Duration::from_secs(5),
    };
    let mut polls = 0;
    session.wait_for_wifi(polling, |_| polls += 1).await.expect("joined");
    polls
}

fn full_softap_provisioning(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("provisioning");
    group.sample_size(30);
    group.bench_function("softap_sec2_full", |b| {
        b.to_async(&runtime).iter_custom(|iterations| async move {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let device = device();
                let server = SoftApServer::bind(device.clone(), "127.0.0.1:0").await.expect("bind");
                let address = server.address().to_string();
                let started = Instant::now();
                provision(&address).await;
                total += started.elapsed();
            }
            total
        });
    });
    group.finish();

    let exchanges = runtime.block_on(async {
        let device = device();
        let server = SoftApServer::bind(device.clone(), "127.0.0.1:0").await.expect("bind");
        let polls = provision(&server.address().to_string()).await;
        (device.stats(), polls)
    });
    println!(
        "exchanges in one provisioning: {} {:?} (status polls: {})",
        exchanges.0.total(),
        exchanges.0.by_endpoint,
        exchanges.1
    );
}

criterion_group!(benches, full_softap_provisioning);
criterion_main!(benches);
