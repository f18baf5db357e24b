//! Shared set-up for the sign-in tests: a simulated identity provider on loopback and a scripted
//! authorization agent that does what a browser would (one GET, no redirect following).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use unbox_core::auth::{AuthClient, ClientConfig, Session};
use unbox_core::platform::authorization::{AgentError, AuthorizationAgent};
use unbox_core::platform::clock::ManualClock;
use unbox_core::platform::secret_store::{MemorySecretStore, SecretStore};
use unbox_sim::idp::{DEFAULT_CLIENT_ID, IdpConfig, RunningIdp};

/// A redirect URI on a loopback port nobody listens on: the scripted agent never follows it.
pub const REDIRECT_URI: &str = "http://127.0.0.1:49152/callback";

/// What the scripted person and browser do with the authorization page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Follow the page: auto-consent, or press "Approve" on the consent page.
    Approve,
    /// Press "Deny" on the consent page.
    Deny,
    /// Close the browser.
    Cancel,
    /// Return a redirect whose `state` was swapped for another.
    SwapState,
    /// Return a redirect whose `iss` names another provider.
    SwapIssuer,
    /// Replace the PKCE challenge in the authorization URL (code injection attempt).
    SwapChallenge,
}

/// A browser stand-in driven by a [`Script`]; remembers the last redirect it returned.
pub struct ScriptedAgent {
    script: Script,
    http: reqwest::Client,
    last_callback: Mutex<Option<String>>,
}

impl ScriptedAgent {
    pub fn new(script: Script) -> Arc<Self> {
        let http = unbox_sim::browser::web_client().unwrap();
        Arc::new(Self { script, http, last_callback: Mutex::new(None) })
    }

    pub fn last_callback(&self) -> Option<String> {
        self.last_callback.lock().unwrap().clone()
    }
}

/// `url` with the query parameter `name` set to `value`.
pub fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(key, old)| if key == name { (key, value.to_owned()) } else { (key, old) })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.into()
}

#[async_trait]
impl AuthorizationAgent for ScriptedAgent {
    async fn authorize(&self, url: String, redirect_uri: String) -> Result<String, AgentError> {
        let failed = |reason: String| AgentError::Failed { reason };
        let url = match self.script {
            Script::Cancel => return Err(AgentError::Cancelled),
            // BASE64URL(SHA256("a" * 43)): a challenge for a verifier the app never had.
            Script::SwapChallenge => {
                with_param(&url, "code_challenge", "ZtNPunH49FD35FWYhT5Tv8I7vRKQJ8uxMaL0_9eHjNA")
            }
            _ => url,
        };
        let mut response = self.http.get(&url).send().await.map_err(|error| failed(error.to_string()))?;
        if response.status() == 200 {
            let page = response.text().await.map_err(|error| failed(error.to_string()))?;
            let marker = "name=\"request_id\" value=\"";
            let start = page.find(marker).ok_or_else(|| failed("no consent form".into()))? + marker.len();
            let end = page[start..].find('"').ok_or_else(|| failed("bad consent form".into()))? + start;
            let decision = if self.script == Script::Deny { "deny" } else { "approve" };
            let action = url::Url::parse(&url).unwrap().join("authorize/decision").unwrap();
            response = self
                .http
                .post(action)
                .form(&[("request_id", &page[start..end]), ("decision", decision)])
                .send()
                .await
                .map_err(|error| failed(error.to_string()))?;
        }
        if response.status() != 302 {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Err(failed(format!("HTTP {status}: {body}")));
        }
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&redirect_uri), "{location} is not a redirect to {redirect_uri}");
        let callback = match self.script {
            Script::SwapState => with_param(&location, "state", "forged-state"),
            Script::SwapIssuer => with_param(&location, "iss", "https://evil.example"),
            _ => location,
        };
        *self.last_callback.lock().unwrap() = Some(callback.clone());
        Ok(callback)
    }
}

/// The moment every manual clock in these tests starts at.
pub fn start_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

/// A provider sharing `clock`, with the given access-token lifetime.
pub async fn idp_with_clock(clock: Arc<ManualClock>, access_token_lifetime: Duration) -> RunningIdp {
    unbox_sim::idp::spawn(IdpConfig { clock, access_token_lifetime, ..IdpConfig::default() }).await.unwrap()
}

/// The default app registration with OpenID Connect scopes.
pub fn app_config(redirect_uri: &str) -> ClientConfig {
    ClientConfig::new(DEFAULT_CLIENT_ID, redirect_uri).with_scopes(["openid", "profile", "email"])
}

/// A session against `idp` with an in-memory store, the scripted agent and `clock`.
pub struct Harness {
    pub session: Arc<Session>,
    pub store: Arc<MemorySecretStore>,
    pub agent: Arc<ScriptedAgent>,
    pub clock: Arc<ManualClock>,
}

pub async fn harness(idp: &RunningIdp, clock: Arc<ManualClock>, script: Script) -> Harness {
    let client = AuthClient::discover(app_config(REDIRECT_URI), idp.base_url())
        .await
        .unwrap()
        .with_clock(clock.clone());
    let store = Arc::new(MemorySecretStore::new());
    let agent = ScriptedAgent::new(script);
    let session = Arc::new(Session::new(client, agent.clone(), store.clone() as Arc<dyn SecretStore>));
    Harness { session, store, agent, clock }
}

/// The stored tokens as JSON (to look at refresh tokens the session never hands out).
pub async fn stored_tokens(store: &MemorySecretStore) -> Option<serde_json::Value> {
    let stored = store.get(unbox_core::auth::DEFAULT_TOKEN_KEY).await.unwrap()?;
    Some(serde_json::from_str(stored.expose()).unwrap())
}
