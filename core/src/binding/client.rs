//! The app's side of the binding API: create a claim, wait for the device to redeem it, confirm
//! the device learned over the PoP-authenticated session.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::http::{HttpClient, Method};
use zeroize::Zeroizing;

use super::call::{Call, Credentials};
use super::error::BindingError;
use super::model::{
    Binding, Claim, ClaimId, ClaimState, ClaimStatus, DeviceId, IdempotencyKey, check_claim_token,
};
use super::retry::RetryPolicy;
use super::token::AccessTokenSource;
use super::wire::{self, BindingView, ClaimCreated, ClaimView, ConfirmBody, CreateClaimBody, paths};
use crate::platform::clock::Clock;

/// Timeout of a call that does not long-poll.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Extra time a long-poll request is given beyond the wait it asked the backend for.
const LONG_POLL_GRACE: Duration = Duration::from_secs(15);
/// Shortest time between two status requests while the claim is pending.
const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Longest single long-poll the client asks for; [`BindingClient::wait_for_redemption`] and
/// [`BindingClient::confirm_when_redeemed`] chain them.
pub const LONG_POLL_WAIT: Duration = Duration::from_secs(30);

/// A client of the binding backend acting for the logged-in user. Cheap to clone.
#[derive(Clone)]
pub struct BindingClient {
    pub(super) http: HttpClient,
    base_url: Url,
    tokens: Arc<dyn AccessTokenSource>,
    pub(super) retry: RetryPolicy,
}

impl std::fmt::Debug for BindingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BindingClient")
            .field("base_url", &self.base_url.as_str())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Normalises a backend base URL: http(s) only, no query or fragment, path ending in `/`.
pub(crate) fn normalise_base_url(url: &Url) -> Result<Url, BindingError> {
    let invalid =
        |reason: &str| BindingError::InvalidBackendUrl { url: url.to_string(), reason: reason.into() };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("only http and https are supported"));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    let mut base = url.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base)
}

pub(crate) fn join(base: &Url, path: &str) -> Result<Url, BindingError> {
    base.join(path)
        .map_err(|e| BindingError::InvalidBackendUrl { url: base.to_string(), reason: e.to_string() })
}

pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, BindingError> {
    serde_json::from_slice(body)
        .map_err(|e| BindingError::Protocol { reason: format!("{what} is not the expected JSON: {e}") })
}

pub(super) fn protocol(reason: impl Into<String>) -> BindingError {
    BindingError::Protocol { reason: reason.into() }
}

impl BindingClient {
    /// A client for the backend at `base_url` (e.g. `https://api.example.com/`), getting access
    /// tokens from `tokens`, with the default [`RetryPolicy`]. Plain
    /// `http` works too, for loopback simulators.
    pub fn new(base_url: &Url, tokens: Arc<dyn AccessTokenSource>) -> Result<Self, BindingError> {
        Ok(Self {
            http: HttpClient::new(),
            base_url: normalise_base_url(base_url)?,
            tokens,
            retry: RetryPolicy::default(),
        })
    }

    /// The clock this client waits on and reads times against (its retry policy's).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.retry.clock()
    }

    /// Replaces the retry policy.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The normalised base URL (ends in `/`).
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    pub(super) fn user_call(&self, method: Method, url: Url) -> Call<'_> {
        Call {
            method,
            url,
            body: None,
            idempotency_key: None,
            timeout: REQUEST_TIMEOUT,
            credentials: Credentials::User(self.tokens.as_ref()),
        }
    }

    fn claim_url(&self, id: &ClaimId, suffix: &str) -> Result<Url, BindingError> {
        join(&self.base_url, &format!("{}{}{suffix}", paths::CLAIM_PREFIX, id.as_str()))
    }

    /// Creates a claim for the logged-in user. Retrying with the same `key` (also after an app
    /// restart) returns the same claim instead of a second one.
    pub async fn create_claim(&self, key: &IdempotencyKey) -> Result<Claim, BindingError> {
        let body = serde_json::to_vec(&CreateClaimBody::default())
            .map_err(|e| protocol(format!("could not encode the request: {e}")))?;
        let mut call = self.user_call(Method::POST, join(&self.base_url, paths::CLAIMS)?);
        call.body = Some(Zeroizing::new(body));
        call.idempotency_key = Some(key);
        let body = call.execute(&self.http, &self.retry).await?;
        let created: ClaimCreated = parse_body(&body, "the created claim")?;
        let id = ClaimId::new(created.claim_id).map_err(|e| protocol(e.to_string()))?;
        check_claim_token(&created.claim_token).map_err(|e| protocol(e.to_string()))?;
        tracing::info!(claim_id = %id, status = %created.status, confirm_waits = created.confirm_waits, "claim created");
        Ok(Claim {
            id,
            token: created.claim_token,
            expires_at: SystemTime::from(created.expires_at),
            status: created.status,
            confirm_waits: created.confirm_waits,
        })
    }

    /// The claim's status now, or — with a non-zero `wait` (capped at 60 s by the backend) —
    /// as soon as it leaves `pending`, whichever comes first.
    pub async fn claim_state(&self, id: &ClaimId, wait: Duration) -> Result<ClaimState, BindingError> {
        let mut url = self.claim_url(id, "")?;
        let wait_seconds = wait_query(&mut url, wait);
        let mut call = self.user_call(Method::GET, url);
        call.timeout = Duration::from_secs(wait_seconds) + LONG_POLL_GRACE;
        let body = call.execute(&self.http, &self.retry).await?;
        let view: ClaimView = parse_body(&body, "the claim status")?;
        if view.claim_id != id.as_str() {
            return Err(protocol(format!("asked for claim {id} but got {}", view.claim_id)));
        }
        let device_id = view.device_id.map(DeviceId::new).transpose().map_err(|e| protocol(e.to_string()))?;
        Ok(ClaimState {
            id: id.clone(),
            status: view.status,
            expires_at: SystemTime::from(view.expires_at),
            device_id,
        })
    }

    /// Long-polls until a device redeemed the claim (or the claim is already confirmed), for at
    /// most `timeout`. Network trouble during the wait is retried per the policy; a claim that
    /// expires or is refused ends the wait with that error.
    pub async fn wait_for_redemption(
        &self,
        id: &ClaimId,
        timeout: Duration,
    ) -> Result<ClaimState, BindingError> {
        long_poll(id, timeout, |wait| async move {
            let state = self.claim_state(id, wait).await?;
            tracing::debug!(claim_id = %id, status = %state.status, "claim status");
            match state.status {
                ClaimStatus::Redeemed | ClaimStatus::Confirmed => Ok(Some(state)),
                ClaimStatus::Expired => Err(BindingError::ClaimExpired),
                ClaimStatus::Refused => Err(BindingError::DeviceMismatch),
                ClaimStatus::Pending => Ok(None),
            }
        })
        .await
    }

    /// Confirms that `device_id` — learned from the device over the PoP-authenticated session —
    /// is the device that redeemed the claim, which activates the binding. Another device id
    /// voids the claim ([`BindingError::DeviceMismatch`]). Retry with the same `key`.
    pub async fn confirm(
        &self,
        id: &ClaimId,
        device_id: &DeviceId,
        key: &IdempotencyKey,
    ) -> Result<Binding, BindingError> {
        self.confirm_named(id, device_id, None, key).await
    }

    /// Like `confirm`, naming the device in the customer's device list (1-64 characters; the
    /// backend uses the device id when `name` is `None`).
    pub async fn confirm_named(
        &self,
        id: &ClaimId,
        device_id: &DeviceId,
        name: Option<&str>,
        key: &IdempotencyKey,
    ) -> Result<Binding, BindingError> {
        self.send_confirm(id, device_id, name, key, Duration::ZERO).await
    }

    /// Confirms `device_id` the moment the device redeems the claim, in one call instead of
    /// [`Self::wait_for_redemption`] and [`Self::confirm`]: each request asks the backend to
    /// hold it while the claim is pending (`?wait=`, at most [`LONG_POLL_WAIT`]), and requests
    /// are chained with the same `key` for at most `timeout`. Only for backends that advertise
    /// it ([`Claim::confirm_waits`]). The device-match rule is the confirm's: another redeeming
    /// device voids the claim ([`BindingError::DeviceMismatch`]); still pending after `timeout`
    /// is [`BindingError::RedemptionTimedOut`].
    pub async fn confirm_when_redeemed(
        &self,
        id: &ClaimId,
        device_id: &DeviceId,
        key: &IdempotencyKey,
        timeout: Duration,
    ) -> Result<Binding, BindingError> {
        long_poll(id, timeout, |wait| async move {
            match self.send_confirm(id, device_id, None, key, wait).await {
                Err(BindingError::NotRedeemed) => Ok(None),
                outcome => outcome.map(Some),
            }
        })
        .await
    }

    /// One logical confirm (retried with `key`), held by the backend up to `wait` while the
    /// claim is pending when `wait` is at least a second.
    async fn send_confirm(
        &self,
        id: &ClaimId,
        device_id: &DeviceId,
        name: Option<&str>,
        key: &IdempotencyKey,
        wait: Duration,
    ) -> Result<Binding, BindingError> {
        let confirm = ConfirmBody { device_id: device_id.as_str().to_owned(), name: name.map(str::to_owned) };
        let body = serde_json::to_vec(&confirm)
            .map_err(|e| protocol(format!("could not encode the request: {e}")))?;
        let mut url = self.claim_url(id, paths::CONFIRM_SUFFIX)?;
        let wait_seconds = wait_query(&mut url, wait);
        let mut call = self.user_call(Method::POST, url);
        call.body = Some(Zeroizing::new(body));
        call.idempotency_key = Some(key);
        if wait_seconds > 0 {
            call.timeout = Duration::from_secs(wait_seconds) + LONG_POLL_GRACE;
        }
        let body = call.execute(&self.http, &self.retry).await?;
        let view: BindingView = parse_body(&body, "the binding")?;
        let bound = DeviceId::new(view.device_id).map_err(|e| protocol(e.to_string()))?;
        if &bound != device_id || view.claim_id != id.as_str() {
            return Err(protocol("the binding names another claim or device than the one confirmed"));
        }
        tracing::info!(claim_id = %id, device_id = %bound, "binding confirmed");
        Ok(Binding {
            binding_id: view.binding_id,
            claim_id: id.clone(),
            device_id: bound,
            bound_at: SystemTime::from(view.bound_at),
        })
    }
}

/// Chains `ask(wait)` (a request the backend holds up to `wait` while the claim is pending;
/// `Ok(None)`: still pending) for at most `timeout`, at most one request per
/// [`MIN_POLL_INTERVAL`] so that a backend answering at once despite `wait` is not busy-polled.
/// Still pending at the end is [`BindingError::RedemptionTimedOut`].
async fn long_poll<T, F>(
    id: &ClaimId,
    timeout: Duration,
    mut ask: impl FnMut(Duration) -> F,
) -> Result<T, BindingError>
where
    F: Future<Output = Result<Option<T>, BindingError>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let started = Instant::now();
        let remaining = deadline.saturating_duration_since(started);
        if let Some(done) = ask(remaining.min(LONG_POLL_WAIT)).await? {
            return Ok(done);
        }
        if remaining < Duration::from_secs(1) {
            return Err(BindingError::RedemptionTimedOut { waited: timeout });
        }
        tracing::debug!(claim_id = %id, "not redeemed yet; asking again");
        tokio::time::sleep_until((started + MIN_POLL_INTERVAL).min(deadline)).await;
    }
}

/// Adds `?wait=<whole seconds>` (capped at the backend's maximum) to `url` unless that is zero;
/// returns the seconds asked for.
fn wait_query(url: &mut Url, wait: Duration) -> u64 {
    let seconds = wait.as_secs().min(wire::MAX_WAIT_SECONDS);
    if seconds > 0 {
        url.query_pairs_mut().append_pair("wait", &seconds.to_string());
    }
    seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL")
    }

    #[test]
    fn base_urls_are_normalised() {
        assert_eq!(
            normalise_base_url(&url("http://127.0.0.1:8080")).map(|u| u.to_string()).ok().as_deref(),
            Some("http://127.0.0.1:8080/")
        );
        let prefixed = normalise_base_url(&url("https://api.example.com/unbox")).expect("valid");
        assert_eq!(
            join(&prefixed, paths::CLAIMS).map(String::from).ok().as_deref(),
            Some("https://api.example.com/unbox/v1/claims")
        );
        assert!(normalise_base_url(&url("ftp://example.com")).is_err());
        assert!(normalise_base_url(&url("https://example.com/?a=b")).is_err());
        assert!(normalise_base_url(&url("mailto:a@example.com")).is_err());
    }

    #[test]
    fn unparsable_bodies_are_protocol_errors() {
        let error = parse_body::<ClaimView>(b"{", "the claim status").expect_err("invalid JSON");
        assert!(matches!(error, BindingError::Protocol { .. }));
        assert!(!error.is_retryable());
    }
}
