//! The sign-in feeding the binding client: the session supplies access tokens, the simulated
//! backend checks them with the simulated identity provider, and expiry or sign-out behave.

use std::sync::Arc;
use std::time::Duration;

use crate::support::auth::*;
use unbox_core::binding::{AccessTokenSource, BindingClient, BindingError, IdempotencyKey};
use unbox_core::platform::clock::ManualClock;
use unbox_sim::backend::{BackendConfig, BindingBackend};

#[tokio::test]
async fn backend_accepts_the_sessions_tokens_until_sign_out() {
    let lifetime = Duration::from_secs(600);
    let clock = Arc::new(ManualClock::new(start_time()));
    let idp = idp_with_clock(clock.clone(), lifetime).await;
    let backend = BindingBackend::new(idp.provider().clone(), BackendConfig::default());
    let server = backend.serve().await.unwrap();
    let h = harness(&idp, clock.clone(), Script::Approve).await;
    h.session.sign_in().await.unwrap();
    let base_url = url::Url::parse(&server.base_url()).unwrap();
    let client = BindingClient::new(&base_url, h.session.clone() as Arc<dyn AccessTokenSource>).unwrap();

    client.create_claim(&IdempotencyKey::generate()).await.unwrap();

    // Past the access token's lifetime the provider refuses it; the session renews first.
    clock.advance(lifetime);
    client.create_claim(&IdempotencyKey::generate()).await.unwrap();

    h.session.sign_out().await.unwrap();
    let refused = client.create_claim(&IdempotencyKey::generate()).await.unwrap_err();
    assert!(matches!(refused, BindingError::Unauthorized { .. }), "{refused:?}");
}
