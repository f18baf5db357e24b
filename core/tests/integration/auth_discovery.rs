//! Finding the identity provider's endpoints: OpenID Connect discovery, the RFC 8414 fallback,
//! and refusing metadata that names another issuer.

use crate::support::auth::*;
use unbox_core::auth::{AuthClient, ProviderDiscoveryError};
use unbox_sim::hostile::HostileServer;
use unbox_sim::idp::{IdpConfig, spawn};

#[tokio::test]
async fn openid_discovery_finds_every_endpoint() {
    let idp = spawn(IdpConfig::default()).await.unwrap();
    let client = AuthClient::discover(app_config(REDIRECT_URI), idp.base_url()).await.unwrap();
    let metadata = client.metadata();
    let base = idp.base_url();
    assert_eq!(metadata.issuer.as_deref(), Some(base));
    assert_eq!(metadata.authorization_endpoint.as_str(), format!("{base}/authorize"));
    assert_eq!(metadata.token_endpoint.as_str(), format!("{base}/token"));
    assert_eq!(
        metadata.revocation_endpoint.as_ref().map(|url| url.to_string()),
        Some(format!("{base}/revoke"))
    );
    assert!(metadata.authorization_response_iss_parameter_supported);
}

#[tokio::test]
async fn falls_back_to_oauth_authorization_server_metadata() {
    let idp =
        spawn(IdpConfig { openid_discovery: false, send_iss: false, ..IdpConfig::default() }).await.unwrap();
    let client = AuthClient::discover(app_config(REDIRECT_URI), idp.base_url()).await.unwrap();
    assert_eq!(client.metadata().token_endpoint.as_str(), format!("{}/token", idp.base_url()));
    assert!(!client.metadata().authorization_response_iss_parameter_supported);
}

#[tokio::test]
async fn metadata_naming_another_issuer_is_refused() {
    let idp = spawn(IdpConfig { issuer: Some("https://idp.example".into()), ..IdpConfig::default() })
        .await
        .unwrap();
    let error = AuthClient::discover(app_config(REDIRECT_URI), idp.base_url()).await.unwrap_err();
    assert_eq!(
        error,
        ProviderDiscoveryError::IssuerMismatch {
            expected: idp.base_url().to_owned(),
            found: "https://idp.example".into()
        }
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn issuer_without_metadata_is_not_found() {
    let idp = spawn(IdpConfig::default()).await.unwrap();
    let issuer = format!("{}/tenant", idp.base_url());
    let error = AuthClient::discover(app_config(REDIRECT_URI), &issuer).await.unwrap_err();
    assert_eq!(error, ProviderDiscoveryError::NotFound { issuer });
}

#[tokio::test]
async fn unreachable_provider_is_a_retryable_network_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = AuthClient::discover(app_config(REDIRECT_URI), &issuer).await.unwrap_err();
    assert!(matches!(error, ProviderDiscoveryError::Network { .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn plain_http_issuer_off_loopback_is_refused_before_any_request() {
    let error = AuthClient::discover(app_config(REDIRECT_URI), "http://idp.example").await.unwrap_err();
    assert!(matches!(error, ProviderDiscoveryError::Config(_)), "{error:?}");
}

/// A provider (or something posing as one) sending an endless discovery document: reading
/// stops at the bound with a typed error, declared size or not.
#[tokio::test]
async fn an_oversized_discovery_document_is_refused_at_the_bound() {
    for declared in [true, false] {
        let server = HostileServer::endless_json("HTTP/1.1 200 OK", declared).await.unwrap();
        let issuer = format!("http://{}", server.address());
        let error = AuthClient::discover(app_config(REDIRECT_URI), &issuer).await.unwrap_err();
        assert!(
            matches!(&error, ProviderDiscoveryError::InvalidDocument { reason, .. } if reason.contains("larger than 262144")),
            "declared {declared}: {error:?}"
        );
    }
}
