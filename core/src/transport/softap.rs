//! SoftAP transport: protocomm over HTTP on the device's own access point.
//!
//! ESP-IDF's server (`protocomm_httpd.c`) keeps one open socket with LRU purge, so accepting a
//! second TCP connection closes the first at once, and it keys the security session on a cookie:
//! the first reply sets `Set-Cookie: session=<n>`, and a request without that cookie on a new
//! socket silently starts a new session. So this transport owns exactly one TCP connection and
//! speaks HTTP/1.1 on it itself (no client pool, no speculative or parallel connect): it sends the
//! cookie on every request (proto-ver included), runs strictly one exchange at a time and reads
//! each reply to its end, within the protocol's 4096-byte bound, before the next request.
//! Redirects are never followed. A new connection is opened only once the device closed the
//! previous one (the cookie carries the session over).

use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use super::http1::{BodyError, BodyLength, host_header, read_body, read_head};
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
    stream: Option<TcpStream>,
    cookie: Option<String>,
    closed: bool,
    connections_opened: u32,
}

impl SoftApTransport {
    /// A transport to the device at `address` (`host:port`), e.g. [`DEFAULT_DEVICE_ADDRESS`].
    /// Nothing is sent until the first exchange.
    pub fn new(address: &str, timeout: Duration) -> Result<Self, TransportError> {
        let unreachable = |reason: &str| TransportError::Unreachable {
            address: address.to_owned(),
            reason: reason.to_owned(),
        };
        let host = host_header(address).map_err(|reason| unreachable(&reason))?;
        Ok(Self { address: address.to_owned(), host, timeout, state: Mutex::new(LinkState::default()) })
    }

    /// How many TCP connections this transport has opened (one for a healthy session).
    pub async fn connections_opened(&self) -> u32 {
        self.state.lock().await.connections_opened
    }

    fn unreachable(&self, reason: impl std::fmt::Display) -> TransportError {
        TransportError::Unreachable { address: self.address.clone(), reason: reason.to_string() }
    }

    /// The open connection, or a new one when there is none or the device closed it while idle.
    async fn connection<'s>(&self, state: &'s mut LinkState) -> Result<&'s mut TcpStream, TransportError> {
        if let Some(stream) = &state.stream {
            let mut probe = [0u8; 1];
            match stream.try_read(&mut probe) {
                // Nothing waiting: the connection is open and idle, as it should be.
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                // Closed by the device, or bytes nobody asked for: never reused.
                _ => state.stream = None,
            }
        }
        if state.stream.is_none() {
            let stream = TcpStream::connect(&self.address).await.map_err(|e| self.unreachable(e))?;
            stream.set_nodelay(true).map_err(|e| self.unreachable(e))?;
            state.stream = Some(stream);
            state.connections_opened += 1;
        }
        state.stream.as_mut().ok_or_else(|| self.unreachable("no connection"))
    }

    /// One request and its whole reply on the one connection.
    async fn round_trip(
        &self,
        state: &mut LinkState,
        endpoint: &str,
        request: &[u8],
    ) -> Result<Vec<u8>, TransportError> {
        let lost = || TransportError::SessionLost { endpoint: endpoint.to_owned() };
        let mut message = format!(
            "POST /{endpoint} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Accept: text/plain\r\nContent-Length: {}\r\n",
            self.host,
            request.len()
        );
        if let Some(cookie) = &state.cookie {
            message.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        message.push_str("\r\n");
        let mut bytes = message.into_bytes();
        bytes.extend_from_slice(request);

        let stream = self.connection(state).await?;
        stream.write_all(&bytes).await.map_err(|_| lost())?;
        let head = read_head(stream).await.map_err(|_| lost())?;
        if let Some(cookie) = head.set_cookies.iter().find_map(|value| session_cookie(value)) {
            state.cookie = Some(cookie);
        }
        let status = head.status;
        let keep_alive = head.keep_alive && !matches!(head.length, BodyLength::UntilClose);
        let stream = state.stream.as_mut().ok_or_else(lost)?;
        let body = read_body(stream, head, MAX_EXCHANGE_LEN).await;
        if !keep_alive || body.is_err() {
            state.stream = None;
        }
        let body = body.map_err(|error| match error {
            BodyError::TooLarge(len) => TransportError::Oversize { len, max: MAX_EXCHANGE_LEN },
            BodyError::Broken => lost(),
        })?;
        match status {
            200 if body.is_empty() => Err(TransportError::EmptyReply(endpoint.to_owned())),
            200 => Ok(body),
            404 => Err(TransportError::UnknownEndpoint(endpoint.to_owned())),
            // Redirects included: a device answers 200 or closes the socket.
            status => Err(TransportError::HttpStatus { endpoint: endpoint.to_owned(), status }),
        }
    }
}

/// The `session=<n>` pair of a `Set-Cookie` value, if it is one.
fn session_cookie(value: &str) -> Option<String> {
    let pair = value.split(';').next()?.trim();
    pair.strip_prefix("session=").map(|_| pair.to_owned())
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
            Err(TransportError::Timeout { .. } | TransportError::SessionLost { .. }) => state.stream = None,
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
        state.stream = None;
        state.cookie = None;
        state.closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_session_cookie() {
        assert_eq!(session_cookie("session=1804289383; Path=/").as_deref(), Some("session=1804289383"));
        assert_eq!(session_cookie("session=7").as_deref(), Some("session=7"));
        assert_eq!(session_cookie("other=1"), None);
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
