//! One logical HTTP call to the binding backend: authentication (with one token refresh on 401),
//! the same idempotency key on every attempt, bounded retries on network errors, 5xx and 429.

use crate::http::{BACKEND_REPLY_LIMIT, HttpClient, Method, ReadError, StatusCode};
use std::time::Duration;

use crate::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use url::Url;
use zeroize::Zeroizing;

#[cfg(feature = "device-side")]
use super::device_auth::DeviceCredential;
use super::error::BindingError;
use super::model::IdempotencyKey;
use super::retry::{RetryPolicy, parse_retry_after};
use super::token::AccessTokenSource;
use super::wire::IDEMPOTENCY_KEY_HEADER;
use crate::secret::SecretString;

/// Who the call authenticates as.
pub(crate) enum Credentials<'a> {
    /// The logged-in user (bearer access token).
    User(&'a dyn AccessTokenSource),
    #[cfg(feature = "device-side")]
    /// A device (HMAC over the body after a domain-separation prefix).
    Device(&'a DeviceCredential, &'static [u8]),
}

/// Everything needed to send (and resend) one logical request.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub url: Url,
    pub body: Option<Zeroizing<Vec<u8>>>,
    pub idempotency_key: Option<&'a IdempotencyKey>,
    pub timeout: Duration,
    pub credentials: Credentials<'a>,
}

/// Why one attempt failed in a way worth retrying.
struct Transient {
    what: String,
    retry_after: Option<Duration>,
}

enum Attempt {
    Done(Zeroizing<Vec<u8>>),
    Unauthorized(Zeroizing<Vec<u8>>),
    Retry(Transient),
}

impl Call<'_> {
    /// Sends the call until it succeeds, fails for good, or the retry budget is spent. Returns
    /// the success body (zeroized on drop: it may hold a claim token).
    pub async fn execute(
        &self,
        http: &HttpClient,
        retry: &RetryPolicy,
    ) -> Result<Zeroizing<Vec<u8>>, BindingError> {
        let mut token = match self.credentials {
            Credentials::User(source) => Some(source.access_token().await?),
            #[cfg(feature = "device-side")]
            Credentials::Device(..) => None,
        };
        let mut refreshed = false;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            match self.attempt(http, token.as_ref(), retry).await? {
                Attempt::Done(body) => return Ok(body),
                Attempt::Unauthorized(body) => match (&self.credentials, token.as_ref()) {
                    (Credentials::User(source), Some(rejected)) if !refreshed => {
                        tracing::debug!(url = %self.url, "access token refused; asking for a fresh one");
                        refreshed = true;
                        token = Some(source.refresh_access_token(rejected).await?);
                        // A refused token says nothing about the backend's health: no backoff.
                        attempts -= 1;
                    }
                    _ => return Err(BindingError::from_response(401, &body)),
                },
                Attempt::Retry(failure) => {
                    if attempts >= retry.max_attempts() {
                        return Err(BindingError::BackendUnreachable { attempts, last: failure.what });
                    }
                    tracing::debug!(url = %self.url, attempt = attempts, failure = %failure.what, "retrying binding call");
                    retry.pause(attempts, failure.retry_after).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        http: &HttpClient,
        token: Option<&SecretString>,
        retry: &RetryPolicy,
    ) -> Result<Attempt, BindingError> {
        let mut request = http
            .request(self.method.clone(), self.url.clone())
            .timeout(self.timeout)
            .header(ACCEPT, "application/json, application/problem+json");
        if let Some(key) = self.idempotency_key {
            request = request.header(IDEMPOTENCY_KEY_HEADER, key.as_str());
        }
        let body: &[u8] = self.body.as_deref().map_or(&[], Vec::as_slice);
        let authorization = Zeroizing::new(match &self.credentials {
            Credentials::User(_) => format!("Bearer {}", token.map_or("", SecretString::expose)),
            #[cfg(feature = "device-side")]
            Credentials::Device(credential, prefix) => credential.authorization_with(prefix, body),
        });
        let mut authorization =
            HeaderValue::from_str(&authorization).map_err(|_| BindingError::Unauthorized {
                reason: "the access token contains characters not allowed in an HTTP header".into(),
            })?;
        authorization.set_sensitive(true);
        request = request.header(AUTHORIZATION, authorization);
        if self.body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json").body(body.to_vec());
        }

        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Ok(Attempt::Retry(Transient { what: error.to_string(), retry_after: None }));
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, retry.clock().now()));
        let body = match response.bytes_capped(BACKEND_REPLY_LIMIT).await {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(ReadError::Network(error)) => {
                return Ok(Attempt::Retry(Transient { what: error.to_string(), retry_after: None }));
            }
            Err(too_large) => return Err(BindingError::Protocol { reason: too_large.to_string() }),
        };
        if status.is_success() {
            Ok(Attempt::Done(body))
        } else if status == StatusCode::UNAUTHORIZED {
            Ok(Attempt::Unauthorized(body))
        } else if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Ok(Attempt::Retry(Transient { what: format!("HTTP {}", status.as_u16()), retry_after }))
        } else {
            Err(BindingError::from_response(status.as_u16(), &body))
        }
    }
}
