//! Keeping a sign-in alive against the simulated identity provider: refresh on expiry (with a
//! shared manual clock), refresh-token rotation, provider outages, and signing out.

mod auth_support;

use std::sync::Arc;
use std::time::Duration;

use auth_support::*;
use unbox_core::auth::{AuthError, ManualClock, NeedsLoginReason, TokenError, TokenSet};
use unbox_core::secret::SecretString;

const LIFETIME: Duration = Duration::from_secs(600);

async fn signed_in() -> (unbox_sim::idp::RunningIdp, Harness) {
    let clock = Arc::new(ManualClock::new(start_time()));
    let idp = idp_with_clock(clock.clone(), LIFETIME).await;
    let h = harness(&idp, clock, Script::Approve).await;
    h.session.login().await.unwrap();
    (idp, h)
}

fn stored_refresh_token(stored: &serde_json::Value) -> String {
    stored["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn expired_access_token_is_refreshed_and_the_rotated_refresh_token_stored() {
    let (idp, h) = signed_in().await;
    let first = h.session.access_token().await.unwrap();
    let first_refresh = stored_refresh_token(&stored_tokens(&h.store).await.unwrap());

    h.clock.advance(LIFETIME + Duration::from_secs(1));
    assert_eq!(idp.provider().introspect(first.expose()), None);
    let second = h.session.access_token().await.unwrap();

    assert_ne!(second, first);
    assert_eq!(idp.provider().introspect(second.expose()).unwrap().subject, "user-alice");
    let stored = stored_tokens(&h.store).await.unwrap();
    assert_ne!(stored_refresh_token(&stored), first_refresh);
    assert_eq!(stored["access_token"], second.expose());
    assert_eq!(h.session.access_token().await.unwrap(), second);
}

#[tokio::test]
async fn token_expiring_within_the_skew_is_refreshed_early() {
    let (_idp, h) = signed_in().await;
    let first = h.session.access_token().await.unwrap();
    h.clock.advance(LIFETIME - Duration::from_secs(61));
    assert_eq!(h.session.access_token().await.unwrap(), first);
    h.clock.advance(Duration::from_secs(2));
    assert_ne!(h.session.access_token().await.unwrap(), first);
}

#[tokio::test]
async fn rotated_refresh_token_is_rejected_and_its_reuse_ends_the_sign_in() {
    let (idp, h) = signed_in().await;
    let stored = stored_tokens(&h.store).await.unwrap();
    let old = TokenSet {
        access_token: SecretString::new(stored["access_token"].as_str().unwrap()),
        refresh_token: Some(SecretString::new(stored_refresh_token(&stored))),
        expires_at: None,
        id_token: None,
        scopes: Vec::new(),
    };
    h.clock.advance(LIFETIME);
    let current = h.session.access_token().await.unwrap();

    let reuse = h.session.client().refresh(&old).await.unwrap_err();
    assert!(matches!(reuse, AuthError::Token(TokenError::InvalidGrant { .. })), "{reuse:?}");

    // Reuse of a rotated token revokes the whole grant (RFC 9700 §4.14.2), so the session's own
    // refresh token is dead too: the next renewal asks the person to sign in again.
    assert_eq!(idp.provider().introspect(current.expose()), None);
    h.clock.advance(LIFETIME);
    assert_eq!(
        h.session.access_token().await,
        Err(AuthError::NeedsLogin { reason: NeedsLoginReason::RefreshRejected })
    );
    assert_eq!(stored_tokens(&h.store).await, None);
    assert!(!h.session.is_signed_in().await.unwrap());
}

#[tokio::test]
async fn outage_keeps_a_still_valid_token_and_reports_a_retryable_error_once_expired() {
    let (idp, h) = signed_in().await;
    let first = h.session.access_token().await.unwrap();
    idp.provider().set_token_endpoint_down(true);

    h.clock.advance(LIFETIME - Duration::from_secs(30));
    assert_eq!(h.session.access_token().await.unwrap(), first);

    h.clock.advance(Duration::from_secs(60));
    let error = h.session.access_token().await.unwrap_err();
    assert_eq!(error, AuthError::Token(TokenError::ServerUnavailable { status: 503 }));
    assert!(error.is_retryable());

    idp.provider().set_token_endpoint_down(false);
    assert_ne!(h.session.access_token().await.unwrap(), first);
}

#[tokio::test]
async fn logout_clears_the_store_and_revokes_the_tokens() {
    let (idp, h) = signed_in().await;
    let token = h.session.access_token().await.unwrap();

    h.session.logout().await.unwrap();

    assert_eq!(stored_tokens(&h.store).await, None);
    assert_eq!(idp.provider().introspect(token.expose()), None);
    assert_eq!(
        h.session.access_token().await,
        Err(AuthError::NeedsLogin { reason: NeedsLoginReason::NotSignedIn })
    );
    h.session.logout().await.unwrap();
}

#[tokio::test]
async fn unreadable_stored_tokens_mean_signing_in_again() {
    let (_idp, h) = signed_in().await;
    unbox_core::secret_store::SecretStore::put(
        h.store.as_ref(),
        unbox_core::auth::DEFAULT_TOKEN_KEY,
        SecretString::new("{not json"),
    )
    .await
    .unwrap();
    assert_eq!(
        h.session.access_token().await,
        Err(AuthError::NeedsLogin { reason: NeedsLoginReason::StoredTokensUnreadable })
    );
    assert_eq!(stored_tokens(&h.store).await, None);
}

#[tokio::test]
async fn session_supplies_the_binding_client_with_tokens() {
    use unbox_core::binding::{AccessTokenError, AccessTokenSource};

    let (idp, h) = signed_in().await;
    let source: &dyn AccessTokenSource = h.session.as_ref();
    let first = source.access_token().await.unwrap();
    let refresh_before = stored_refresh_token(&stored_tokens(&h.store).await.unwrap());

    // The backend refused the current token: the session renews it.
    let renewed = source.refresh_access_token(&first).await.unwrap();
    assert_ne!(renewed, first);
    assert!(idp.provider().introspect(renewed.expose()).is_some());
    let refresh_after = stored_refresh_token(&stored_tokens(&h.store).await.unwrap());
    assert_ne!(refresh_after, refresh_before);

    // A late 401 for the token renewed meanwhile does not renew again.
    assert_eq!(source.refresh_access_token(&first).await.unwrap(), renewed);
    assert_eq!(stored_refresh_token(&stored_tokens(&h.store).await.unwrap()), refresh_after);

    h.session.logout().await.unwrap();
    assert!(matches!(source.access_token().await, Err(AccessTokenError::LoginRequired(_))));
}
