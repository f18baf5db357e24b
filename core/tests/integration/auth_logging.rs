//! Tokens never reach the logs: a sign-in, a refresh, a renewal during an outage and a sign-out run with
//! every tracing event at TRACE level captured (from Unbox, the simulator, reqwest, hyper and
//! axum), and no token, code or refresh token may appear in it.

use std::sync::Arc;
use std::time::Duration;

use crate::support::auth::*;
use crate::support::logs::capture_logs;
use unbox_core::auth::{AuthError, NeedsSignInReason};
use unbox_core::platform::clock::ManualClock;

#[tokio::test]
async fn no_token_appears_in_trace_logs() {
    let captured = capture_logs();

    let lifetime = Duration::from_secs(600);
    let clock = Arc::new(ManualClock::new(start_time()));
    let idp = idp_with_clock(clock.clone(), lifetime).await;
    let h = harness(&idp, clock.clone(), Script::Approve).await;
    let mut secrets = Vec::new();

    h.session.sign_in().await.unwrap();
    let callback = url::Url::parse(&h.agent.last_callback().unwrap()).unwrap();
    secrets
        .extend(callback.query_pairs().filter(|(name, _)| name == "code").map(|(_, code)| code.into_owned()));
    let stored = stored_tokens(&h.store).await.unwrap();
    for field in ["access_token", "refresh_token", "id_token"] {
        secrets.push(stored[field].as_str().unwrap().to_owned());
    }
    clock.advance(lifetime);
    secrets.push(h.session.access_token().await.unwrap().expose().to_owned());
    let stored = stored_tokens(&h.store).await.unwrap();
    secrets.push(stored["refresh_token"].as_str().unwrap().to_owned());
    idp.provider().set_token_endpoint_down(true);
    clock.advance(lifetime - Duration::from_secs(30));
    assert!(h.session.access_token().await.is_ok());
    idp.provider().set_token_endpoint_down(false);
    h.session.sign_out().await.unwrap();
    assert_eq!(
        h.session.access_token().await,
        Err(AuthError::NeedsSignIn { reason: NeedsSignInReason::NotSignedIn })
    );

    let logs = captured.text();
    assert!(logs.contains("signed in"), "the capture must have recorded the sign-in:\n{logs}");
    assert!(logs.contains("TRACE"), "the capture must include trace events:\n{logs}");
    assert!(
        logs.contains("could not renew the access token yet"),
        "the failed renewal must be logged:\n{logs}"
    );
    assert_eq!(secrets.len(), 6);
    for secret in &secrets {
        assert!(secret.len() >= 20, "not a real secret: {secret}");
        assert!(!logs.contains(secret.as_str()), "a secret leaked into the logs:\n{logs}");
    }
}
