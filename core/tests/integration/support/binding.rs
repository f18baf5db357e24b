//! Shared set-up of the binding integration tests: the simulated backend on a loopback port,
//! token sources, and a manual clock that records backoff delays instead of waiting them out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use unbox_core::binding::{
    AccessTokenError, AccessTokenSource, BindingClient, ClaimRedeemer, DeviceCredential, NoJitter,
    RetryPolicy,
};
use unbox_core::platform::clock::{Clock, ManualClock};
use unbox_core::secret::SecretString;
use unbox_sim::backend::{BackendConfig, BindingBackend, LoopbackServer, StaticTokenValidator};
use url::Url;

/// The user's valid access token in these tests.
pub const ALICE_TOKEN: &str = "alice-access-token-0001";

/// 100 ms doubling to 2 s, no jitter, up to `attempts` attempts, waiting on `clock` (a
/// [`ManualClock`] records the waits and skips them).
pub fn policy(attempts: u32, clock: Arc<dyn Clock>) -> RetryPolicy {
    RetryPolicy::new(attempts, Duration::from_millis(100), Duration::from_secs(2))
        .with_jitter(Arc::new(NoJitter))
        .with_clock(clock)
}

/// A manual clock showing the present, for retry schedules that run instantly.
pub fn instant_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(std::time::SystemTime::now()))
}

/// A token source that starts with `first` and hands out `fresh` when asked to refresh.
pub struct RotatingTokens {
    current: Mutex<String>,
    fresh: String,
    refreshes: AtomicUsize,
}

impl RotatingTokens {
    pub fn new(first: &str, fresh: &str) -> Self {
        Self { current: Mutex::new(first.into()), fresh: fresh.into(), refreshes: AtomicUsize::new(0) }
    }

    pub fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl AccessTokenSource for RotatingTokens {
    async fn access_token(&self) -> Result<SecretString, AccessTokenError> {
        let current = self.current.lock().map_err(|_| AccessTokenError::Unavailable("poisoned".into()))?;
        Ok(SecretString::new(current.clone()))
    }

    async fn refresh_access_token(&self, _rejected: &SecretString) -> Result<SecretString, AccessTokenError> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let mut current =
            self.current.lock().map_err(|_| AccessTokenError::Unavailable("poisoned".into()))?;
        current.clone_from(&self.fresh);
        Ok(SecretString::new(current.clone()))
    }
}

/// The simulated backend serving on loopback, with alice's token accepted.
pub struct Harness {
    pub backend: BindingBackend,
    pub server: LoopbackServer,
    pub validator: Arc<StaticTokenValidator>,
    pub clock: Arc<ManualClock>,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with_config(BackendConfig::default()).await
    }

    pub async fn with_config(config: BackendConfig) -> Self {
        let validator = Arc::new(StaticTokenValidator::new());
        validator.allow(ALICE_TOKEN, "alice");
        let backend = BindingBackend::new(validator.clone(), config);
        let server = backend.serve().await.expect("loopback server starts");
        Self { backend, server, validator, clock: instant_clock() }
    }

    pub fn base_url(&self) -> Url {
        Url::parse(&self.server.base_url()).expect("loopback URL")
    }

    /// A client with `tokens`, 5 attempts and the manual clock.
    pub fn client_with(&self, tokens: Arc<dyn AccessTokenSource>) -> BindingClient {
        BindingClient::new(&self.base_url(), tokens)
            .expect("client")
            .with_retry_policy(policy(5, self.clock.clone()))
    }

    /// A client logged in as alice.
    pub fn client(&self) -> BindingClient {
        self.client_with(Arc::new(RotatingTokens::new(ALICE_TOKEN, ALICE_TOKEN)))
    }

    /// A registered simulated device and its redeemer.
    pub fn device(&self, id: &str) -> (DeviceCredential, ClaimRedeemer) {
        let credential = self.backend.provision_device(id).expect("valid device id");
        let redeemer = ClaimRedeemer::new(credential.clone())
            .expect("redeemer")
            .with_retry_policy(policy(5, instant_clock()));
        (credential, redeemer)
    }

    /// Waits (polling the request log) until the backend received `count` requests for `path`.
    pub async fn until_requests(&self, path: &str, count: usize) {
        while self.backend.requests().iter().filter(|r| r.path == path).count() < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
