//! The server side of a voice-assistant skill with account linking, as the assistant's cloud
//! does it: configured like an Alexa `accountLinkingRequest` (authorization URL, access token
//! URL, client id and secret sent with HTTP Basic, scopes), it links a customer's account with
//! the authorization code grant (PKCE S256, `state`) through a browser, keeps its own access and
//! refresh tokens, refreshes them when the backend refuses the access token, and calls the
//! binding backend with them like any client ([`AccessTokenSource`]).

use std::sync::Mutex;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use unbox_core::binding::{AccessTokenError, AccessTokenSource};
use unbox_core::secret::SecretString;

use crate::browser::AutoConsentBrowser;
use crate::idp::{SKILL_CLIENT_ID, SKILL_CLIENT_SECRET, SKILL_REDIRECT_URI, SKILL_SCOPE};

/// How the skill is registered for account linking.
#[derive(Debug, Clone)]
pub struct SkillConfig {
    /// The identity provider's authorization endpoint.
    pub authorization_url: String,
    /// Its token endpoint.
    pub token_url: String,
    /// The skill's client id at the provider.
    pub client_id: String,
    /// The skill's client secret (sent with HTTP Basic).
    pub client_secret: SecretString,
    /// The assistant's account-linking callback.
    pub redirect_uri: String,
    /// Scopes asked for.
    pub scopes: Vec<String>,
}

impl SkillConfig {
    /// The skill registered at the simulated provider reached at `idp_base_url`.
    pub fn simulated(idp_base_url: &str) -> Self {
        let base = idp_base_url.trim_end_matches('/');
        Self {
            authorization_url: format!("{base}/authorize"),
            token_url: format!("{base}/token"),
            client_id: SKILL_CLIENT_ID.into(),
            client_secret: SecretString::new(SKILL_CLIENT_SECRET),
            redirect_uri: SKILL_REDIRECT_URI.into(),
            scopes: vec![SKILL_SCOPE.into()],
        }
    }
}

/// Why linking or refreshing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("account linking failed: {0}")]
pub struct LinkError(pub String);

#[derive(Clone)]
struct Tokens {
    access: SecretString,
    refresh: SecretString,
}

/// A skill whose account linking for one customer is done (or about to be).
pub struct SimSkill {
    config: SkillConfig,
    http: reqwest::Client,
    tokens: Mutex<Option<Tokens>>,
}

impl std::fmt::Debug for SimSkill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimSkill").field("client_id", &self.config.client_id).finish_non_exhaustive()
    }
}

fn random_text() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SimSkill {
    /// A skill not linked yet.
    pub fn new(config: SkillConfig) -> Result<Self, LinkError> {
        let http = crate::browser::web_client().map_err(|e| LinkError(format!("no HTTP client: {e}")))?;
        Ok(Self { config, http, tokens: Mutex::new(None) })
    }

    fn tokens(&self) -> std::sync::MutexGuard<'_, Option<Tokens>> {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Links the account of whoever signs in in `browser`: the code grant with PKCE and
    /// `state`, then the code exchange authenticated with the client secret.
    pub async fn link(&self, browser: &AutoConsentBrowser) -> Result<(), LinkError> {
        let state = random_text();
        let verifier = random_text();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut url =
            url::Url::parse(&self.config.authorization_url).map_err(|e| LinkError(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", &self.config.scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let location = browser.follow(url.as_str()).await.map_err(|e| LinkError(e.to_string()))?;
        let callback = url::Url::parse(&location).map_err(|e| LinkError(e.to_string()))?;
        if !location.starts_with(&self.config.redirect_uri) {
            return Err(LinkError("the provider redirected somewhere else".into()));
        }
        let query = |name: &str| callback.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned());
        if query("state").as_deref() != Some(state.as_str()) {
            return Err(LinkError("the callback's state does not match".into()));
        }
        let Some(code) = query("code") else {
            return Err(LinkError(format!("the provider refused: {}", query("error").unwrap_or_default())));
        };
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &self.config.redirect_uri),
            ("code_verifier", &verifier),
        ])
        .await
    }

    /// Exchanges the refresh token for new tokens (the provider rotates it).
    pub async fn refresh(&self) -> Result<(), LinkError> {
        let refresh = self.tokens().as_ref().map(|t| t.refresh.clone());
        let refresh = refresh.ok_or_else(|| LinkError("not linked".into()))?;
        self.token_request(&[("grant_type", "refresh_token"), ("refresh_token", refresh.expose())]).await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<(), LinkError> {
        let response = self
            .http
            .post(&self.config.token_url)
            .basic_auth(
                form_encode(&self.config.client_id),
                Some(form_encode(self.config.client_secret.expose())),
            )
            .form(form)
            .send()
            .await
            .map_err(|e| LinkError(e.to_string()))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.map_err(|e| LinkError(e.to_string()))?;
        let text = |name: &str| body[name].as_str().map(SecretString::new);
        match (status.is_success(), text("access_token"), text("refresh_token")) {
            (true, Some(access), Some(refresh)) => {
                *self.tokens() = Some(Tokens { access, refresh });
                Ok(())
            }
            _ => Err(LinkError(format!("token endpoint answered {status}: {}", body["error"]))),
        }
    }
}

/// RFC 6749 §2.3.1: client id and secret are form-encoded before HTTP Basic.
fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[async_trait]
impl AccessTokenSource for SimSkill {
    async fn access_token(&self) -> Result<SecretString, AccessTokenError> {
        self.tokens()
            .as_ref()
            .map(|t| t.access.clone())
            .ok_or_else(|| AccessTokenError::LoginRequired("the skill is not linked".into()))
    }

    async fn refresh_access_token(&self, _rejected: &SecretString) -> Result<SecretString, AccessTokenError> {
        self.refresh().await.map_err(|e| AccessTokenError::LoginRequired(e.to_string()))?;
        self.access_token().await
    }
}
