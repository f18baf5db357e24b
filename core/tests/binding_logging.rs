//! The binding client and backend log enough to follow a claim, and never a claim token or an
//! access token, at any level.

mod binding_support;

use std::sync::Arc;
use std::time::Duration;

use binding_support::{ALICE_TOKEN, Harness, RotatingTokens};
use unbox_core::binding::IdempotencyKey;

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    use std::io::Write;

    #[derive(Clone, Default)]
    struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let capture = Capture::default();
    let writer = capture.clone();
    // A global subscriber, alone in this test binary: tracing caches per-callsite interest
    // globally, so a thread-local one next to parallel tests can miss lines.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();

    let harness = Harness::start().await;
    let tokens = Arc::new(RotatingTokens::new("stale-token-0000", ALICE_TOKEN));
    let client = harness.client_with(tokens);
    let (device, redeemer) = harness.device("esp32-quiet");
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    redeemer.redeem(&harness.base_url(), &claim.token).await.expect("redeemed");
    client.wait_for_redemption(&claim.id, Duration::from_secs(5)).await.expect("redeemed");
    client.confirm(&claim.id, device.device_id(), &IdempotencyKey::generate()).await.expect("bound");

    let logs =
        String::from_utf8(capture.0.lock().map(|l| l.clone()).unwrap_or_default()).expect("utf-8 logs");
    assert!(logs.contains("claim created") && logs.contains("binding confirmed"), "logging is on: {logs}");
    for secret in [claim.token.expose(), ALICE_TOKEN, "stale-token-0000"] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
}
