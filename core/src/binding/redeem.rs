//! The device's side of the binding API: redeem the claim token the phone pushed and check
//! whether it is still bound, authenticated by the factory [`DeviceCredential`]. Used by the simulated device; firmware does the same in C
//! (see `docs/firmware-guide.md`).

use std::time::Duration;

use url::Url;

use crate::http::{HttpClient, Method};
use zeroize::Zeroizing;

use super::call::{Call, Credentials};
use super::client::{join, normalise_base_url, parse_body, protocol};
use super::device_auth::{BINDING_CHECK_SIGNING_PREFIX, DeviceCredential, REDEEM_SIGNING_PREFIX};
use super::error::BindingError;
use super::model::ClaimStatus;
use super::retry::RetryPolicy;
use super::wire::{DeviceBindingAnswer, DeviceBindingQuery, RedeemBody, RedeemResult, paths};
use crate::secret::SecretString;

/// Redeems claim tokens for one device.
#[derive(Debug, Clone)]
pub struct ClaimRedeemer {
    http: HttpClient,
    credential: DeviceCredential,
    retry: RetryPolicy,
}

impl ClaimRedeemer {
    /// A redeemer acting as the device `credential` identifies, with the default retry policy.
    pub fn new(credential: DeviceCredential) -> Result<Self, BindingError> {
        Ok(Self { http: HttpClient::new(), credential, retry: RetryPolicy::default() })
    }

    /// Replaces the retry policy.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Redeems `claim_token` at the backend `backend_url`. Redeeming again a token this device
    /// already redeemed is harmless and answers the claim's current status (`redeemed` or
    /// `confirmed`); a token redeemed by another device gives [`BindingError::ClaimAlreadyUsed`].
    pub async fn redeem(
        &self,
        backend_url: &Url,
        claim_token: &SecretString,
    ) -> Result<ClaimStatus, BindingError> {
        let body = RedeemBody {
            claim_token: claim_token.clone(),
            device_id: self.credential.device_id().as_str().to_owned(),
        };
        let body = serde_json::to_vec(&body)
            .map_err(|e| BindingError::Protocol { reason: format!("could not encode the request: {e}") })?;
        let answer = self.signed_post(backend_url, paths::REDEEM, body, REDEEM_SIGNING_PREFIX).await?;
        let result: RedeemResult = parse_body(&answer, "the redeem result")?;
        tracing::info!(device_id = %self.credential.device_id(), status = %result.status, "claim redeemed");
        Ok(result.status)
    }

    /// Asks the backend whether an account still holds an active binding of this device (the
    /// device's periodic check, `docs/firmware-guide.md`): `false` after its owner unbound it.
    pub async fn is_bound(&self, backend_url: &Url) -> Result<bool, BindingError> {
        let body = serde_json::to_vec(&DeviceBindingQuery {
            device_id: self.credential.device_id().as_str().to_owned(),
        })
        .map_err(|e| protocol(format!("could not encode the request: {e}")))?;
        let answer =
            self.signed_post(backend_url, paths::DEVICE_BINDING, body, BINDING_CHECK_SIGNING_PREFIX).await?;
        let answer: DeviceBindingAnswer = parse_body(&answer, "the binding check")?;
        Ok(answer.bound)
    }

    /// POSTs `body` to `path` of the backend, signed by the device credential after `prefix`,
    /// with the retry policy; the success answer's body.
    async fn signed_post(
        &self,
        backend_url: &Url,
        path: &str,
        body: Vec<u8>,
        prefix: &'static [u8],
    ) -> Result<Zeroizing<Vec<u8>>, BindingError> {
        let call = Call {
            method: Method::POST,
            url: join(&normalise_base_url(backend_url)?, path)?,
            body: Some(Zeroizing::new(body)),
            idempotency_key: None,
            timeout: Duration::from_secs(30),
            credentials: Credentials::Device(&self.credential, prefix),
        };
        call.execute(&self.http, &self.retry).await
    }
}
