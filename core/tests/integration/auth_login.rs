//! Signing in against the simulated identity provider over loopback HTTP: the happy path and
//! every way the authorization response or the code exchange can be refused.

use std::sync::Arc;
use std::time::Duration;

use crate::support::auth::*;
use unbox_core::auth::{
    AuthClient, AuthError, CallbackError, ClientConfig, Identity, ProviderMetadata, Session, TokenError,
};
use unbox_core::platform::authorization::AgentError;
use unbox_core::platform::clock::ManualClock;
use unbox_core::platform::secret_store::{MemorySecretStore, SecretStore};
use unbox_sim::idp::{DEFAULT_CLIENT_ID, IdpConfig, spawn};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(start_time()))
}

#[tokio::test]
async fn full_login_stores_tokens_the_provider_accepts() {
    let clock = clock();
    let idp = idp_with_clock(clock.clone(), Duration::from_secs(3600)).await;
    let h = harness(&idp, clock, Script::Approve).await;
    assert!(!h.session.is_signed_in().await.unwrap());

    let identity = h.session.sign_in().await.unwrap();

    assert_eq!(
        identity,
        Some(Identity {
            subject: "user-alice".into(),
            email: Some("alice@example.com".into()),
            name: Some("Alice Example".into())
        })
    );
    assert!(h.session.is_signed_in().await.unwrap());
    let token = h.session.access_token().await.unwrap();
    let user = idp.provider().introspect(token.expose()).unwrap();
    assert_eq!(user.subject, "user-alice");
    assert_eq!(user.scopes, ["openid", "profile", "email"]);
    let stored = stored_tokens(&h.store).await.unwrap();
    assert_eq!(stored["access_token"], token.expose());
    assert!(stored["refresh_token"].is_string());
    assert!(stored["id_token"].is_string());
    assert_eq!(stored["expires_at"], 1_750_000_000 + 3600);
}

#[tokio::test]
async fn login_through_the_consent_page() {
    let clock = clock();
    let idp =
        spawn(IdpConfig { auto_consent: false, clock: clock.clone(), ..IdpConfig::default() }).await.unwrap();
    let h = harness(&idp, clock, Script::Approve).await;
    assert_eq!(
        h.session.sign_in().await.unwrap().map(|identity| identity.subject),
        Some("user-alice".into())
    );
}

#[tokio::test]
async fn state_mismatch_is_refused_and_nothing_is_stored() {
    let clock = clock();
    let idp = idp_with_clock(clock.clone(), Duration::from_secs(3600)).await;
    let h = harness(&idp, clock, Script::SwapState).await;
    assert_eq!(h.session.sign_in().await, Err(AuthError::Callback(CallbackError::StateMismatch)));
    assert_eq!(stored_tokens(&h.store).await, None);
}

#[tokio::test]
async fn issuer_mismatch_in_the_redirect_is_refused() {
    let clock = clock();
    let idp = idp_with_clock(clock.clone(), Duration::from_secs(3600)).await;
    let h = harness(&idp, clock, Script::SwapIssuer).await;
    assert_eq!(
        h.session.sign_in().await,
        Err(AuthError::Callback(CallbackError::IssuerMismatch {
            expected: idp.base_url().to_owned(),
            received: "https://evil.example".into()
        }))
    );
}

#[tokio::test]
async fn user_cancelling_stops_the_login() {
    let clock = clock();
    let idp = idp_with_clock(clock.clone(), Duration::from_secs(3600)).await;
    let h = harness(&idp, clock, Script::Cancel).await;
    let error = h.session.sign_in().await.unwrap_err();
    assert_eq!(error, AuthError::Agent(AgentError::Cancelled));
    assert_eq!(error.to_string(), "the sign-in was cancelled; start it again when you are ready");
    assert!(!h.session.is_signed_in().await.unwrap());
}

#[tokio::test]
async fn access_denied_carries_the_providers_description() {
    let clock = clock();
    let idp =
        spawn(IdpConfig { auto_consent: false, clock: clock.clone(), ..IdpConfig::default() }).await.unwrap();
    let h = harness(&idp, clock, Script::Deny).await;
    let error = h.session.sign_in().await.unwrap_err();
    assert_eq!(
        error,
        AuthError::Callback(CallbackError::Denied {
            description: Some("The user denied the request".into())
        })
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn replayed_code_is_refused_and_revokes_the_first_tokens() {
    let clock = clock();
    let idp = idp_with_clock(clock.clone(), Duration::from_secs(3600)).await;
    let client =
        AuthClient::discover(app_config(REDIRECT_URI), idp.base_url()).await.unwrap().with_clock(clock);
    let agent = ScriptedAgent::new(Script::Approve);
    let request = client.begin_authorization().expect("random values");
    let callback = unbox_core::platform::authorization::AuthorizationAgent::authorize(
        agent.as_ref(),
        request.url().to_owned(),
        REDIRECT_URI.to_owned(),
    )
    .await
    .unwrap();

    let first = client.complete_authorization(&request, &callback).await.unwrap();
    assert!(idp.provider().introspect(first.tokens.access_token.expose()).is_some());
    let replay = client.complete_authorization(&request, &callback).await.unwrap_err();

    assert!(matches!(replay, AuthError::Token(TokenError::InvalidGrant { .. })), "{replay:?}");
    assert!(replay.needs_sign_in());
    assert_eq!(idp.provider().introspect(first.tokens.access_token.expose()), None);
}

#[tokio::test]
async fn swapped_pkce_challenge_makes_the_code_worthless() {
    let clock = clock();
    let idp = idp_with_clock(clock.clone(), Duration::from_secs(3600)).await;
    let h = harness(&idp, clock, Script::SwapChallenge).await;
    assert_eq!(
        h.session.sign_in().await,
        Err(AuthError::Token(TokenError::InvalidGrant {
            description: Some("PKCE verification failed".into())
        }))
    );
}

#[tokio::test]
async fn unregistered_redirect_uri_gets_an_error_page_not_a_redirect() {
    let clock = clock();
    let idp = idp_with_clock(clock.clone(), Duration::from_secs(3600)).await;
    let client = AuthClient::discover(app_config("http://127.0.0.1:49152/not-registered"), idp.base_url())
        .await
        .unwrap();
    let session = Session::new(
        client,
        ScriptedAgent::new(Script::Approve),
        Arc::new(MemorySecretStore::new()) as Arc<dyn SecretStore>,
    );
    let Err(AuthError::Agent(AgentError::Failed { reason })) = session.sign_in().await else {
        panic!("the provider must not redirect to an unregistered URI");
    };
    assert!(reason.starts_with("HTTP 400"), "{reason}");
    assert!(reason.contains("is not registered for this app"), "{reason}");
}

#[tokio::test]
async fn explicit_endpoints_work_without_discovery() {
    let clock = clock();
    let idp = idp_with_clock(clock.clone(), Duration::from_secs(3600)).await;
    let base = idp.base_url();
    let metadata = ProviderMetadata::new(&format!("{base}/authorize"), &format!("{base}/token"), false)
        .unwrap()
        .with_issuer(base, true);
    let config = ClientConfig::new(DEFAULT_CLIENT_ID, REDIRECT_URI).with_scopes(["devices"]);
    let client = AuthClient::new(config, metadata).unwrap().with_clock(clock);
    let session = Session::new(
        client,
        ScriptedAgent::new(Script::Approve),
        Arc::new(MemorySecretStore::new()) as Arc<dyn SecretStore>,
    );
    assert_eq!(session.sign_in().await, Ok(None));
    let token = session.access_token().await.unwrap();
    assert_eq!(idp.provider().introspect(token.expose()).unwrap().scopes, ["devices"]);
}

#[tokio::test]
async fn code_redeemed_after_its_lifetime_is_refused() {
    let clock = clock();
    let idp = idp_with_clock(clock.clone(), Duration::from_secs(3600)).await;
    let client = AuthClient::discover(app_config(REDIRECT_URI), idp.base_url())
        .await
        .unwrap()
        .with_clock(clock.clone());
    let request = client.begin_authorization().expect("random values");
    let callback = unbox_core::platform::authorization::AuthorizationAgent::authorize(
        ScriptedAgent::new(Script::Approve).as_ref(),
        request.url().to_owned(),
        REDIRECT_URI.to_owned(),
    )
    .await
    .unwrap();
    clock.advance(IdpConfig::default().code_lifetime);
    assert_eq!(
        client.complete_authorization(&request, &callback).await,
        Err(AuthError::Token(TokenError::InvalidGrant {
            description: Some("the authorization code has expired".into())
        }))
    );
}
