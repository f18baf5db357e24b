//! The simulated binding backend: the HTTP API of `docs/binding-api.yaml` on a real loopback
//! port, with an adjustable clock, a registry of simulated devices, idempotency keys, long-polls
//! and fault injection for tests.
//!
//! [`BindingBackend::router`] can be merged with other routers (e.g. the simulated identity
//! provider) and served by one [`LoopbackServer`].

mod answer;
mod bindings;
mod breaks;
mod faults;
mod lifecycle;
mod routes;
mod server;
mod store;
mod validator;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Router;
use rand::RngCore;
use unbox_core::binding::{DeviceCredential, DeviceId, InvalidValue};
use unbox_core::factory::{FactoryError, parse_backend_import};
use unbox_core::secret::SecretBytes;

pub use breaks::ContractBreak;
pub use faults::{Fault, RecordedRequest};
pub use server::{LoopbackServer, ReservedPort};
pub use validator::{Principal, StaticTokenValidator, TokenRejection, TokenValidator};

/// The audience (RFC 8707 resource) the backend accepts on access tokens that name one.
pub const BINDING_API_AUDIENCE: &str = "unbox-binding-api";
/// The scope a linked client (a voice-assistant skill) needs to list the customer's devices.
pub const DEVICES_READ_SCOPE: &str = "devices:read";

use faults::FaultPlan;
use routes::IdempotencyStore;
use store::{ClaimStore, Lifetimes};

/// Lifetimes and limits of the simulated backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendConfig {
    /// How long a new claim can be redeemed.
    pub claim_ttl: Duration,
    /// How long a redeemed claim can be confirmed.
    pub confirm_ttl: Duration,
    /// Longest long-poll wait honoured.
    pub max_wait: Duration,
    /// The network round trip of every request: half of it passes before the request is
    /// handled, half after (a long-poll answers half a round trip after the redemption).
    pub round_trip: Duration,
}

impl Default for BackendConfig {
    /// 10 minutes to redeem, 10 minutes to confirm, long-polls up to 60 s, no added latency.
    fn default() -> Self {
        Self {
            claim_ttl: Duration::from_secs(600),
            confirm_ttl: Duration::from_secs(600),
            max_wait: Duration::from_secs(60),
            round_trip: Duration::ZERO,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Everything the handlers share.
pub(crate) struct Shared {
    config: BackendConfig,
    validator: Arc<dyn TokenValidator>,
    devices: Mutex<HashMap<DeviceId, DeviceCredential>>,
    claims: Mutex<ClaimStore>,
    idempotency: Mutex<IdempotencyStore>,
    clock_offset: Mutex<Duration>,
    faults: Mutex<FaultPlan>,
    /// Clients that may only read the device list (with [`DEVICES_READ_SCOPE`]).
    linked_clients: Mutex<Vec<String>>,
    /// Rules deliberately broken (conformance-checker test doubles); none by default.
    breaks: Mutex<breaks::Breaks>,
}

impl Shared {
    /// Whether `rule` is deliberately broken.
    fn broken(&self, rule: ContractBreak) -> bool {
        lock(&self.breaks).has(rule)
    }
}

impl Shared {
    /// The simulated time: the system clock plus the offset tests moved it by.
    fn now(&self) -> SystemTime {
        SystemTime::now() + *lock(&self.clock_offset)
    }
}

/// The simulated binding backend. Cheap to clone; clones share all state.
#[derive(Clone)]
pub struct BindingBackend {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BindingBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BindingBackend").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

impl BindingBackend {
    /// A backend accepting the user tokens `validator` accepts.
    pub fn new(validator: Arc<dyn TokenValidator>, config: BackendConfig) -> Self {
        let lifetimes = Lifetimes { claim_ttl: config.claim_ttl, confirm_ttl: config.confirm_ttl };
        Self {
            shared: Arc::new(Shared {
                config,
                validator,
                devices: Mutex::new(HashMap::new()),
                claims: Mutex::new(ClaimStore::new(lifetimes)),
                idempotency: Mutex::new(IdempotencyStore::default()),
                clock_offset: Mutex::new(Duration::ZERO),
                faults: Mutex::new(FaultPlan::default()),
                linked_clients: Mutex::new(Vec::new()),
                breaks: Mutex::new(breaks::Breaks::default()),
            }),
        }
    }

    /// The API routes (`/v1/claims...`), with fault injection, ready to serve or merge.
    pub fn router(&self) -> Router {
        routes::router(self.shared.clone())
    }

    /// Serves [`Self::router`] alone on a free loopback port.
    pub async fn serve(&self) -> std::io::Result<LoopbackServer> {
        LoopbackServer::start(self.router()).await
    }

    /// Registers a linked client (a voice-assistant skill): its tokens may only list the
    /// customer's devices, and only with the scope [`DEVICES_READ_SCOPE`].
    pub fn link_client(&self, client_id: &str) {
        lock(&self.shared.linked_clients).push(client_id.to_owned());
    }

    /// Breaks one rule of the contract on purpose, making this backend a test double of a faulty
    /// implementation for the conformance checker.
    pub fn break_contract(&self, rule: ContractBreak) {
        lock(&self.shared.breaks).insert(rule);
        let mut claims = lock(&self.shared.claims);
        claims.breaks.insert(rule);
        claims.bindings.breaks.insert(rule);
    }

    /// Whether confirms honour `wait` and new claims say so (`confirm_waits`, on by default).
    /// Off, the backend behaves as one without the feature: it ignores a confirm's `wait`, and
    /// apps wait for the redemption with `GET /v1/claims/{claim_id}?wait=` before confirming.
    pub fn set_confirm_waits(&self, on: bool) {
        lock(&self.shared.claims).confirm_waits = on;
    }

    /// Registers a device the way the factory would: the backend learns its credential.
    pub fn register_device(&self, credential: DeviceCredential) {
        lock(&self.shared.devices).insert(credential.device_id().clone(), credential);
    }

    /// Registers every device of a factory's import file (`unbox factory`'s
    /// `backend-import.json`, see `docs/factory.md`); returns how many. Nothing is registered
    /// when the file is malformed.
    pub fn import_devices(&self, import_file: &str) -> Result<usize, FactoryError> {
        let credentials = parse_backend_import(import_file)?;
        let count = credentials.len();
        let mut devices = lock(&self.shared.devices);
        for credential in credentials {
            devices.insert(credential.device_id().clone(), credential);
        }
        Ok(count)
    }

    /// Makes up a device with a random 32-byte secret, registers it and returns its credential.
    pub fn provision_device(&self, device_id: &str) -> Result<DeviceCredential, InvalidValue> {
        let mut secret = vec![0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let credential = DeviceCredential::new(DeviceId::new(device_id)?, SecretBytes::new(secret))?;
        self.register_device(credential.clone());
        Ok(credential)
    }

    /// The backend's current (simulated) time.
    pub fn now(&self) -> SystemTime {
        self.shared.now()
    }

    /// Moves the backend's clock forward, e.g. past a claim's expiry; pending long-polls re-check.
    pub fn advance_clock(&self, by: Duration) {
        *lock(&self.shared.clock_offset) += by;
        lock(&self.shared.claims).wake_all();
    }

    /// Answers the next `count` requests with `fault` instead of handling them.
    pub fn fail_next(&self, count: usize, fault: Fault) {
        lock(&self.shared.faults).queue(count, fault);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.faults).log()
    }
}
