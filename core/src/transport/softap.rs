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
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use super::{MAX_EXCHANGE_LEN, Transport, TransportError, TransportKind, check_request};

/// Where ESP-IDF devices serve provisioning on their access point.
pub const DEFAULT_DEVICE_ADDRESS: &str = "192.168.4.1:80";

/// Default time one exchange may take (the firmware's own socket timeout is 5 s; a blocking
/// Wi-Fi scan can take longer).
pub const DEFAULT_EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// Largest reply head read (ESP-IDF sends a few short headers).
const MAX_HEAD_LEN: usize = 8 * 1024;
/// Most headers a reply head may have.
const MAX_HEADERS: usize = 32;

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

/// What a reply head says.
struct Head {
    status: u16,
    cookie: Option<String>,
    length: BodyLength,
    keep_alive: bool,
    /// Bytes after the head already read.
    rest: Vec<u8>,
}

/// How the reply body is delimited.
enum BodyLength {
    Declared(usize),
    Chunked,
    UntilClose,
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
        if let Some(cookie) = &head.cookie {
            state.cookie = Some(cookie.clone());
        }
        let status = head.status;
        let keep_alive = head.keep_alive && !matches!(head.length, BodyLength::UntilClose);
        let stream = state.stream.as_mut().ok_or_else(lost)?;
        let body = read_body(stream, head).await;
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

/// Reads and parses the reply head.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Head> {
    let broken = || std::io::Error::from(std::io::ErrorKind::InvalidData);
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(chunk.get(..read).ok_or_else(broken)?);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buffer).map_err(|_| broken())? {
            httparse::Status::Partial if buffer.len() < MAX_HEAD_LEN => continue,
            httparse::Status::Partial => return Err(broken()),
            httparse::Status::Complete(head_len) => {
                let mut head = Head {
                    status: response.code.ok_or_else(broken)?,
                    cookie: None,
                    length: BodyLength::UntilClose,
                    keep_alive: response.version == Some(1),
                    rest: buffer.get(head_len..).ok_or_else(broken)?.to_vec(),
                };
                for header in response.headers.iter() {
                    let value = std::str::from_utf8(header.value).map_err(|_| broken())?.trim();
                    if header.name.eq_ignore_ascii_case("set-cookie") {
                        if let Some(cookie) = session_cookie(value) {
                            head.cookie = Some(cookie);
                        }
                    } else if header.name.eq_ignore_ascii_case("content-length") {
                        head.length = BodyLength::Declared(value.parse().map_err(|_| broken())?);
                    } else if header.name.eq_ignore_ascii_case("transfer-encoding")
                        && value.eq_ignore_ascii_case("chunked")
                    {
                        head.length = BodyLength::Chunked;
                    } else if header.name.eq_ignore_ascii_case("connection") {
                        head.keep_alive = !value.eq_ignore_ascii_case("close");
                    }
                }
                return Ok(head);
            }
        }
    }
}

/// Why a reply body could not be read.
enum BodyError {
    /// It is larger than the protocol allows (the size declared, or the bound reached).
    TooLarge(usize),
    /// The connection broke or the framing is wrong.
    Broken,
}

/// Reads the body the head announced, never more than [`MAX_EXCHANGE_LEN`] bytes: a larger
/// declared length is refused unread, an undeclared one is read only up to the bound.
async fn read_body(stream: &mut TcpStream, head: Head) -> Result<Vec<u8>, BodyError> {
    let mut reader = Buffered { stream, pending: head.rest, offset: 0 };
    match head.length {
        BodyLength::Declared(len) if len > MAX_EXCHANGE_LEN => Err(BodyError::TooLarge(len)),
        BodyLength::Declared(len) => reader.take(len).await,
        BodyLength::UntilClose => {
            let mut body = Vec::new();
            while let Some(byte) = reader.byte().await? {
                if body.len() == MAX_EXCHANGE_LEN {
                    return Err(BodyError::TooLarge(MAX_EXCHANGE_LEN + 1));
                }
                body.push(byte);
            }
            Ok(body)
        }
        BodyLength::Chunked => {
            let mut body = Vec::new();
            loop {
                let line = reader.line().await?;
                let size = line.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size, 16).map_err(|_| BodyError::Broken)?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !reader.line().await?.is_empty() {}
                    return Ok(body);
                }
                if body.len() + size > MAX_EXCHANGE_LEN {
                    return Err(BodyError::TooLarge(body.len() + size));
                }
                body.extend(reader.take(size).await?);
                if !reader.line().await?.is_empty() {
                    return Err(BodyError::Broken);
                }
            }
        }
    }
}

/// The connection, with the bytes already read past the head.
struct Buffered<'a> {
    stream: &'a mut TcpStream,
    pending: Vec<u8>,
    offset: usize,
}

impl Buffered<'_> {
    /// The next byte, `None` at the end of the stream.
    async fn byte(&mut self) -> Result<Option<u8>, BodyError> {
        if self.offset == self.pending.len() {
            let mut chunk = [0u8; 1024];
            let read = self.stream.read(&mut chunk).await.map_err(|_| BodyError::Broken)?;
            self.pending = chunk.get(..read).ok_or(BodyError::Broken)?.to_vec();
            self.offset = 0;
        }
        let byte = self.pending.get(self.offset).copied();
        self.offset += usize::from(byte.is_some());
        Ok(byte)
    }

    /// Exactly `len` bytes.
    async fn take(&mut self, len: usize) -> Result<Vec<u8>, BodyError> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            out.push(self.byte().await?.ok_or(BodyError::Broken)?);
        }
        Ok(out)
    }

    /// One CRLF-terminated line of chunk framing, without its CRLF (at most 256 bytes).
    async fn line(&mut self) -> Result<String, BodyError> {
        let mut line = Vec::new();
        loop {
            match self.byte().await?.ok_or(BodyError::Broken)? {
                b'\n' if line.last() == Some(&b'\r') => {
                    line.pop();
                    return String::from_utf8(line).map_err(|_| BodyError::Broken);
                }
                _ if line.len() >= 256 => return Err(BodyError::Broken),
                byte => line.push(byte),
            }
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
