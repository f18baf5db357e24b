//! The binding flow against the simulated backend over loopback HTTP: the happy path and every
//! way a claim ends badly.

use std::sync::Arc;
use std::time::Duration;

use crate::support::binding::Harness;
use unbox_core::binding::device_claim::{
    decode_claim_request, decode_claim_response, encode_claim_request, encode_claim_response,
};
use unbox_core::binding::{
    BindingError, ClaimRedeemer, ClaimStatus, DeviceCredential, DeviceId, IdempotencyKey, StaticAccessToken,
};
use unbox_core::proto::DeviceClaimStatus;
use unbox_core::secret::{SecretBytes, SecretString};
use unbox_sim::backend::BackendConfig;

const CLAIM_PATH: &str = "/v1/claims";

#[tokio::test]
async fn create_push_redeem_long_poll_confirm() {
    let harness = Harness::start().await;
    let client = harness.client();
    let (credential, redeemer) = harness.device("esp32-1a2b3c");

    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    assert_eq!(claim.status, ClaimStatus::Pending);
    assert!(claim.expires_at > harness.backend.now());

    // Phone → device over the (encrypted) `unbox-claim` endpoint, device → phone with its id.
    let request = encode_claim_request(&claim.token, Some(&harness.base_url())).expect("encodable");
    let pushed = decode_claim_request(request.expose()).expect("device reads the claim");
    let reply = encode_claim_response(DeviceClaimStatus::ClaimAccepted, credential.device_id());
    let device_id = decode_claim_response(&reply).expect("phone reads the device id");

    // The app waits (long-poll) while the device, now online, redeems.
    let waiter = tokio::spawn({
        let client = client.clone();
        let id = claim.id.clone();
        async move { client.wait_for_redemption(&id, Duration::from_secs(60)).await }
    });
    harness.until_requests(&format!("{CLAIM_PATH}/{}", claim.id), 1).await;
    let backend_url = pushed.backend_url.expect("the phone sent the backend URL");
    assert_eq!(redeemer.redeem(&backend_url, &pushed.claim_token).await, Ok(ClaimStatus::Redeemed));
    let state = waiter.await.expect("waiter ran").expect("redeemed");
    assert_eq!(state.status, ClaimStatus::Redeemed);
    assert_eq!(state.device_id, None);
    // One long-poll sufficed: the backend answered it when the device redeemed.
    let polls = harness.backend.requests().iter().filter(|r| r.method == "GET").count();
    assert_eq!(polls, 1);

    let binding = client.confirm(&claim.id, &device_id, &IdempotencyKey::generate()).await.expect("bound");
    assert_eq!(binding.device_id, device_id);
    assert_eq!(binding.claim_id, claim.id);
    let done = client.claim_state(&claim.id, Duration::ZERO).await.expect("status");
    assert_eq!(done.status, ClaimStatus::Confirmed);
    assert_eq!(done.device_id, Some(device_id.clone()));
    // Resuming an interrupted flow: waiting and confirming again are harmless.
    assert_eq!(
        client.wait_for_redemption(&claim.id, Duration::ZERO).await.map(|s| s.status),
        Ok(ClaimStatus::Confirmed)
    );
    let again =
        client.confirm(&claim.id, &device_id, &IdempotencyKey::generate()).await.expect("same binding");
    assert_eq!(again.binding_id, binding.binding_id);
    assert_eq!(redeemer.redeem(&backend_url, &pushed.claim_token).await, Ok(ClaimStatus::Confirmed));
}

fn confirm_path(claim: &unbox_core::binding::Claim) -> String {
    format!("{CLAIM_PATH}/{}/confirm", claim.id)
}

#[tokio::test]
async fn a_confirm_sent_before_the_redemption_waits_for_it_and_confirms() {
    let harness = Harness::start().await;
    let client = harness.client();
    let (credential, redeemer) = harness.device("esp32-early");
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    assert!(claim.confirm_waits, "the simulated backend advertises the waiting confirm");

    let key = IdempotencyKey::generate();
    let confirming = tokio::spawn({
        let (client, id, device_id, key) =
            (client.clone(), claim.id.clone(), credential.device_id().clone(), key.clone());
        async move { client.confirm_when_redeemed(&id, &device_id, &key, Duration::from_secs(60)).await }
    });
    harness.until_requests(&confirm_path(&claim), 1).await;
    assert!(!confirming.is_finished(), "held while the claim is pending");
    assert_eq!(redeemer.redeem(&harness.base_url(), &claim.token).await, Ok(ClaimStatus::Redeemed));
    let binding = confirming.await.expect("confirm ran").expect("bound in the same answer");
    assert_eq!(&binding.device_id, credential.device_id());
    assert_eq!(binding.claim_id, claim.id);
    // One request in all: no long-poll, no second confirm.
    let requests = harness.backend.requests();
    assert_eq!(requests.iter().filter(|r| r.path == confirm_path(&claim)).count(), 1);
    assert_eq!(requests.iter().filter(|r| r.method == "GET").count(), 0);
    let state = client.claim_state(&claim.id, Duration::ZERO).await.expect("status");
    assert_eq!(state.status, ClaimStatus::Confirmed);
    // A repeat with the same key replays the binding; after it, the answer is immediate.
    let again = client
        .confirm_when_redeemed(&claim.id, credential.device_id(), &key, Duration::from_secs(60))
        .await
        .expect("replayed");
    assert_eq!(again, binding);
}

#[tokio::test]
async fn a_waiting_confirm_of_another_device_than_the_redeeming_one_is_refused() {
    let harness = Harness::start().await;
    let client = harness.client();
    let (learned, _) = harness.device("esp32-learned");
    let (_, rogue) = harness.device("esp32-rogue");
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    let confirming = tokio::spawn({
        let (client, id, device_id) = (client.clone(), claim.id.clone(), learned.device_id().clone());
        async move {
            let key = IdempotencyKey::generate();
            client.confirm_when_redeemed(&id, &device_id, &key, Duration::from_secs(60)).await
        }
    });
    harness.until_requests(&confirm_path(&claim), 1).await;
    assert_eq!(rogue.redeem(&harness.base_url(), &claim.token).await, Ok(ClaimStatus::Redeemed));
    let error = confirming.await.expect("confirm ran").expect_err("another device redeemed");
    assert_eq!(error, BindingError::DeviceMismatch);
    assert!(error.requires_new_claim());
    let state = client.claim_state(&claim.id, Duration::ZERO).await.expect("status");
    assert_eq!(state.status, ClaimStatus::Refused);
}

#[tokio::test]
async fn a_waiting_confirm_that_runs_out_is_typed_and_the_same_key_confirms_later() {
    let harness = Harness::start().await;
    let client = harness.client();
    let (credential, redeemer) = harness.device("esp32-slow");
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    let key = IdempotencyKey::generate();
    let device_id = credential.device_id();
    let timeout = Duration::from_secs(2);
    let error = client.confirm_when_redeemed(&claim.id, device_id, &key, timeout).await.expect_err("pending");
    assert_eq!(error, BindingError::RedemptionTimedOut { waited: timeout });
    assert!(error.is_retryable() && !error.requires_new_claim());
    let state = client.claim_state(&claim.id, Duration::ZERO).await.expect("status");
    assert_eq!(state.status, ClaimStatus::Pending, "a confirm that ran out changes nothing");

    // `claim-not-redeemed` was not kept for the key: the same confirm binds once redeemed.
    redeemer.redeem(&harness.base_url(), &claim.token).await.expect("redeemed");
    let binding = client.confirm_when_redeemed(&claim.id, device_id, &key, timeout).await.expect("bound");
    assert_eq!(&binding.device_id, device_id);
    let replayed = client.confirm(&claim.id, device_id, &key).await.expect("replayed");
    assert_eq!(replayed, binding);
}

#[tokio::test]
async fn a_backend_without_the_waiting_confirm_says_so_on_the_claim() {
    let harness = Harness::start().await;
    harness.backend.set_confirm_waits(false);
    let client = harness.client();
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    assert!(!claim.confirm_waits, "the app then long-polls and confirms (see the flow's tests)");
}

#[tokio::test]
async fn expired_claim_cannot_be_redeemed_or_confirmed() {
    let harness = Harness::with_config(BackendConfig {
        claim_ttl: Duration::from_secs(300),
        ..BackendConfig::default()
    })
    .await;
    let client = harness.client();
    let (credential, redeemer) = harness.device("esp32-late");
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");

    // A long-poll in progress ends when the clock passes the deadline.
    let waiter = tokio::spawn({
        let client = client.clone();
        let id = claim.id.clone();
        async move { client.wait_for_redemption(&id, Duration::from_secs(60)).await }
    });
    harness.until_requests(&format!("{CLAIM_PATH}/{}", claim.id), 1).await;
    harness.backend.advance_clock(Duration::from_secs(301));
    let error = waiter.await.expect("waiter ran").expect_err("expired");
    assert_eq!(error, BindingError::ClaimExpired);
    assert!(error.requires_new_claim() && !error.is_retryable());

    assert_eq!(redeemer.redeem(&harness.base_url(), &claim.token).await, Err(BindingError::ClaimExpired));
    let confirm = client.confirm(&claim.id, credential.device_id(), &IdempotencyKey::generate()).await;
    assert_eq!(confirm.map(|b| b.binding_id), Err(BindingError::ClaimExpired));
    let state = client.claim_state(&claim.id, Duration::ZERO).await.expect("status");
    assert_eq!(state.status, ClaimStatus::Expired);
}

#[tokio::test]
async fn claim_token_is_single_use() {
    let harness = Harness::start().await;
    let client = harness.client();
    let (_, first) = harness.device("esp32-first");
    let (_, second) = harness.device("esp32-second");
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");

    assert_eq!(first.redeem(&harness.base_url(), &claim.token).await, Ok(ClaimStatus::Redeemed));
    let error = second.redeem(&harness.base_url(), &claim.token).await.expect_err("already used");
    assert_eq!(error, BindingError::ClaimAlreadyUsed);
    assert!(!error.is_retryable());
    // The first device repeating its redemption (e.g. its answer was lost) is fine.
    assert_eq!(first.redeem(&harness.base_url(), &claim.token).await, Ok(ClaimStatus::Redeemed));
    // An unknown token is not a claim at all.
    let unknown = first.redeem(&harness.base_url(), &SecretString::new("A".repeat(43))).await;
    assert_eq!(unknown, Err(BindingError::ClaimNotFound));
}

#[tokio::test]
async fn confirming_another_device_refuses_the_claim_for_good() {
    let harness = Harness::start().await;
    let client = harness.client();
    let (_, intruder) = harness.device("esp32-intruder");
    let (mine, _) = harness.device("esp32-mine");
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");

    intruder.redeem(&harness.base_url(), &claim.token).await.expect("the intruder redeems first");
    assert_eq!(
        client.wait_for_redemption(&claim.id, Duration::from_secs(5)).await.map(|s| s.status),
        Ok(ClaimStatus::Redeemed)
    );
    let error =
        client.confirm(&claim.id, mine.device_id(), &IdempotencyKey::generate()).await.expect_err("mismatch");
    assert_eq!(error, BindingError::DeviceMismatch);
    assert!(error.requires_new_claim());

    // Dead: no status change, no confirmation of anyone, no redemption.
    let state = client.claim_state(&claim.id, Duration::from_secs(5)).await.expect("status");
    assert_eq!(state.status, ClaimStatus::Refused);
    assert!(state.status.is_terminal());
    let intruder_id = DeviceId::new("esp32-intruder").expect("valid id");
    let retry = client.confirm(&claim.id, &intruder_id, &IdempotencyKey::generate()).await;
    assert_eq!(retry.map(|b| b.binding_id), Err(BindingError::DeviceMismatch));
    assert_eq!(
        client.wait_for_redemption(&claim.id, Duration::from_secs(5)).await.map(|s| s.status),
        Err(BindingError::DeviceMismatch)
    );
    assert_eq!(intruder.redeem(&harness.base_url(), &claim.token).await, Err(BindingError::DeviceMismatch));
}

#[tokio::test]
async fn idempotent_retries_return_the_same_claim_and_binding() {
    let harness = Harness::start().await;
    let client = harness.client();
    let (device, redeemer) = harness.device("esp32-idem");

    let key = IdempotencyKey::generate();
    let first = client.create_claim(&key).await.expect("claim created");
    let replay = client.create_claim(&key).await.expect("replayed");
    assert_eq!(replay.id, first.id);
    assert_eq!(replay.token, first.token);
    let other = client.create_claim(&IdempotencyKey::generate()).await.expect("another claim");
    assert_ne!(other.id, first.id);

    redeemer.redeem(&harness.base_url(), &first.token).await.expect("redeemed");
    let confirm_key = IdempotencyKey::generate();
    let binding = client.confirm(&first.id, device.device_id(), &confirm_key).await.expect("bound");
    let again = client.confirm(&first.id, device.device_id(), &confirm_key).await.expect("replayed");
    assert_eq!(again, binding);

    // The same key with another body is a client bug, reported as such.
    let other_device = DeviceId::new("esp32-other").expect("valid id");
    let misuse = client.confirm(&first.id, &other_device, &confirm_key).await.expect_err("key reused");
    assert!(
        matches!(&misuse, BindingError::Rejected { status: 422, code, .. } if code == "idempotency-key-reused"),
        "{misuse:?}"
    );
    // ... and did not touch the claim.
    let state = client.claim_state(&first.id, Duration::ZERO).await.expect("status");
    assert_eq!(state.status, ClaimStatus::Confirmed);
}

#[tokio::test]
async fn confirming_before_redemption_says_to_wait() {
    let harness = Harness::start().await;
    let client = harness.client();
    let claim = client.create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    let device = DeviceId::new("esp32-slow").expect("valid id");
    let error = client.confirm(&claim.id, &device, &IdempotencyKey::generate()).await.expect_err("too early");
    assert_eq!(error, BindingError::NotRedeemed);
    assert!(error.is_retryable());
    let timeout = client.wait_for_redemption(&claim.id, Duration::ZERO).await.expect_err("still pending");
    assert!(matches!(timeout, BindingError::RedemptionTimedOut { .. }) && timeout.is_retryable());
}

#[tokio::test]
async fn another_users_claim_is_invisible() {
    let harness = Harness::start().await;
    let claim = harness.client().create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    harness.validator.allow("bob-token-0002", "bob");
    let bob = harness.client_with(Arc::new(StaticAccessToken::new(SecretString::new("bob-token-0002"))));
    assert_eq!(
        bob.claim_state(&claim.id, Duration::ZERO).await.map(|s| s.status),
        Err(BindingError::ClaimNotFound)
    );
}

#[tokio::test]
async fn a_device_with_a_wrong_secret_cannot_redeem() {
    let harness = Harness::start().await;
    let claim = harness.client().create_claim(&IdempotencyKey::generate()).await.expect("claim created");
    harness.device("esp32-real");
    let forged = DeviceCredential::new(
        DeviceId::new("esp32-real").expect("valid id"),
        SecretBytes::new(vec![9u8; 32]),
    )
    .expect("valid credential");
    let redeemer = ClaimRedeemer::new(forged).expect("redeemer");
    assert_eq!(
        redeemer.redeem(&harness.base_url(), &claim.token).await,
        Err(BindingError::DeviceUnauthorized)
    );
    let state = harness.client().claim_state(&claim.id, Duration::ZERO).await.expect("status");
    assert_eq!(state.status, ClaimStatus::Pending);
}
