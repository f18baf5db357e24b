//! SoftAP transport: protocomm over HTTP on the device's own access point.
//!
//! ESP-IDF's server (`protocomm_httpd.c`) keeps one open socket with LRU purge, so accepting a
//! second TCP connection closes the first at once, and it keys the security session on a cookie:
//! the first reply sets `Set-Cookie: session=<n>`, and a request without that cookie on a new
//! socket silently starts a new session. So this transport owns exactly one HTTP/1.1 connection
//! (no pool, no speculative or parallel connect), sends the cookie on every request (proto-ver
//! included), runs strictly one exchange at a time and reads each reply to its end, within the
//! protocol's 4096-byte bound, before the next request. Redirects are never followed.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::{MAX_EXCHANGE_LEN, Transport, TransportError, TransportKind, check_request};

/// Where ESP-IDF devices serve provisioning on their access point.
pub const DEFAULT_DEVICE_ADDRESS: &str = "192.168.4.1:80";

/// Default time one exchange may take (the firmware's own socket timeout is 5 s; a blocking
/// Wi-Fi scan can take longer).
pub const DEFAULT_EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// Protocomm over HTTP to a device's SoftAP.
pub struct SoftApTransport {
    address: String,
    host: String,
    timeout: Duration,
    state: Mutex<LinkState>,
}

#[derive(Default)]
struct LinkState {
    connection: Option<Connection>,
    cookie: Option<String>,
    closed: bool,
    connections_opened: u32,
}

/// The one HTTP/1.1 connection to the device and the task that drives it.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl SoftApTransport {
    /// A transport to the device at `address` (`host:port`), e.g. [`DEFAULT_DEVICE_ADDRESS`].
    /// Nothing is sent until the first exchange.
    pub fn new(address: &str, timeout: Duration) -> Result<Self, TransportError> {
        let unreachable = |reason: &str| TransportError::Unreachable {
            address: address.to_owned(),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(&format!("http://{address}/")).map_err(|e| unreachable(&e.to_string()))?;
        let host = url.host_str().ok_or_else(|| unreachable("no host in the address"))?;
        if url.port().is_none() && !address.ends_with(":80") {
            return Err(unreachable("give the address as host:port, e.g. 192.168.4.1:80"));
        }
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Self { address: address.to_owned(), host, timeout, state: Mutex::new(LinkState::default()) })
    }

    /// How many TCP connections this transport has opened (one for a healthy session).
    pub async fn connections_opened(&self) -> u32 {
        self.state.lock().await.connections_opened
    }

    fn unreachable(&self, reason: impl std::fmt::Display) -> TransportError {
        TransportError::Unreachable { address: self.address.clone(), reason: reason.to_string() }
    }

    /// Opens the connection. Called only when no connection is open: there is never a second.
    async fn connect(&self) -> Result<Connection, TransportError> {
        let stream = TcpStream::connect(&self.address).await.map_err(|e| self.unreachable(e))?;
        stream.set_nodelay(true).map_err(|e| self.unreachable(e))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.unreachable(e))?;
        let driver = tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "device connection ended");
            }
        });
        Ok(Connection { sender, driver })
    }

    /// One request and its whole reply on the open connection, opening it first if the device
    /// closed the previous one between exchanges (the cookie carries the session over).
    async fn round_trip(
        &self,
        state: &mut LinkState,
        endpoint: &str,
        request: &[u8],
    ) -> Result<Vec<u8>, TransportError> {
        let lost = || TransportError::SessionLost { endpoint: endpoint.to_owned() };
        if state.connection.as_ref().is_none_or(|c| c.sender.is_closed()) {
            state.connection = None;
            state.connection = Some(self.connect().await?);
            state.connections_opened += 1;
        }
        let connection = state.connection.as_mut().ok_or_else(lost)?;
        connection.sender.ready().await.map_err(|_| lost())?;
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(format!("/{endpoint}"))
            .header(HOST, self.host.as_str())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "text/plain")
            .header(CONTENT_LENGTH, request.len());
        if let Some(cookie) = &state.cookie {
            builder = builder.header(COOKIE, cookie.as_str());
        }
        let http_request = builder
            .body(Full::new(Bytes::copy_from_slice(request)))
            .map_err(|_| TransportError::UnknownEndpoint(endpoint.to_owned()))?;
        let response = connection.sender.send_request(http_request).await.map_err(|_| lost())?;
        if let Some(cookie) = session_cookie(response.headers()) {
            state.cookie = Some(cookie);
        }
        let status = response.status();
        let declared = declared_length(response.headers());
        if declared.is_some_and(|len| len > MAX_EXCHANGE_LEN) {
            // Not read: the connection is dropped with the unread body.
            state.connection = None;
            return Err(TransportError::Oversize {
                len: declared.unwrap_or_default(),
                max: MAX_EXCHANGE_LEN,
            });
        }
        let body = match Limited::new(response.into_body(), MAX_EXCHANGE_LEN).collect().await {
            Ok(body) => body.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                state.connection = None;
                return Err(TransportError::Oversize { len: MAX_EXCHANGE_LEN + 1, max: MAX_EXCHANGE_LEN });
            }
            Err(_) => return Err(lost()),
        };
        if status == StatusCode::NOT_FOUND {
            return Err(TransportError::UnknownEndpoint(endpoint.to_owned()));
        }
        if status != StatusCode::OK {
            // Redirects included: a device answers 200 or closes the socket.
            return Err(TransportError::HttpStatus {
                endpoint: endpoint.to_owned(),
                status: status.as_u16(),
            });
        }
        if body.is_empty() {
            return Err(TransportError::EmptyReply(endpoint.to_owned()));
        }
        Ok(body.to_vec())
    }
}

/// The `session=<n>` value of a `Set-Cookie` header, if any.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().find_map(|value| {
        let pair = value.to_str().ok()?.split(';').next()?.trim();
        pair.strip_prefix("session=").map(|_| pair.to_owned())
    })
}

/// The reply's `Content-Length`, when it declares one.
fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

#[async_trait]
impl Transport for SoftApTransport {
    async fn exchange(&self, endpoint: &str, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        check_request(endpoint, request, MAX_EXCHANGE_LEN)?;
        let mut state = self.state.lock().await;
        if state.closed {
            return Err(TransportError::SessionLost { endpoint: endpoint.to_owned() });
        }
        let outcome =
            tokio::time::timeout(self.timeout, self.round_trip(&mut state, endpoint, request)).await;
        let result = outcome.unwrap_or_else(|_| {
            Err(TransportError::Timeout { endpoint: endpoint.to_owned(), after: self.timeout })
        });
        match &result {
            Ok(reply) => {
                tracing::trace!(
                    endpoint,
                    request_len = request.len(),
                    reply_len = reply.len(),
                    "softap exchange"
                );
            }
            // A connection with a request in flight or an unread reply cannot carry the next one.
            Err(TransportError::Timeout { .. } | TransportError::SessionLost { .. }) => {
                state.connection = None
            }
            Err(_) => {}
        }
        result
    }

    fn max_message_len(&self) -> usize {
        MAX_EXCHANGE_LEN
    }

    fn kind(&self) -> TransportKind {
        TransportKind::SoftAp
    }

    async fn close(&self) {
        let mut state = self.state.lock().await;
        state.connection = None;
        state.cookie = None;
        state.closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie() {
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, "other=1".parse().unwrap());
        headers.append(SET_COOKIE, "session=1804289383; Path=/".parse().unwrap());
        assert_eq!(session_cookie(&headers).as_deref(), Some("session=1804289383"));
        assert_eq!(session_cookie(&HeaderMap::new()), None);
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
        assert_eq!(transport.connections_opened().await, 0);
    }

    #[test]
    fn wants_host_and_port() {
        assert!(SoftApTransport::new("192.168.4.1:80", Duration::from_secs(1)).is_ok());
        assert!(SoftApTransport::new("[::1]:8080", Duration::from_secs(1)).is_ok());
        assert!(matches!(
            SoftApTransport::new("192.168.4.1", Duration::from_secs(1)),
            Err(TransportError::Unreachable { .. })
        ));
    }
}
