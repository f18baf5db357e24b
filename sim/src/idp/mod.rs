//! A simulated OAuth 2.0 / OpenID Connect identity provider on a real HTTP listener: discovery
//! metadata, an authorization endpoint with auto-consent or a consent page, a token endpoint
//! (authorization code with mandatory PKCE S256, refresh with rotation) and revocation.
//! Other simulated services check access tokens in-process with
//! [`IdentityProvider::introspect`]; the binding backend takes the provider as its
//! [`TokenValidator`].
//!
//! Mount [`IdentityProvider::router`] at the root of a server whose base URL the provider was
//! created with, or start one alone with [`spawn`].

mod grants;
mod id_token;
mod pages;
mod routes;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use rand::RngCore as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use unbox_core::platform::clock::{Clock, SystemClock};
use unbox_core::secret::SecretString;

use self::grants::Grants;
use crate::backend::{Principal, TokenRejection, TokenValidator};

/// The client id registered in the default configuration.
pub const DEFAULT_CLIENT_ID: &str = "unbox-app";

/// The redirect URI for phone apps registered in the default configuration.
pub const DEFAULT_APP_REDIRECT_URI: &str = "com.example.unbox:/oauth2redirect";

/// The confidential client of a voice-assistant skill (account linking) in the default
/// configuration: code grant with refresh tokens, its own secret, an https redirect URI.
pub const SKILL_CLIENT_ID: &str = "unbox-voice-skill";
/// The skill client's secret in the default configuration (a simulator's test value).
pub const SKILL_CLIENT_SECRET: &str = "sim-skill-secret-4f1c9a0e7b2d";
/// The skill client's redirect URI: the assistant's account-linking callback, shaped like
/// Alexa's `https://<region host>/api/skill/link/<vendor id>`.
pub const SKILL_REDIRECT_URI: &str = "https://assistant.example/api/skill/link/M1SIMVENDOR";
/// The scope the skill asks for: reading the customer's device list.
pub const SKILL_SCOPE: &str = crate::backend::DEVICES_READ_SCOPE;

/// The person who signs in at the simulated provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestUser {
    /// Stable subject identifier (`sub`).
    pub subject: String,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
}

impl Default for TestUser {
    fn default() -> Self {
        Self { subject: "user-alice".into(), email: "alice@example.com".into(), name: "Alice Example".into() }
    }
}

impl TestUser {
    /// The second test customer of the default configuration.
    pub fn bob() -> Self {
        Self { subject: "user-bob".into(), email: "bob@example.com".into(), name: "Bob Example".into() }
    }
}

/// A registered redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectRule {
    /// Only this exact URI (claimed https or private-use scheme redirects).
    Exact(String),
    /// `http://127.0.0.1:{any port}{path}` or `http://[::1]:{any port}{path}` (RFC 8252 §7.3).
    Loopback {
        /// The path, e.g. `/callback`.
        path: String,
    },
}

impl RedirectRule {
    /// Whether `uri` is allowed by this rule.
    pub fn matches(&self, uri: &str) -> bool {
        match self {
            Self::Exact(registered) => registered == uri,
            Self::Loopback { path } => url::Url::parse(uri).is_ok_and(|url| {
                let loopback_ip = match url.host() {
                    Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
                    Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
                    _ => false,
                };
                url.scheme() == "http"
                    && loopback_ip
                    && url.path() == path
                    && url.query().is_none()
                    && url.fragment().is_none()
            }),
        }
    }
}

/// An app registered with the provider. PKCE is required of every client; a confidential
/// client (a server, e.g. a voice-assistant skill) also authenticates with its secret at the
/// token endpoint (HTTP Basic or form fields, RFC 6749 §2.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredClient {
    /// The client id.
    pub client_id: String,
    /// Where it may be redirected.
    pub redirect_uris: Vec<RedirectRule>,
    /// The secret of a confidential client; `None` for a public client (a phone app).
    pub client_secret: Option<SecretString>,
}

/// How the simulated provider behaves.
#[derive(Clone)]
pub struct IdpConfig {
    /// The registered apps.
    pub clients: Vec<RegisteredClient>,
    /// Who signs in.
    pub user: TestUser,
    /// Further people who sign in when the authorization request's `login_hint` names their
    /// e-mail address or subject (like a test provider's "sign in as" form).
    pub other_users: Vec<TestUser>,
    /// Approve every valid request at once (`true`), or show a consent page with approve and
    /// deny buttons (`false`).
    pub auto_consent: bool,
    /// Lifetime of access tokens (and ID tokens).
    pub access_token_lifetime: Duration,
    /// Lifetime of authorization codes.
    pub code_lifetime: Duration,
    /// The provider's notion of now; share a manual clock with clients to test expiry.
    pub clock: Arc<dyn Clock>,
    /// The issuer identifier to announce; the base URL when `None`. Another value makes the
    /// metadata disagree with the URL it is served from (a mix-up scenario).
    pub issuer: Option<String>,
    /// Serve `/.well-known/openid-configuration`; when `false` only the RFC 8414
    /// `/.well-known/oauth-authorization-server` document is served.
    pub openid_discovery: bool,
    /// Add `iss` to authorization responses (RFC 9207) and announce it in the metadata.
    pub send_iss: bool,
}

impl Default for IdpConfig {
    /// Client [`DEFAULT_CLIENT_ID`] with a loopback `/callback` redirect and
    /// [`DEFAULT_APP_REDIRECT_URI`]; auto-consent; one-hour access tokens; one-minute codes.
    fn default() -> Self {
        Self {
            clients: vec![
                RegisteredClient {
                    client_id: DEFAULT_CLIENT_ID.into(),
                    redirect_uris: vec![
                        RedirectRule::Loopback { path: "/callback".into() },
                        RedirectRule::Exact(DEFAULT_APP_REDIRECT_URI.into()),
                    ],
                    client_secret: None,
                },
                RegisteredClient {
                    client_id: SKILL_CLIENT_ID.into(),
                    redirect_uris: vec![RedirectRule::Exact(SKILL_REDIRECT_URI.into())],
                    client_secret: Some(SecretString::new(SKILL_CLIENT_SECRET)),
                },
            ],
            user: TestUser::default(),
            other_users: vec![TestUser::bob()],
            auto_consent: true,
            access_token_lifetime: Duration::from_secs(3600),
            code_lifetime: Duration::from_secs(60),
            clock: Arc::new(SystemClock),
            issuer: None,
            openid_discovery: true,
            send_iss: true,
        }
    }
}

impl std::fmt::Debug for IdpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpConfig")
            .field("clients", &self.clients)
            .field("user", &self.user)
            .field("other_users", &self.other_users)
            .field("auto_consent", &self.auto_consent)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("code_lifetime", &self.code_lifetime)
            .field("issuer", &self.issuer)
            .field("openid_discovery", &self.openid_discovery)
            .field("send_iss", &self.send_iss)
            .finish_non_exhaustive()
    }
}

/// Who an access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// The person's subject identifier.
    pub subject: String,
    /// Their e-mail address.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// The app the token was issued to.
    pub client_id: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The API the token is meant for (the request's RFC 8707 `resource`, else
    /// [`crate::backend::BINDING_API_AUDIENCE`]).
    pub audience: String,
    /// When the token expires.
    pub expires_at: SystemTime,
}

/// A validated authorization request waiting for the person's decision.
struct PendingConsent {
    request: grants::ApprovedRequest,
    state: Option<String>,
}

/// The simulated identity provider; share it through an `Arc`.
pub struct IdentityProvider {
    base_url: String,
    issuer: String,
    config: IdpConfig,
    grants: Mutex<Grants>,
    consents: Mutex<HashMap<String, PendingConsent>>,
    signing_key: [u8; 32],
    token_endpoint_down: AtomicBool,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("base_url", &self.base_url)
            .field("issuer", &self.issuer)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl IdentityProvider {
    /// A provider reachable at `base_url` (e.g. `http://127.0.0.1:8080`, no trailing slash);
    /// its endpoints are `{base_url}/authorize`, `/token` and `/revoke`.
    pub fn new(base_url: impl Into<String>, config: IdpConfig) -> Arc<Self> {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        let issuer = config.issuer.clone().unwrap_or_else(|| base_url.clone());
        let mut signing_key = [0u8; 32];
        rand::rng().fill_bytes(&mut signing_key);
        Arc::new(Self {
            grants: Mutex::new(Grants::new(config.code_lifetime, config.access_token_lifetime)),
            consents: Mutex::new(HashMap::new()),
            base_url,
            issuer,
            config,
            signing_key,
            token_endpoint_down: AtomicBool::new(false),
        })
    }

    /// The HTTP routes of the provider, to serve alone or merged with other services.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        routes::router(Arc::clone(self))
    }

    /// The issuer identifier the provider announces.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The URL the provider is reached at.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Who `access_token` speaks for, if it is a valid, unexpired, unrevoked access token.
    pub fn introspect(&self, access_token: &str) -> Option<UserInfo> {
        self.check(access_token).ok()
    }

    /// Like [`Self::introspect`], saying why a token is refused.
    fn check(&self, access_token: &str) -> Result<UserInfo, TokenRejection> {
        let now = self.config.clock.now();
        let grants = self.grants();
        let (grant, expires_at) = grants.introspect(access_token, now)?;
        Ok(UserInfo {
            subject: grant.user.subject.clone(),
            email: grant.user.email.clone(),
            name: grant.user.name.clone(),
            client_id: grant.client_id.clone(),
            scopes: grant.scopes.clone(),
            audience: grant.audience.clone(),
            expires_at,
        })
    }

    /// Simulates an outage of the token endpoint: while `down`, it answers HTTP 503.
    pub fn set_token_endpoint_down(&self, down: bool) {
        self.token_endpoint_down.store(down, Ordering::SeqCst);
    }

    fn grants(&self) -> MutexGuard<'_, Grants> {
        self.grants.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn consents(&self) -> MutexGuard<'_, HashMap<String, PendingConsent>> {
        self.consents.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn client(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.config.clients.iter().find(|client| client.client_id == client_id)
    }

    /// The person a `login_hint` (e-mail address or subject) names; the default user without one.
    fn user_for(&self, login_hint: Option<&str>) -> Option<TestUser> {
        let Some(hint) = login_hint else {
            return Some(self.config.user.clone());
        };
        std::iter::once(&self.config.user)
            .chain(&self.config.other_users)
            .find(|user| user.email == hint || user.subject == hint)
            .cloned()
    }
}

/// The binding backend accepts exactly the access tokens this provider issued and still honours.
#[async_trait]
impl TokenValidator for IdentityProvider {
    async fn validate(&self, access_token: &SecretString) -> Result<String, TokenRejection> {
        self.check(access_token.expose()).map(|user| user.subject)
    }

    async fn principal(&self, access_token: &SecretString) -> Result<Principal, TokenRejection> {
        self.check(access_token.expose()).map(|user| Principal {
            subject: user.subject,
            client_id: Some(user.client_id),
            scopes: user.scopes,
            audience: Some(user.audience),
        })
    }
}

/// A provider serving on its own listener; stops when dropped.
pub struct RunningIdp {
    provider: Arc<IdentityProvider>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningIdp").field("provider", &self.provider).finish_non_exhaustive()
    }
}

/// Starts a provider on `127.0.0.1` with a system-chosen port; its issuer is its base URL.
pub async fn spawn(config: IdpConfig) -> std::io::Result<RunningIdp> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    Ok(RunningIdp::serve(listener, base_url, config))
}

impl RunningIdp {
    /// Serves a provider reachable at `base_url` on `listener` (for example `0.0.0.0:8443`
    /// reached by an emulator as `http://10.0.2.2:8443`).
    pub fn serve(listener: TcpListener, base_url: impl Into<String>, config: IdpConfig) -> Self {
        let provider = IdentityProvider::new(base_url, config);
        let router = provider.router();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "identity provider stopped");
            }
        });
        tracing::info!(issuer = provider.issuer(), "identity provider listening");
        Self { provider, task }
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        self.provider.base_url()
    }

    /// The provider, for introspection and fault injection.
    pub fn provider(&self) -> &Arc<IdentityProvider> {
        &self.provider
    }

    /// Stops serving.
    pub fn shutdown(&self) {
        self.task.abort();
    }
}

impl Drop for RunningIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::future::IntoFuture as _;

    use super::*;

    #[tokio::test]
    async fn mounts_next_to_the_backend_on_one_port() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let provider = IdentityProvider::new(base_url.clone(), IdpConfig::default());
        let backend =
            crate::backend::BindingBackend::new(provider.clone(), crate::backend::BackendConfig::default());
        let server =
            tokio::spawn(axum::serve(listener, provider.router().merge(backend.router())).into_future());
        let http = crate::browser::web_client().unwrap();
        let metadata: serde_json::Value = http
            .get(format!("{base_url}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(metadata["issuer"], base_url);
        let anonymous = http.post(format!("{base_url}/v1/claims")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        server.abort();
    }

    #[tokio::test]
    async fn validates_tokens_for_the_binding_backend() {
        let clock = Arc::new(unbox_core::platform::clock::ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 30),
        ));
        let provider = IdentityProvider::new(
            "http://127.0.0.1:1",
            IdpConfig { clock: clock.clone(), ..IdpConfig::default() },
        );
        let request = grants::ApprovedRequest {
            client_id: DEFAULT_CLIENT_ID.into(),
            redirect_uri: "http://127.0.0.1:2/callback".into(),
            scopes: vec![],
            code_challenge: grants::s256(&"v".repeat(43)),
            nonce: None,
            resource: None,
            user: TestUser::default(),
        };
        let code = provider.grants().issue_code(request, clock.now());
        let issued = provider
            .grants()
            .redeem_code(
                &code,
                DEFAULT_CLIENT_ID,
                Some("http://127.0.0.1:2/callback"),
                Some(&"v".repeat(43)),
                clock.now(),
            )
            .unwrap();
        let validator: Arc<dyn TokenValidator> = provider.clone();
        let token = SecretString::new(issued.access_token);
        assert_eq!(validator.validate(&token).await, Ok("user-alice".to_owned()));
        assert_eq!(
            validator.validate(&SecretString::new("sim_at_forged")).await,
            Err(TokenRejection::Invalid)
        );
        clock.advance(Duration::from_secs(3600));
        assert_eq!(validator.validate(&token).await, Err(TokenRejection::Expired));
    }

    #[test]
    fn loopback_rule_allows_any_port_only_on_loopback_ips() {
        let rule = RedirectRule::Loopback { path: "/callback".into() };
        assert!(rule.matches("http://127.0.0.1:51234/callback"));
        assert!(rule.matches("http://[::1]:80/callback"));
        assert!(rule.matches("http://127.0.0.1/callback"));
        assert!(!rule.matches("http://localhost:51234/callback"));
        assert!(!rule.matches("https://127.0.0.1:51234/callback"));
        assert!(!rule.matches("http://127.0.0.1:51234/other"));
        assert!(!rule.matches("http://127.0.0.1:51234/callback?x=1"));
        assert!(!rule.matches("http://192.168.1.2:51234/callback"));
        let exact = RedirectRule::Exact(DEFAULT_APP_REDIRECT_URI.into());
        assert!(exact.matches(DEFAULT_APP_REDIRECT_URI));
        assert!(!exact.matches("com.example.unbox:/oauth2redirect/x"));
    }
}
