//! The OAuth 2.0 client for native apps (RFC 8252): authorization code with PKCE S256, `state`,
//! and a `nonce` when `openid` is requested; code exchange and refresh through the `oauth2` crate
//! over Unbox's HTTP client; revocation (RFC 7009) on sign-out.

use crate::http::{HttpClient, HttpError, PROVIDER_REPLY_LIMIT, ReadError, StatusCode};
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, CsrfToken, EndpointNotSet, EndpointSet, ExtraTokenFields, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse,
    TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::secret::SecretString;

use super::callback::{self, ExpectedCallback};
use super::error::{
    AuthError, ConfigError, IdTokenError, NeedsSignInReason, ProviderDiscoveryError, TokenError,
    provider_text,
};
use super::http_client::{HttpFailure, OAuthHttpClient, provider_client};
use super::id_token::{self, Identity};
use super::provider::{ProviderMetadata, is_loopback};
use super::tokens::TokenSet;
use crate::http::error_chain;
use crate::platform::clock::{Clock, SystemClock};

/// The scope that makes a sign-in an OpenID Connect sign-in (ID token, nonce).
const OPENID_SCOPE: &str = "openid";
/// Random bytes of a PKCE verifier: 43 characters in base64url (RFC 7636 §4.1 asks 43-128).
const PKCE_VERIFIER_BYTES: usize = 32;
/// Random bytes of a `state` and a `nonce`.
const STATE_BYTES: usize = 16;

/// `N` bytes from the operating system's random generator in unpadded base64url. (The `oauth2`
/// crate's own random values would link a second random generator into the library.)
fn random_token<const N: usize>() -> Result<SecretString, AuthError> {
    let bytes = crate::security::random_bytes::<N>().map_err(|error| match error {
        crate::security::SecurityError::Randomness(reason) => AuthError::Randomness(reason),
        other => AuthError::Randomness(other.to_string()),
    })?;
    Ok(SecretString::new(URL_SAFE_NO_PAD.encode(bytes.as_slice())))
}

/// The PKCE S256 `code_challenge` of a verifier: BASE64URL(SHA-256(verifier)), RFC 7636 §4.2
/// (with the SHA-256 the security 1 handshake uses, not a second copy of it).
fn pkce_s256_challenge(verifier: &SecretString) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()))
}

/// How this app is registered with the identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The public client id the provider issued to the app.
    pub client_id: String,
    /// Where the provider sends the browser back: a loopback URL on desktop
    /// (`http://127.0.0.1:{port}/callback`), a claimed https or private-use scheme URL on phones.
    pub redirect_uri: String,
    /// The scopes to request, e.g. `openid`, `profile`, `devices`.
    pub scopes: Vec<String>,
    /// Accept plain-http endpoints on non-loopback hosts (a simulator reached from an emulator).
    pub allow_insecure_http: bool,
}

impl ClientConfig {
    /// A configuration for `client_id` redirecting to `redirect_uri`, requesting no scopes.
    pub fn new(client_id: impl Into<String>, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scopes: Vec::new(),
            allow_insecure_http: false,
        }
    }

    /// Sets the scopes to request.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    fn wants_openid(&self) -> bool {
        self.scopes.iter().any(|scope| scope == OPENID_SCOPE)
    }
}

/// The ID token, the one extra field of the token response Unbox reads. `Debug` hides it.
#[derive(Clone, Default, Serialize, Deserialize)]
struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl std::fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.id_token.is_some() { "IdTokenField([redacted])" } else { "IdTokenField(None)" })
    }
}

impl ExtraTokenFields for IdTokenField {}

type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

type OAuth2Client = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// One sign-in attempt: the URL to open and the secrets needed to finish it. Keep it until the
/// browser comes back; `Debug` shows none of its secrets.
pub struct AuthorizationRequest {
    url: Url,
    state: SecretString,
    pkce_verifier: SecretString,
    nonce: Option<SecretString>,
}

impl AuthorizationRequest {
    /// The authorization URL to open in the browser.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }
}

impl std::fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("endpoint", &self.url.origin().ascii_serialization())
            .field("openid", &self.nonce.is_some())
            .finish_non_exhaustive()
    }
}

/// A finished sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The tokens issued.
    pub tokens: TokenSet,
    /// Who signed in, when the `openid` scope was requested.
    pub identity: Option<Identity>,
}

/// An OAuth client for one identity provider.
pub struct AuthClient {
    config: ClientConfig,
    metadata: ProviderMetadata,
    redirect_uri: Url,
    oauth: OAuth2Client,
    http: OAuthHttpClient,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthClient").field("config", &self.config).field("metadata", &self.metadata).finish()
    }
}

impl AuthClient {
    /// A client for the provider at `issuer`, whose endpoints come from its discovery metadata.
    pub async fn discover(config: ClientConfig, issuer: &str) -> Result<Self, ProviderDiscoveryError> {
        let http = provider_client();
        let metadata = ProviderMetadata::discover(&http, issuer, config.allow_insecure_http).await?;
        Ok(Self::with_http(config, metadata, http)?)
    }

    /// A client for a provider whose endpoints are known.
    pub fn new(config: ClientConfig, metadata: ProviderMetadata) -> Result<Self, ConfigError> {
        Self::with_http(config, metadata, provider_client())
    }

    fn with_http(
        config: ClientConfig,
        metadata: ProviderMetadata,
        http: HttpClient,
    ) -> Result<Self, ConfigError> {
        let redirect_uri = checked_redirect_uri(&config)?;
        let oauth = oauth2::Client::new(oauth2::ClientId::new(config.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(metadata.authorization_endpoint.clone()))
            .set_token_uri(TokenUrl::from_url(metadata.token_endpoint.clone()))
            .set_redirect_uri(RedirectUrl::from_url(redirect_uri.clone()));
        Ok(Self {
            config,
            metadata,
            redirect_uri,
            oauth,
            http: OAuthHttpClient::new(http),
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` for token expiry instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The app's registration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The provider's endpoints.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// The current time on this client's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Starts a sign-in: fresh `state`, PKCE S256 verifier and (for `openid`) nonce, drawn from
    /// the operating system's random generator.
    pub fn begin_authorization(&self) -> Result<AuthorizationRequest, AuthError> {
        let pkce_verifier = random_token::<PKCE_VERIFIER_BYTES>()?;
        let state = random_token::<STATE_BYTES>()?;
        let nonce = if self.config.wants_openid() { Some(random_token::<STATE_BYTES>()?) } else { None };
        let mut request = self
            .oauth
            .authorize_url(|| CsrfToken::new(state.expose().to_owned()))
            .add_extra_param("code_challenge", pkce_s256_challenge(&pkce_verifier))
            .add_extra_param("code_challenge_method", "S256")
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new));
        if let Some(nonce) = &nonce {
            request = request.add_extra_param("nonce", nonce.expose());
        }
        let (url, _) = request.url();
        tracing::debug!(endpoint = %self.metadata.authorization_endpoint, "authorization request prepared");
        Ok(AuthorizationRequest { url, state, pkce_verifier, nonce })
    }

    /// Finishes a sign-in: validates the browser's `callback` URL against `request`, exchanges
    /// the code at the token endpoint, and checks the ID token.
    pub async fn complete_authorization(
        &self,
        request: &AuthorizationRequest,
        callback: &str,
    ) -> Result<SignedIn, AuthError> {
        let code = callback::authorization_code(
            callback,
            &ExpectedCallback {
                redirect_uri: &self.redirect_uri,
                state: request.state.expose(),
                issuer: self.metadata.issuer.as_deref(),
                issuer_required: self.metadata.authorization_response_iss_parameter_supported,
            },
        )?;
        tracing::debug!(endpoint = %self.metadata.token_endpoint, "exchanging authorization code");
        let response = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(request.pkce_verifier.expose().to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let now = self.clock.now();
        let tokens = token_set(response, now, None)?;
        let identity = match &request.nonce {
            Some(nonce) => {
                let id_token = tokens.id_token.as_ref().ok_or(IdTokenError::Missing)?;
                let expected = id_token::Expected {
                    issuer: self.metadata.issuer.as_deref(),
                    client_id: &self.config.client_id,
                    nonce: nonce.expose(),
                    now,
                };
                Some(id_token::validate(id_token.expose(), &expected)?)
            }
            None => None,
        };
        tracing::info!(expires_at = ?tokens.expires_at, refreshable = tokens.refresh_token.is_some(), "signed in");
        Ok(SignedIn { tokens, identity })
    }

    /// Renews `current` with its refresh token. A rotated refresh token replaces the old one;
    /// without a new one the old one is kept.
    pub async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, AuthError> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(AuthError::NeedsSignIn { reason: NeedsSignInReason::Expired });
        };
        tracing::debug!(endpoint = %self.metadata.token_endpoint, "refreshing access token");
        let refresh_token = RefreshToken::new(refresh_token.expose().to_owned());
        let response = self
            .oauth
            .exchange_refresh_token(&refresh_token)
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let tokens = token_set(response, self.clock.now(), Some(current))?;
        tracing::debug!(expires_at = ?tokens.expires_at, "access token refreshed");
        Ok(tokens)
    }

    /// Revokes the refresh token and the access token of `tokens` at the provider's revocation
    /// endpoint (RFC 7009). Returns `false` when the provider has no such endpoint.
    ///
    /// Sent directly rather than through `oauth2`, which refuses plain-http revocation
    /// endpoints and so could not reach a loopback simulator.
    pub async fn revoke(&self, tokens: &TokenSet) -> Result<bool, TokenError> {
        let Some(endpoint) = &self.metadata.revocation_endpoint else {
            return Ok(false);
        };
        if let Some(refresh_token) = &tokens.refresh_token {
            self.revoke_one(endpoint, refresh_token, "refresh_token").await?;
        }
        self.revoke_one(endpoint, &tokens.access_token, "access_token").await?;
        tracing::debug!("tokens revoked");
        Ok(true)
    }

    async fn revoke_one(&self, endpoint: &Url, token: &SecretString, hint: &str) -> Result<(), TokenError> {
        let form = [
            ("token", token.expose()),
            ("token_type_hint", hint),
            ("client_id", self.config.client_id.as_str()),
        ];
        let network = |error: HttpError| TokenError::Network { reason: error_chain(&error) };
        let response = self.http.client().post(endpoint.clone()).form(&form).send().await.map_err(network)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(TokenError::ServerUnavailable { status: status.as_u16() });
        }
        let body = response.bytes_capped(PROVIDER_REPLY_LIMIT).await.map_err(|error| match error {
            ReadError::Network(error) => network(error),
            too_large => TokenError::InvalidResponse { reason: too_large.to_string() },
        })?;
        match serde_json::from_slice::<BasicRevocationErrorResponse>(&body) {
            Ok(error) => Err(server_error(error.error().as_ref(), error.error_description())),
            Err(_) => {
                Err(TokenError::InvalidResponse { reason: format!("revocation answered HTTP {status}") })
            }
        }
    }
}

/// Checks the redirect URI: plain http only to loopback (RFC 8252 §7.3) unless insecure http is
/// allowed; no fragment (RFC 6749 §3.1.2).
fn checked_redirect_uri(config: &ClientConfig) -> Result<Url, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidUrl {
        what: "redirect URI",
        url: config.redirect_uri.clone(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(&config.redirect_uri).map_err(|error| invalid(&error.to_string()))?;
    if url.fragment().is_some() {
        return Err(invalid("a redirect URI has no fragment"));
    }
    if url.scheme() == "http" && !is_loopback(&url) && !config.allow_insecure_http {
        return Err(ConfigError::InsecureUrl { what: "redirect URI", url: config.redirect_uri.clone() });
    }
    // RFC 8252 §8.3: a loopback redirect names the interface by its IP literal; `localhost` may
    // resolve to another address, or be answered by another program listening there.
    if url.scheme() == "http" && matches!(url.host(), Some(url::Host::Domain(_))) && is_loopback(&url) {
        return Err(invalid(
            "write the loopback redirect with 127.0.0.1 or [::1], not localhost (RFC 8252 §8.3)",
        ));
    }
    Ok(url)
}

/// Turns a token response into a [`TokenSet`]; `previous` supplies the refresh token and ID
/// token a refresh response may omit.
fn token_set(
    response: TokenResponse,
    now: SystemTime,
    previous: Option<&TokenSet>,
) -> Result<TokenSet, TokenError> {
    if *response.token_type() != BasicTokenType::Bearer {
        return Err(TokenError::InvalidResponse {
            reason: format!(
                "token type `{}` is not supported",
                provider_text(response.token_type().as_ref())
            ),
        });
    }
    if response.access_token().secret().is_empty() {
        return Err(TokenError::InvalidResponse { reason: "empty access token".into() });
    }
    let keep =
        |field: fn(&TokenSet) -> &Option<SecretString>| previous.and_then(|tokens| field(tokens).clone());
    let scopes = match response.scopes() {
        Some(scopes) => scopes.iter().map(|scope| scope.to_string()).collect(),
        None => previous.map(|tokens| tokens.scopes.clone()).unwrap_or_default(),
    };
    Ok(TokenSet {
        access_token: SecretString::new(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|token| SecretString::new(token.secret().clone()))
            .or_else(|| keep(|tokens| &tokens.refresh_token)),
        // An absurd lifetime that overflows the clock counts as "no known expiry".
        expires_at: response.expires_in().and_then(|lifetime| now.checked_add(lifetime)),
        // A refresh keeps the ID token checked at sign-in and drops any new one, which nothing
        // here validates (issuer, audience, nonce): the identity stays the one from sign-in.
        id_token: match previous {
            Some(previous) => previous.id_token.clone(),
            None => response.extra_fields().id_token.clone().map(SecretString::new),
        },
        scopes,
    })
}

/// Maps an OAuth error response.
fn server_error(error: &str, description: Option<&String>) -> TokenError {
    let description = description.map(|text| provider_text(text));
    match error {
        "invalid_grant" => TokenError::InvalidGrant { description },
        "invalid_client" => TokenError::InvalidClient { description },
        other => TokenError::Rejected { error: provider_text(other), description },
    }
}

/// Maps an `oauth2` failure to a [`TokenError`] without ever copying the response body (which
/// may hold tokens) into the error.
fn token_error(error: RequestTokenError<HttpFailure, BasicErrorResponse>) -> TokenError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            server_error(response.error().as_ref(), response.error_description())
        }
        RequestTokenError::Request(HttpFailure::ServerStatus(status)) => {
            TokenError::ServerUnavailable { status }
        }
        RequestTokenError::Request(HttpFailure::Network(reason)) => TokenError::Network { reason },
        RequestTokenError::Request(HttpFailure::InvalidRequest(reason)) => {
            TokenError::InvalidResponse { reason }
        }
        RequestTokenError::Parse(error, _body) => {
            TokenError::InvalidResponse { reason: format!("unexpected content at `{}`", error.path()) }
        }
        RequestTokenError::Other(reason) => TokenError::InvalidResponse { reason: provider_text(&reason) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(scopes: &[&str]) -> AuthClient {
        let metadata =
            ProviderMetadata::new("https://idp.example/authorize", "https://idp.example/token", false)
                .unwrap()
                .with_issuer("https://idp.example", true);
        let config = ClientConfig::new("unbox-app", "http://127.0.0.1:4567/callback")
            .with_scopes(scopes.iter().copied());
        AuthClient::new(config, metadata).unwrap()
    }

    #[test]
    fn authorization_url_carries_pkce_state_and_nonce() {
        let client = client(&["openid", "devices"]);
        let request = client.begin_authorization().unwrap();
        let url = Url::parse(request.url()).unwrap();
        let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["client_id"], "unbox-app");
        assert_eq!(params["redirect_uri"], "http://127.0.0.1:4567/callback");
        assert_eq!(params["scope"], "openid devices");
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(params["state"], request.state.expose());
        assert_eq!(params["nonce"], request.nonce.as_ref().unwrap().expose());
        let verifier = PkceCodeVerifier::new(request.pkce_verifier.expose().to_owned());
        assert_eq!(
            params["code_challenge"],
            oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier).as_str()
        );
        assert_eq!(request.pkce_verifier.expose().len(), 43);
        let second = client.begin_authorization().unwrap();
        assert_ne!(second.state.expose(), request.state.expose());
        assert_ne!(second.pkce_verifier.expose(), request.pkce_verifier.expose());
    }

    #[test]
    fn no_nonce_without_openid() {
        let request = client(&["devices"]).begin_authorization().unwrap();
        assert!(request.nonce.is_none());
        assert!(!request.url().contains("nonce="));
        assert!(!format!("{request:?}").contains(request.state.expose()));
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = SecretString::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(pkce_s256_challenge(&verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn redirect_uris_must_be_loopback_or_app_owned() {
        let metadata = ProviderMetadata::new("https://idp/authorize", "https://idp/token", false).unwrap();
        for accepted in ["http://127.0.0.1:9/cb", "com.example.unbox:/oauth", "https://app.example/cb"] {
            assert!(
                AuthClient::new(ClientConfig::new("c", accepted), metadata.clone()).is_ok(),
                "{accepted}"
            );
        }
        assert!(matches!(
            AuthClient::new(ClientConfig::new("c", "http://192.168.1.2/cb"), metadata.clone()),
            Err(ConfigError::InsecureUrl { .. })
        ));
        assert!(matches!(
            AuthClient::new(ClientConfig::new("c", "https://app.example/cb#x"), metadata.clone()),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(AuthClient::new(ClientConfig::new("c", "http://[::1]:9/cb"), metadata.clone()).is_ok());
        let localhost =
            AuthClient::new(ClientConfig::new("c", "http://localhost:9/cb"), metadata).unwrap_err();
        assert!(matches!(localhost, ConfigError::InvalidUrl { .. }), "{localhost:?}");
        assert!(localhost.to_string().contains("127.0.0.1"), "{localhost}");
    }

    #[test]
    fn a_refresh_keeps_the_id_token_checked_at_sign_in() {
        let response = |id_token: Option<&str>| {
            TokenResponse::new(
                oauth2::AccessToken::new("at".into()),
                BasicTokenType::Bearer,
                IdTokenField { id_token: id_token.map(str::to_owned) },
            )
        };
        let now = SystemTime::now();
        let signed_in = token_set(response(Some("checked-at-sign-in")), now, None).unwrap();
        assert_eq!(signed_in.id_token.as_ref().map(SecretString::expose), Some("checked-at-sign-in"));
        // A refresh answer with another (unchecked) ID token does not replace it.
        let refreshed = token_set(response(Some("someone-else")), now, Some(&signed_in)).unwrap();
        assert_eq!(refreshed.id_token.as_ref().map(SecretString::expose), Some("checked-at-sign-in"));
        let without = token_set(response(None), now, Some(&signed_in)).unwrap();
        assert_eq!(without.id_token, signed_in.id_token);
    }

    #[test]
    fn token_response_with_an_absurd_lifetime_has_no_expiry() {
        let mut response = TokenResponse::new(
            oauth2::AccessToken::new("at".into()),
            BasicTokenType::Bearer,
            IdTokenField::default(),
        );
        response.set_expires_in(Some(&std::time::Duration::from_secs(u64::MAX)));
        let tokens = token_set(response, SystemTime::now(), None).unwrap();
        assert_eq!(tokens.expires_at, None);
        assert_eq!(tokens.access_token.expose(), "at");
    }

    #[test]
    fn token_errors_are_classified() {
        let response = |error: &str| {
            RequestTokenError::ServerResponse(BasicErrorResponse::new(
                oauth2::basic::BasicErrorResponseType::Extension(error.to_owned()),
                Some("why".into()),
                None,
            ))
        };
        assert_eq!(
            token_error(response("invalid_grant")),
            TokenError::InvalidGrant { description: Some("why".into()) }
        );
        assert_eq!(
            token_error(response("invalid_client")),
            TokenError::InvalidClient { description: Some("why".into()) }
        );
        assert_eq!(
            token_error(response("invalid_scope")),
            TokenError::Rejected { error: "invalid_scope".into(), description: Some("why".into()) }
        );
        let status: RequestTokenError<HttpFailure, BasicErrorResponse> =
            RequestTokenError::Request(HttpFailure::ServerStatus(503));
        assert!(token_error(status).is_retryable());
    }
}
