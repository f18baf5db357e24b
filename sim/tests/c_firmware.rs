//! The whole onboarding against simulated devices whose `unbox-claim` endpoint and redemption are
//! the firmware component's C code (`firmware/unbox-claim`, feature `c-firmware`): the app signs
//! in, creates a claim, pushes it over SoftAP or BLE, sends Wi-Fi, and the C code redeems the
//! claim at the simulated backend over loopback HTTP.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use unbox_core::binding::ClaimStatus;
use unbox_core::binding::device_claim::{decode_claim_response, encode_claim_request};
use unbox_core::device::AppInfo;
use unbox_core::flow::{
    DeviceTarget, FlowError, FlowEvent, FlowEventKind, FlowObserver, FlowStep, Onboarded,
};
use unbox_core::secret::SecretString;
use unbox_sim::backend::Fault;
use unbox_sim::device::{CClaimEndpoint, ClaimEndpoint, CustomEndpoint, Redemption, SimDevice};
use unbox_sim::softap::SoftApServer;
use unbox_sim::world::{DeviceFirmware, Link, SimWorld, WorldOptions};
use url::Url;

fn c_world(devices: usize) -> WorldOptions {
    WorldOptions {
        devices,
        apply_delay: Duration::from_millis(100),
        join_time: Duration::from_millis(200).into(),
        firmware: DeviceFirmware::C,
        ..WorldOptions::default()
    }
}

fn c_device(world: &SimWorld, index: usize) -> Arc<CClaimEndpoint> {
    world.devices[index].c_firmware.clone().expect("a C device")
}

/// Runs `action` when `step` starts.
struct OnStep<F: Fn() + Send + Sync>(FlowStep, F);

impl<F: Fn() + Send + Sync> FlowObserver for OnStep<F> {
    fn on_event(&self, event: FlowEvent) {
        if event.kind == FlowEventKind::Started && event.step == self.0 {
            (self.1)();
        }
    }
}

struct Quiet;

impl FlowObserver for Quiet {
    fn on_event(&self, _event: FlowEvent) {}
}

/// Waits (bounded, so a broken build fails instead of hanging) until the redemption settles.
async fn settled(mut redemption: watch::Receiver<Redemption>) -> Redemption {
    let wait = redemption.wait_for(|r| matches!(r, Redemption::Redeemed(_) | Redemption::Failed(_)));
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the redemption settles")
        .expect("open")
        .clone()
}

/// Starts onboarding device 0 over `link` in the background.
async fn start_onboarding(
    world: &SimWorld,
    link: Link,
) -> tokio::task::JoinHandle<Result<Onboarded, FlowError>> {
    let onboarding = world.onboarding().await.unwrap();
    let request = world.request(0, link);
    tokio::spawn(async move { onboarding.run(&request, &Quiet, None, &CancellationToken::new()).await })
}

/// Waits (bounded) until the C device has made `count` redemption attempts.
async fn attempts(device: &CClaimEndpoint, count: u32) {
    for _ in 0..3000 {
        if device.redeem_attempts() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the C device made {} of {count} redemption attempts", device.redeem_attempts());
}

#[tokio::test]
async fn onboards_and_binds_through_the_c_component_over_softap_and_ble() {
    for link in [Link::SoftAp, Link::Ble] {
        let world = SimWorld::start(c_world(1)).await.unwrap();
        let onboarding = world.onboarding().await.unwrap();
        let done =
            onboarding.run(&world.request(0, link), &Quiet, None, &CancellationToken::new()).await.unwrap();

        assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C", "{link:?}");
        assert_eq!(
            settled(world.devices[0].claim.redemption()).await,
            Redemption::Redeemed(ClaimStatus::Redeemed)
        );
        let device = c_device(&world, 0);
        assert!(device.is_bound());
        assert_eq!(device.redeem_attempts(), 1);
        assert_eq!(world.devices[0].device.stats().by_endpoint["unbox-claim"], 1);
        assert!(onboarding.pending_claims().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn backend_unreachable_then_unavailable_then_up_still_binds() {
    let world = SimWorld::start(c_world(1)).await.unwrap();
    let device = c_device(&world, 0);
    // Three attempts get no answer at all; then the backend answers 503 twice, then works.
    device.cut_uplink(3);
    let cloud = world.cloud.backend().clone();
    let observer = OnStep(FlowStep::WaitDeviceOnline, move || {
        cloud.fail_next(2, Fault::Unavailable { retry_after: None });
    });
    let onboarding = world.onboarding().await.unwrap();
    let done = onboarding
        .run(&world.request(0, Link::Ble), &observer, None, &CancellationToken::new())
        .await
        .unwrap();

    assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C");
    assert!(matches!(settled(world.devices[0].claim.redemption()).await, Redemption::Redeemed(_)));
    assert!(device.redeem_attempts() >= 4, "{} attempts", device.redeem_attempts());
    let redeems =
        world.cloud.backend().requests().into_iter().filter(|r| r.path == "/v1/claims/redeem").count();
    assert_eq!(redeems as u32, device.redeem_attempts() - 3, "the cut attempts never reached the backend");
}

#[tokio::test]
async fn a_claim_that_expires_before_the_device_gets_through_is_reported_expired() {
    let world = SimWorld::start(c_world(1)).await.unwrap();
    let device = c_device(&world, 0);
    device.cut_uplink(u32::MAX);
    let flow = start_onboarding(&world, Link::SoftAp).await;

    attempts(&device, 2).await;
    world.cloud.backend().advance_clock(Duration::from_secs(3600));
    device.cut_uplink(0);

    let outcome = settled(world.devices[0].claim.redemption()).await;
    assert!(
        matches!(&outcome, Redemption::Failed(m) if m.contains("expired") && m.contains("410")),
        "{outcome:?}"
    );
    assert!(!device.is_bound());
    let error = flow.await.unwrap().expect_err("the claim expired");
    assert!(error.to_string().contains("expired"), "{error}");
}

#[tokio::test]
async fn a_reboot_between_push_and_redemption_keeps_the_claim() {
    let world = SimWorld::start(c_world(1)).await.unwrap();
    let device = c_device(&world, 0);
    device.cut_uplink(u32::MAX);
    let flow = start_onboarding(&world, Link::Ble).await;

    attempts(&device, 1).await;
    // RAM is wiped and the C code boots again; only the key-value store (flash) remains.
    device.reboot().unwrap();
    device.cut_uplink(0);

    let done = flow.await.unwrap().expect("bound after the reboot");
    assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C");
    assert!(matches!(settled(world.devices[0].claim.redemption()).await, Redemption::Redeemed(_)));
    assert!(device.is_bound());
    device.reboot().unwrap();
    assert!(device.is_bound(), "the bound flag survives a reboot");
}

/// Hands every `unbox-claim` request to two C devices (a relay, or a cloned device), answering
/// with the first one's reply; only the first one joins the network with the phone's Wi-Fi.
struct Relay {
    first: Arc<CClaimEndpoint>,
    second: Arc<CClaimEndpoint>,
}

impl CustomEndpoint for Relay {
    fn name(&self) -> &str {
        "unbox-claim"
    }

    fn app_info(&self) -> Option<(String, AppInfo)> {
        Some(("unbox".into(), AppInfo { ver: "1".into(), cap: vec!["claim".into()] }))
    }

    fn handle(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        self.second.handle(request)?;
        self.first.handle(request)
    }

    fn on_network_joined(&self) {
        self.first.network_up();
    }
}

#[tokio::test]
async fn a_second_device_presenting_the_same_claim_is_refused() {
    let world = SimWorld::start(c_world(2)).await.unwrap();
    let (first, second) = (c_device(&world, 0), c_device(&world, 1));
    let relay = Arc::new(Relay { first: first.clone(), second: second.clone() });
    let config = world.devices[0].device.config().clone();
    let server = SoftApServer::bind(SimDevice::new(config, vec![relay]), "127.0.0.1:0").await.unwrap();
    let mut request = world.request(0, Link::SoftAp);
    if let DeviceTarget::SoftAp { address, .. } = &mut request.target {
        *address = server.address().to_string();
    }
    let onboarding = world.onboarding().await.unwrap();
    let done = onboarding.run(&request, &Quiet, None, &CancellationToken::new()).await.unwrap();
    assert_eq!(done.binding.as_ref().expect("bound").device_id.as_str(), "dev-1A2B3C");

    // The second device got online too and presents the same token.
    second.network_up();
    let outcome = settled(world.devices[1].claim.redemption()).await;
    assert!(
        matches!(&outcome, Redemption::Failed(m) if m.contains("409") && m.contains("claim-already-used")),
        "{outcome:?}"
    );
    assert!(first.is_bound());
    assert!(!second.is_bound());
}

#[tokio::test]
async fn the_c_endpoint_answers_as_the_rust_device_does() {
    let backend = Url::parse("http://127.0.0.1:9/").unwrap();
    let c = CClaimEndpoint::new(
        "dev-PARITY",
        zeroize::Zeroizing::new(vec![7u8; 32]),
        &backend,
        Default::default(),
    )
    .unwrap();
    let world = SimWorld::start(WorldOptions::default()).await.unwrap();
    let credential = world.cloud.manufacture_device("dev-PARITY");
    let rust = ClaimEndpoint::new(credential, Some(backend.clone()));

    let token = SecretString::new("q83vEjRWeJq83vEjRWeJqw");
    let mut inputs: Vec<Vec<u8>> = vec![
        encode_claim_request(&token, None).unwrap().expose().to_vec(),
        encode_claim_request(&token, Some(&Url::parse("https://api.example.com/").unwrap()))
            .unwrap()
            .expose()
            .to_vec(),
        vec![],
        vec![0xff; 3],
        vec![0x08, 0x01],
        hex::decode("08015a10120e756e626f782d73696d2d30303031").unwrap(),
        // A token with a character outside base64url, one too short, and one too long.
        hex::decode("520c0a0a6e6f7420626173653634").unwrap(),
        hex::decode("52070a0571383376").unwrap(),
    ];
    let mut long = vec![0x52, 0x84, 0x01, 0x0a, 0x81, 0x01];
    long.extend(std::iter::repeat_n(b'a', 129));
    inputs.push(long);
    // Pure noise, fixed seed.
    let mut state = 0x5eed_u64;
    for length in 0..600 {
        let bytes = (0..length % 97)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        inputs.push(bytes);
    }
    for input in inputs {
        let from_c = c.handle(&input).unwrap();
        let from_rust = rust.handle(&input).unwrap();
        assert_eq!(from_c, from_rust, "input {}", hex::encode(&input));
    }
    assert!(
        decode_claim_response(&c.handle(encode_claim_request(&token, None).unwrap().expose()).unwrap())
            .is_ok()
    );
}
