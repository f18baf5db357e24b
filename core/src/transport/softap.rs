//! SoftAP transport: protocomm over HTTP on the device's own access point.
//!
//! ESP-IDF's server keeps one socket and keys the security session on a cookie: the first reply
//! sets `Set-Cookie: session=<n>`, and a request without that cookie on a new socket silently
//! starts a new session. So this transport keeps one keep-alive connection, sends the cookie on
//! every request (proto-ver included) and runs one exchange at a time.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, SET_COOKIE};
use tokio::sync::Mutex;
use url::Url;

use super::{MAX_EXCHANGE_LEN, Transport, TransportError, TransportKind, check_request};

/// Where ESP-IDF devices serve provisioning on their access point.
pub const DEFAULT_DEVICE_ADDRESS: &str = "192.168.4.1:80";

/// Default time one exchange may take (the firmware's own socket timeout is 5 s; a blocking
/// Wi-Fi scan can take longer).
pub const DEFAULT_EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// Protocomm over HTTP to a device's SoftAP.
pub struct SoftApTransport {
    base: Url,
    timeout: Duration,
    state: Mutex<LinkState>,
}

struct LinkState {
    client: Option<reqwest::Client>,
    cookie: Option<String>,
}

impl SoftApTransport {
    /// A transport to the device at `address` (`host:port`), e.g. [`DEFAULT_DEVICE_ADDRESS`].
    pub fn new(address: &str, timeout: Duration) -> Result<Self, TransportError> {
        let unreachable =
            |reason: String| TransportError::Unreachable { address: address.to_owned(), reason };
        let base = Url::parse(&format!("http://{address}/")).map_err(|e| unreachable(e.to_string()))?;
        let client = crate::http::device_client_builder()
            .pool_max_idle_per_host(1)
            .http1_only()
            .build()
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Self { base, timeout, state: Mutex::new(LinkState { client: Some(client), cookie: None }) })
    }

    fn map_send_error(&self, endpoint: &str, error: reqwest::Error) -> TransportError {
        if error.is_timeout() {
            TransportError::Timeout { endpoint: endpoint.to_owned(), after: self.timeout }
        } else if error.is_connect() {
            TransportError::Unreachable { address: self.base.to_string(), reason: root_cause(&error) }
        } else {
            TransportError::SessionLost { endpoint: endpoint.to_owned() }
        }
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The `session=<n>` value of a `Set-Cookie` header, if any.
fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().find_map(|value| {
        let pair = value.to_str().ok()?.split(';').next()?.trim();
        pair.strip_prefix("session=").map(|_| pair.to_owned())
    })
}

#[async_trait]
impl Transport for SoftApTransport {
    async fn exchange(&self, endpoint: &str, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        check_request(endpoint, request, MAX_EXCHANGE_LEN)?;
        let mut state = self.state.lock().await;
        let client = state
            .client
            .clone()
            .ok_or_else(|| TransportError::SessionLost { endpoint: endpoint.to_owned() })?;
        let url =
            self.base.join(endpoint).map_err(|_| TransportError::UnknownEndpoint(endpoint.to_owned()))?;
        let mut builder = client
            .post(url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "text/plain")
            .body(request.to_vec());
        if let Some(cookie) = &state.cookie {
            builder = builder.header(COOKIE, cookie.as_str());
        }
        let response = builder.send().await.map_err(|e| self.map_send_error(endpoint, e))?;
        if let Some(cookie) = session_cookie(response.headers()) {
            state.cookie = Some(cookie);
        }
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(TransportError::UnknownEndpoint(endpoint.to_owned()));
        }
        if !status.is_success() {
            return Err(TransportError::HttpStatus {
                endpoint: endpoint.to_owned(),
                status: status.as_u16(),
            });
        }
        let body = response.bytes().await.map_err(|e| self.map_send_error(endpoint, e))?;
        if body.is_empty() {
            return Err(TransportError::EmptyReply(endpoint.to_owned()));
        }
        if body.len() > MAX_EXCHANGE_LEN {
            return Err(TransportError::Oversize { len: body.len(), max: MAX_EXCHANGE_LEN });
        }
        tracing::trace!(endpoint, request_len = request.len(), reply_len = body.len(), "softap exchange");
        Ok(body.to_vec())
    }

    fn max_message_len(&self) -> usize {
        MAX_EXCHANGE_LEN
    }

    fn kind(&self) -> TransportKind {
        TransportKind::SoftAp
    }

    async fn close(&self) {
        let mut state = self.state.lock().await;
        state.client = None;
        state.cookie = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.append(SET_COOKIE, "other=1".parse().unwrap());
        headers.append(SET_COOKIE, "session=1804289383; Path=/".parse().unwrap());
        assert_eq!(session_cookie(&headers).as_deref(), Some("session=1804289383"));
        assert_eq!(session_cookie(&reqwest::header::HeaderMap::new()), None);
    }

    #[tokio::test]
    async fn refuses_empty_and_oversize_requests_without_sending() {
        let transport = SoftApTransport::new("127.0.0.1:9", Duration::from_secs(1)).unwrap();
        assert!(matches!(transport.exchange("proto-ver", b"").await, Err(TransportError::Empty(_))));
        let big = vec![0u8; MAX_EXCHANGE_LEN + 1];
        assert!(matches!(
            transport.exchange("prov-config", &big).await,
            Err(TransportError::Oversize { .. })
        ));
    }
}
