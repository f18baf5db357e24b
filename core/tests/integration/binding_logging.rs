//! The binding client and backend log enough to follow a claim, and never a claim token or an
//! access token, at any level.

use std::sync::Arc;
use std::time::Duration;

use crate::support::binding::{ALICE_TOKEN, Harness, RotatingTokens};
use crate::support::logs::capture_logs;
use unbox_core::binding::IdempotencyKey;

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let capture = capture_logs();

    let harness = Harness::start().await;
    let tokens = Arc::new(RotatingTokens::new("stale-token-0000", ALICE_TOKEN));
    let client = harness.client_with(tokens);
    let (device, redeemer) = harness.device("esp32-quiet");
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    redeemer.redeem(&harness.base_url(), &claim.token).await.expect("redeemed");
    client.wait_for_redemption(&claim.id, Duration::from_secs(5)).await.expect("redeemed");
    client.confirm(&claim.id, device.device_id(), &IdempotencyKey::generate()).await.expect("bound");

    let logs = capture.text();
    assert!(logs.contains("claim created") && logs.contains("binding confirmed"), "logging is on: {logs}");
    for secret in [claim.token.expose(), ALICE_TOKEN, "stale-token-0000"] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
}
