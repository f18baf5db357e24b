//! The backend's replies and problem documents through the binding client and the device's
//! claim redeemer, from a loopback server playing the backend; and the two messages of the
//! device's `unbox-claim` endpoint. Input: frame 0 = [call], frame 1 = [status], frame 2 =
//! [content type], frame 3 = one header line (e.g. Retry-After), frame 4 = the body.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use unbox_core::binding::device_claim::{decode_claim_request, decode_claim_response};
use unbox_core::binding::{
    BindingClient, ClaimId, ClaimRedeemer, DeviceCredential, DeviceId, IdempotencyKey, NoJitter, RetryPolicy,
    StaticAccessToken,
};
use unbox_core::platform::clock::ManualClock;
use unbox_core::secret::{SecretBytes, SecretString};
use unbox_fuzz::{ScriptedServer, frames, runtime};
use url::Url;

/// Retries without waiting (a manual clock skips the waits): the schedule is not what is fuzzed.
fn policy() -> RetryPolicy {
    RetryPolicy::new(2, Duration::from_millis(1), Duration::from_millis(1))
        .with_jitter(Arc::new(NoJitter))
        .with_clock(Arc::new(ManualClock::new(SystemTime::now())))
}

fn base_url() -> Url {
    Url::parse(&ScriptedServer::get().base_url()).expect("the server's URL")
}

fn clients() -> &'static (BindingClient, ClaimRedeemer) {
    static CLIENTS: OnceLock<(BindingClient, ClaimRedeemer)> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let tokens = Arc::new(StaticAccessToken::new(SecretString::new("user-token".to_owned())));
        let client = BindingClient::new(&base_url(), tokens).expect("a client").with_retry_policy(policy());
        let device = DeviceId::new("fuzz-device").expect("a device id");
        let credential =
            DeviceCredential::new(device, SecretBytes::new(vec![7u8; 32])).expect("a credential");
        let redeemer = ClaimRedeemer::new(credential).expect("a redeemer").with_retry_policy(policy());
        (client, redeemer)
    })
}

fuzz_target!(|data: &[u8]| {
    let frames = frames(data);
    let Some((call, response)) = frames.split_first() else { return };
    let call = call.first().copied().unwrap_or(0) % 6;
    if call >= 4 {
        let bytes = response.last().copied().unwrap_or_default();
        let _ = if call == 4 {
            decode_claim_response(bytes).map(drop)
        } else {
            decode_claim_request(bytes).map(drop)
        };
        return;
    }
    ScriptedServer::get().respond_with_frames(response);
    let (client, redeemer) = clients();
    let claim = ClaimId::new("claim-1").expect("a claim id");
    let device = DeviceId::new("fuzz-device").expect("a device id");
    runtime().block_on(async {
        match call {
            0 => {
                if let Ok(created) = client.create_claim(&IdempotencyKey::generate()).await {
                    let _ = created;
                }
            }
            1 => {
                if let Ok(state) = client.claim_state(&claim, Duration::ZERO).await {
                    assert_eq!(state.id, claim, "a status of another claim was accepted");
                }
            }
            2 => {
                if let Ok(binding) = client.confirm(&claim, &device, &IdempotencyKey::generate()).await {
                    let _ = binding;
                }
            }
            _ => {
                let token = SecretString::new("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned());
                let _ = redeemer.redeem(&base_url(), &token).await;
            }
        }
    });
});
