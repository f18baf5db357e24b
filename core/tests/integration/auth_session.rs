//! Keeping a sign-in alive against the simulated identity provider: refresh on expiry (with a
//! shared manual clock), refresh-token rotation, provider outages, and signing out.

use std::sync::Arc;
use std::time::Duration;

use crate::support::auth::*;
use unbox_core::auth::{AuthError, NeedsSignInReason, TokenError, TokenSet};
use unbox_core::platform::clock::ManualClock;
use unbox_core::platform::secret_store::SecretStore;
use unbox_core::secret::SecretString;

const LIFETIME: Duration = Duration::from_secs(600);

async fn signed_in() -> (unbox_sim::idp::RunningIdp, Harness) {
    let clock = Arc::new(ManualClock::new(start_time()));
    let idp = idp_with_clock(clock.clone(), LIFETIME).await;
    let h = harness(&idp, clock, Script::Approve).await;
    h.session.sign_in().await.unwrap();
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
        Err(AuthError::NeedsSignIn { reason: NeedsSignInReason::RefreshRejected })
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

    h.session.sign_out().await.unwrap();

    assert_eq!(stored_tokens(&h.store).await, None);
    assert_eq!(idp.provider().introspect(token.expose()), None);
    assert_eq!(
        h.session.access_token().await,
        Err(AuthError::NeedsSignIn { reason: NeedsSignInReason::NotSignedIn })
    );
    h.session.sign_out().await.unwrap();
}

#[tokio::test]
async fn unreadable_stored_tokens_mean_signing_in_again() {
    let (_idp, h) = signed_in().await;
    unbox_core::platform::secret_store::SecretStore::put(
        h.store.as_ref(),
        unbox_core::auth::DEFAULT_TOKEN_KEY,
        SecretString::new("{not json"),
    )
    .await
    .unwrap();
    assert_eq!(
        h.session.access_token().await,
        Err(AuthError::NeedsSignIn { reason: NeedsSignInReason::StoredTokensUnreadable })
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

    h.session.sign_out().await.unwrap();
    assert!(matches!(source.access_token().await, Err(AccessTokenError::LoginRequired(_))));
}

/// A store whose next `failures` writes fail, as a locked keychain would.
struct FlakyStore {
    inner: unbox_core::platform::secret_store::MemorySecretStore,
    failures: std::sync::atomic::AtomicU32,
}

#[async_trait::async_trait]
impl unbox_core::platform::secret_store::SecretStore for FlakyStore {
    async fn get(
        &self,
        key: &str,
    ) -> Result<Option<SecretString>, unbox_core::platform::secret_store::SecretStoreError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        key: &str,
        value: SecretString,
    ) -> Result<(), unbox_core::platform::secret_store::SecretStoreError> {
        let left = self.failures.load(std::sync::atomic::Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, std::sync::atomic::Ordering::SeqCst);
            return Err(unbox_core::platform::secret_store::SecretStoreError::Unavailable {
                reason: "locked".into(),
            });
        }
        self.inner.put(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), unbox_core::platform::secret_store::SecretStoreError> {
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_failed_save_of_the_rotated_refresh_token_does_not_lose_the_sign_in() {
    let clock = Arc::new(ManualClock::new(start_time()));
    let idp = idp_with_clock(clock.clone(), LIFETIME).await;
    let client = unbox_core::auth::AuthClient::discover(app_config(REDIRECT_URI), idp.base_url())
        .await
        .unwrap()
        .with_clock(clock.clone());
    let store = Arc::new(FlakyStore { inner: Default::default(), failures: 0.into() });
    let session = unbox_core::auth::Session::new(client, ScriptedAgent::new(Script::Approve), store.clone());
    session.sign_in().await.unwrap();

    // One failed write is retried and absorbed.
    clock.advance(LIFETIME + Duration::from_secs(1));
    store.failures.store(1, std::sync::atomic::Ordering::SeqCst);
    let renewed = session.access_token().await.unwrap();
    assert_eq!(idp.provider().introspect(renewed.expose()).unwrap().subject, "user-alice");

    // A store that keeps failing is reported as a storage failure, and the rotated tokens live
    // on in memory: the next call works and saves them once the store is back.
    clock.advance(LIFETIME + Duration::from_secs(1));
    store.failures.store(3, std::sync::atomic::Ordering::SeqCst);
    let error = session.access_token().await.unwrap_err();
    assert!(matches!(error, AuthError::Store(_)), "{error:?}");
    assert!(!error.needs_sign_in(), "the sign-in is not lost");
    let kept = session.access_token().await.unwrap();
    assert_eq!(idp.provider().introspect(kept.expose()).unwrap().subject, "user-alice");
    let saved = store.inner.get(unbox_core::auth::DEFAULT_TOKEN_KEY).await.unwrap().unwrap();
    assert!(saved.expose().contains(kept.expose()), "saved again once the store worked");
    // And the rotated refresh token it kept still renews.
    clock.advance(LIFETIME + Duration::from_secs(1));
    assert_ne!(session.access_token().await.unwrap(), kept);
}
