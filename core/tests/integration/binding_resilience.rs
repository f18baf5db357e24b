//! Retries, token refresh and outages against the simulated backend over loopback HTTP. Backoff
//! delays are recorded instead of slept, so the schedule is asserted exactly and tests are fast.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use crate::support::binding::{ALICE_TOKEN, Harness, RotatingTokens, policy};
use async_trait::async_trait;
use unbox_core::binding::{BindingError, ClaimRedeemer, ClaimStatus, IdempotencyKey};
use unbox_core::platform::clock::Clock;
use unbox_core::secret::SecretString;
use unbox_sim::backend::{Fault, LoopbackServer};
use unbox_sim::hostile::HostileServer;

const CLAIMS: &str = "/v1/claims";

fn millis(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|&v| Duration::from_millis(v)).collect()
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_mid_flow() {
    let harness = Harness::start().await;
    let tokens = Arc::new(RotatingTokens::new("expired-token-0000", ALICE_TOKEN));
    let client = harness.client_with(tokens.clone());

    let key = IdempotencyKey::generate();
    let claim = client.create_claim(&key).await.expect("created after a refresh");
    assert_eq!(tokens.refreshes(), 1);
    // The retry after the refresh is the same logical POST: same key, and no backoff.
    let posts: Vec<_> = harness.backend.requests().into_iter().filter(|r| r.path == CLAIMS).collect();
    assert_eq!(posts.len(), 2);
    assert!(posts.iter().all(|r| r.idempotency_key.as_deref() == Some(key.as_str())));
    assert!(harness.clock.sleeps().is_empty());

    // The access token expires again later in the flow: refreshed again, the flow goes on.
    harness.validator.revoke(ALICE_TOKEN);
    harness.validator.allow("alice-access-token-0002", "alice");
    let rotated = Arc::new(RotatingTokens::new(ALICE_TOKEN, "alice-access-token-0002"));
    let later = harness.client_with(rotated.clone());
    let state = later.claim_state(&claim.id, Duration::ZERO).await.expect("status after a refresh");
    assert_eq!(state.status, ClaimStatus::Pending);
    assert_eq!(rotated.refreshes(), 1);
}

#[tokio::test]
async fn a_refused_fresh_token_means_log_in_again() {
    let harness = Harness::start().await;
    let tokens = Arc::new(RotatingTokens::new("revoked-0000", "also-revoked-0001"));
    let error =
        harness.client_with(tokens.clone()).create_claim(&IdempotencyKey::generate()).await.expect_err("401");
    assert!(error.requires_sign_in(), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(tokens.refreshes(), 1, "refresh is asked once, not in a loop");
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_and_the_same_idempotency_key() {
    let harness = Harness::start().await;
    harness.backend.fail_next(3, Fault::Unavailable { retry_after: None });
    let key = IdempotencyKey::generate();
    let claim = harness.client().create_claim(&key).await.expect("created on the 4th attempt");

    let posts: Vec<_> = harness.backend.requests().into_iter().filter(|r| r.path == CLAIMS).collect();
    assert_eq!(posts.iter().map(|r| r.faulted).collect::<Vec<_>>(), [true, true, true, false]);
    assert!(posts.iter().all(|r| r.idempotency_key.as_deref() == Some(key.as_str())));
    assert_eq!(harness.clock.sleeps(), millis(&[100, 200, 400]));
    // The key still identifies the claim: replaying it returns the same one.
    assert_eq!(harness.client().create_claim(&key).await.map(|c| c.id), Ok(claim.id));
}

#[tokio::test]
async fn rate_limits_honour_retry_after() {
    let harness = Harness::start().await;
    harness.backend.fail_next(1, Fault::RateLimited { retry_after: 1 });
    harness.backend.fail_next(1, Fault::Internal);
    harness.client().create_claim(&IdempotencyKey::generate()).await.expect("created on the 3rd attempt");
    assert_eq!(harness.clock.sleeps(), millis(&[1000, 200]));
}

#[tokio::test]
async fn persistent_failure_ends_as_backend_unreachable() {
    let harness = Harness::start().await;
    harness.backend.fail_next(10, Fault::Internal);
    let error = harness.client().create_claim(&IdempotencyKey::generate()).await.expect_err("gives up");
    assert_eq!(error, BindingError::BackendUnreachable { attempts: 5, last: "HTTP 500".into() });
    assert!(error.is_retryable());
    assert_eq!(harness.clock.sleeps(), millis(&[100, 200, 400, 800]));
}

#[tokio::test]
async fn a_backend_that_never_answers_is_unreachable() {
    let harness = Harness::start().await;
    harness.server.go_down().await;
    let error = harness.client().create_claim(&IdempotencyKey::generate()).await.expect_err("down");
    assert!(
        matches!(&error, BindingError::BackendUnreachable { attempts: 5, last } if last.starts_with("could not connect to 127.0.0.1:")),
        "{error:?}"
    );
}

/// A clock that, at its `at`-th backoff, brings the backend back and lets the device redeem:
/// the outage ends while the app is backing off.
struct Outage {
    server: Arc<LoopbackServer>,
    redeem: Arc<dyn Fn() -> tokio::task::JoinHandle<()> + Send + Sync>,
    at: usize,
    sleeps: AtomicUsize,
}

#[async_trait]
impl Clock for Outage {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    async fn sleep(&self, _delay: Duration) {
        if self.sleeps.fetch_add(1, Ordering::SeqCst) + 1 == self.at {
            self.server.come_up().await.expect("same port is free again");
            (self.redeem)().await.expect("device redeemed");
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn backend_down_then_up_the_flow_resumes() {
    let harness = Harness::start().await;
    let (device, redeemer) = harness.device("esp32-outage");
    let claim = harness.client().create_claim(&IdempotencyKey::generate()).await.expect("claim created");

    // The backend goes away (listener and connections) while the device joins Wi-Fi.
    harness.server.go_down().await;
    let Harness { backend, server, .. } = harness;
    let server = Arc::new(server);
    let base_url = url::Url::parse(&server.base_url()).expect("loopback URL");
    let redeem: Arc<dyn Fn() -> tokio::task::JoinHandle<()> + Send + Sync> = {
        let (redeemer, base_url, token): (ClaimRedeemer, _, SecretString) =
            (redeemer, base_url.clone(), claim.token.clone());
        Arc::new(move || {
            let (redeemer, base_url, token) = (redeemer.clone(), base_url.clone(), token.clone());
            tokio::spawn(async move {
                assert_eq!(redeemer.redeem(&base_url, &token).await, Ok(ClaimStatus::Redeemed));
            })
        })
    };
    let outage = Arc::new(Outage { server: server.clone(), redeem, at: 3, sleeps: AtomicUsize::new(0) });
    let tokens = Arc::new(RotatingTokens::new(ALICE_TOKEN, ALICE_TOKEN));
    let client = unbox_core::binding::BindingClient::new(&base_url, tokens)
        .expect("client")
        .with_retry_policy(policy(10, outage.clone()));

    let state = client.wait_for_redemption(&claim.id, Duration::from_secs(60)).await.expect("resumed");
    assert_eq!(state.status, ClaimStatus::Redeemed);
    assert_eq!(outage.sleeps.load(Ordering::SeqCst), 3, "three refused attempts, then the backend was back");
    let binding =
        client.confirm(&claim.id, device.device_id(), &IdempotencyKey::generate()).await.expect("bound");
    assert_eq!(&binding.device_id, device.device_id());
    assert!(backend.requests().iter().any(|r| r.path.ends_with("/confirm")));
}

/// A backend (or something posing as one) answering without end: the client reads up to its
/// bound and stops, with a typed error, whether the size is declared or not.
#[tokio::test]
async fn an_oversized_backend_reply_is_refused_at_the_bound() {
    for declared in [true, false] {
        let server = HostileServer::endless_json("HTTP/1.1 201 Created", declared).await.unwrap();
        let base = url::Url::parse(&format!("http://{}/", server.address())).unwrap();
        let tokens = Arc::new(unbox_core::binding::StaticAccessToken::new(SecretString::new(ALICE_TOKEN)));
        let client = unbox_core::binding::BindingClient::new(&base, tokens).unwrap();
        let error = client.create_claim(&IdempotencyKey::generate()).await.unwrap_err();
        assert!(
            matches!(&error, BindingError::Protocol { reason } if reason.contains("larger than 65536")),
            "declared {declared}: {error:?}"
        );
    }
}
