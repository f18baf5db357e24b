//! Unbox's HTTP/1.1 client for the internet (identity provider, binding backend): hyper's
//! client connections over TCP, with TLS from [`super::tls`] for `https` URLs, keeping idle
//! connections for reuse. It follows no redirects (an endpoint that must answer directly
//! would otherwise forward credentials to wherever it points) and reads no proxy settings.
//!
//! It replaces reqwest, whose connection pool, proxy matching, redirect policies and tower
//! layers cost the phones' library about 200 KB for the dozen kinds of request Unbox makes.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;
use url::Url;

/// How long connecting (name lookup, TCP and TLS handshakes) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections kept per origin.
const IDLE_PER_ORIGIN: usize = 2;

/// Why a request got no complete answer. The message carries the causes (what the system,
/// rustls or hyper said) after the summary.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL cannot be requested (not http or https, or without a host).
    #[error("`{url}` cannot be requested: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No connection to the host: its name did not resolve or nothing answered.
    #[error("could not connect to {host}: {}", super::error_chain(cause))]
    Connect {
        /// The host and port.
        host: String,
        /// What the system said.
        cause: std::io::Error,
    },
    /// The TLS handshake failed (an untrusted or mismatching certificate, no common cipher suite).
    #[error("could not set up TLS with {host}: {}", super::error_chain(cause))]
    Tls {
        /// The host and port.
        host: String,
        /// What rustls said.
        cause: std::io::Error,
    },
    /// Connecting or the whole request took longer than allowed.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What took too long ("connecting to host:port", "the request").
        what: String,
        /// The limit.
        after: Duration,
    },
    /// The connection failed while sending the request or reading the answer.
    #[error("the connection failed: {}", super::error_chain(.0))]
    Connection(hyper::Error),
    /// The request could not be written as HTTP (an invalid header name or value).
    #[error("the request is not valid HTTP: {0}")]
    Request(http::Error),
}

impl HttpError {
    /// Whether a time limit was reached.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// Whether no connection could be made (name lookup, TCP or TLS).
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Connect { .. } | Self::Tls { .. })
    }
}

/// The client: cheap to clone, and clones share their idle connections.
#[derive(Clone)]
pub struct HttpClient {
    shared: Arc<Shared>,
}

struct Shared {
    tls: tokio_rustls::TlsConnector,
    user_agent: HeaderValue,
    request_timeout: Option<Duration>,
    idle: Mutex<Vec<(String, SendRequest<Full<Bytes>>)>>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("request_timeout", &self.shared.request_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client with Unbox's TLS profile and no overall time limit per request.
    pub fn new() -> Self {
        Self::with_tls(super::tls::client_config(), None)
    }

    /// A client whose requests each end after `limit` unless a request sets its own.
    pub fn with_request_timeout(limit: Duration) -> Self {
        Self::with_tls(super::tls::client_config(), Some(limit))
    }

    fn with_tls(tls: rustls::ClientConfig, request_timeout: Option<Duration>) -> Self {
        Self {
            shared: Arc::new(Shared {
                tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
                user_agent: HeaderValue::from_static(concat!("unbox/", env!("CARGO_PKG_VERSION"))),
                request_timeout,
                idle: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A request of `method` to `url`.
    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        RequestBuilder {
            client: self.clone(),
            method,
            url,
            headers: HeaderMap::new(),
            body: Vec::new(),
            timeout: self.shared.request_timeout,
            invalid: None,
        }
    }

    /// A `GET` of `url`.
    pub fn get(&self, url: Url) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A `POST` to `url`.
    pub fn post(&self, url: Url) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// An idle connection to `origin` that is still open, if any.
    fn take_idle(&self, origin: &str) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.shared.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain(|(_, sender)| !sender.is_closed());
        let position = idle.iter().position(|(key, sender)| key == origin && sender.is_ready())?;
        Some(idle.swap_remove(position).1)
    }

    /// Keeps `sender` for the next request to `origin` (after its last answer was read to the end).
    fn put_idle(&self, origin: String, sender: SendRequest<Full<Bytes>>) {
        let mut idle = self.shared.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.iter().filter(|(key, _)| *key == origin).count() < IDLE_PER_ORIGIN {
            idle.push((origin, sender));
        }
    }

    /// A new connection to `target`, TLS for https.
    async fn connect(&self, target: &Target) -> Result<SendRequest<Full<Bytes>>, HttpError> {
        let host = format!("{}:{}", target.host, target.port);
        let timed_out =
            || HttpError::Timeout { what: format!("connecting to {host}"), after: CONNECT_TIMEOUT };
        let connecting = async {
            let tcp = connect_tcp(&target.host, target.port)
                .await
                .map_err(|cause| HttpError::Connect { host: host.clone(), cause })?;
            let stream: Box<dyn Stream> = if target.tls {
                let name = rustls::pki_types::ServerName::try_from(target.host.clone()).map_err(|_| {
                    HttpError::InvalidUrl {
                        url: host.clone(),
                        reason: "the host is not a valid TLS server name",
                    }
                })?;
                let tls = self.shared.tls.connect(name, tcp).await;
                Box::new(tls.map_err(|cause| HttpError::Tls { host: host.clone(), cause })?)
            } else {
                Box::new(tcp)
            };
            let (sender, connection) =
                http1::handshake(TokioIo::new(stream)).await.map_err(HttpError::Connection)?;
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "HTTP connection ended");
                }
            });
            Ok(sender)
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connecting).await.map_err(|_| timed_out())?
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

/// The byte stream under one connection: TCP or TLS over TCP (one type, so hyper's connection
/// code is compiled once).
trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Connects to the first of the host's addresses that answers.
async fn connect_tcp(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "the name has no address");
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// Where a URL's request goes.
struct Target {
    tls: bool,
    host: String,
    port: u16,
    /// `host` or `host:port` when the port is not the scheme's default, for the Host header.
    authority: String,
    /// The origin's key in the idle pool.
    origin: String,
    /// Path and query.
    path: String,
}

impl Target {
    fn of(url: &Url) -> Result<Self, HttpError> {
        let invalid = |reason| HttpError::InvalidUrl { url: url.to_string(), reason };
        let tls = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(invalid("only http and https are supported")),
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(address)) => address.to_string(),
            Some(host) => host.to_string(),
            None => return Err(invalid("it has no host")),
        };
        let port = url.port_or_known_default().ok_or_else(|| invalid("it has no port"))?;
        let authority = match (url.host_str(), url.port()) {
            (Some(name), Some(port)) => format!("{name}:{port}"),
            (Some(name), None) => name.to_owned(),
            (None, _) => return Err(invalid("it has no host")),
        };
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        let origin = format!("{}://{authority}", url.scheme());
        Ok(Self { tls, host, port, authority, origin, path })
    }
}

/// One request being put together.
pub struct RequestBuilder {
    client: HttpClient,
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Vec<u8>,
    timeout: Option<Duration>,
    /// The first invalid header name or value, reported by `send`.
    invalid: Option<http::Error>,
}

impl RequestBuilder {
    /// Adds a header; an invalid name or value makes `send` fail with [`HttpError::Request`].
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K, Error: Into<http::Error>>,
        HeaderValue: TryFrom<V, Error: Into<http::Error>>,
    {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            (Err(error), _) => self.invalid = self.invalid.or(Some(error.into())),
            (_, Err(error)) => self.invalid = self.invalid.or(Some(error.into())),
        }
        self
    }

    /// Adds `Authorization: Bearer <token>`, marked sensitive (never shown in Debug output).
    pub fn bearer_auth(self, token: &str) -> Self {
        let value = zeroize::Zeroizing::new(format!("Bearer {token}"));
        match HeaderValue::from_str(&value) {
            Ok(mut value) => {
                value.set_sensitive(true);
                self.header(http::header::AUTHORIZATION, value)
            }
            Err(error) => Self { invalid: self.invalid.or(Some(error.into())), ..self },
        }
    }

    /// Sets the body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Sets the body to `pairs` as `application/x-www-form-urlencoded`.
    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        self.header(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"))
            .body(body.into_bytes())
    }

    /// Ends the request (connecting, sending and reading the whole answer) after `limit`.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Sends the request and waits for the answer's head; read the body from the response.
    pub async fn send(self) -> Result<Response, HttpError> {
        let deadline = self.timeout.map(|limit| (Instant::now() + limit, limit));
        let sending = self.send_untimed(deadline);
        match deadline {
            Some((at, after)) => tokio::time::timeout_at(at, sending)
                .await
                .map_err(|_| HttpError::Timeout { what: "the request".into(), after })?,
            None => sending.await,
        }
    }

    async fn send_untimed(self, deadline: Option<(Instant, Duration)>) -> Result<Response, HttpError> {
        if let Some(invalid) = self.invalid {
            return Err(HttpError::Request(invalid));
        }
        let target = Target::of(&self.url)?;
        let mut request = http::Request::builder().method(self.method).uri(target.path.as_str());
        let headers = request.headers_mut().expect("the builder holds no error yet");
        *headers = self.headers;
        headers.insert(
            HOST,
            HeaderValue::from_str(&target.authority).map_err(|e| HttpError::Request(e.into()))?,
        );
        headers.entry(USER_AGENT).or_insert_with(|| self.client.shared.user_agent.clone());
        let mut request = request.body(Full::new(Bytes::from(self.body))).map_err(HttpError::Request)?;

        // A kept connection the server closed meanwhile hands the unsent request back: then
        // it goes out on a new connection.
        if let Some(mut sender) = self.client.take_idle(&target.origin) {
            match sender.try_send_request(request).await {
                Ok(response) => {
                    return Ok(Response::new(response, &self.client, target.origin, sender, deadline));
                }
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(HttpError::Connection(failed.into_error())),
                },
            }
        }
        let mut sender = self.client.connect(&target).await?;
        let response = sender.send_request(request).await.map_err(HttpError::Connection)?;
        Ok(Response::new(response, &self.client, target.origin, sender, deadline))
    }
}

/// An answer whose head has arrived; its body is read with [`Response::bytes_capped`].
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Incoming,
    deadline: Option<(Instant, Duration)>,
    /// The connection, returned to the client once the body has been read to its end.
    reuse: (HttpClient, String, SendRequest<Full<Bytes>>),
}

impl Response {
    fn new(
        response: http::Response<Incoming>,
        client: &HttpClient,
        origin: String,
        sender: SendRequest<Full<Bytes>>,
        deadline: Option<(Instant, Duration)>,
    ) -> Self {
        let (head, body) = response.into_parts();
        Self {
            status: head.status,
            headers: head.headers,
            body,
            deadline,
            reuse: (client.clone(), origin, sender),
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Content-Length` the server declared, if any.
    pub fn content_length(&self) -> Option<u64> {
        self.headers.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
    }

    /// Reads the body, at most `limit` bytes: refused at once when its `Content-Length` says
    /// more, and read frame by frame otherwise, stopping at the limit, so a hostile server
    /// cannot make the phone buffer more.
    pub async fn bytes_capped(self, limit: usize) -> Result<Vec<u8>, super::ReadError> {
        let deadline = self.deadline;
        let reading = self.read_capped_untimed(limit);
        match deadline {
            Some((at, after)) => tokio::time::timeout_at(at, reading)
                .await
                .map_err(|_| HttpError::Timeout { what: "the request".into(), after })?,
            None => reading.await,
        }
    }

    async fn read_capped_untimed(mut self, limit: usize) -> Result<Vec<u8>, super::ReadError> {
        if self.content_length().is_some_and(|length| length > limit as u64) {
            return Err(super::ReadError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(frame) = self.body.frame().await {
            let frame = frame.map_err(HttpError::Connection)?;
            if let Ok(chunk) = frame.into_data() {
                if body.len() + chunk.len() > limit {
                    return Err(super::ReadError::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
        }
        let (client, origin, sender) = self.reuse;
        client.put_idle(origin, sender);
        Ok(body)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response").field("status", &self.status).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;
    use crate::http::ReadError;

    /// What the test server saw: each request's head and body, and how many connections.
    #[derive(Default)]
    struct Seen {
        requests: Mutex<Vec<String>>,
        connections: AtomicUsize,
    }

    /// Answers the requests on each connection with `answers` in turn (shared by all
    /// connections); an answer of `None` closes the connection instead.
    async fn server(answers: Vec<Option<&'static str>>) -> (Url, Arc<Seen>) {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let seen = Arc::new(Seen::default());
        let answers = Arc::new(Mutex::new(answers.into_iter()));
        let record = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                record.connections.fetch_add(1, Ordering::SeqCst);
                let (record, answers) = (Arc::clone(&record), Arc::clone(&answers));
                tokio::spawn(async move { answer(stream, &record, &answers).await });
            }
        });
        (url, seen)
    }

    async fn answer(
        stream: impl AsyncRead + AsyncWrite + Unpin,
        seen: &Seen,
        answers: &Mutex<std::vec::IntoIter<Option<&'static str>>>,
    ) {
        let mut stream = BufReader::new(stream);
        loop {
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned)
                })
                .map_or(0, |length| length.trim().parse().unwrap());
            let mut body = vec![0; length];
            stream.read_exact(&mut body).await.unwrap();
            seen.requests.lock().unwrap().push(head + &String::from_utf8(body).unwrap());
            let next = answers.lock().unwrap().next().flatten();
            match next {
                Some(reply) => stream.get_mut().write_all(reply.as_bytes()).await.unwrap(),
                None => return,
            }
        }
    }

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";

    #[tokio::test]
    async fn sends_host_and_agent_and_reuses_the_connection() {
        let (url, seen) = server(vec![Some(OK), Some(OK)]).await;
        let client = HttpClient::new();
        for _ in 0..2 {
            let response =
                client.get(url.join("a?b=c").unwrap()).header("Accept", "text/plain").send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.content_length(), Some(5));
            assert_eq!(response.bytes_capped(100).await.unwrap(), b"hello");
        }
        assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
        let requests = seen.requests.lock().unwrap();
        let first = requests[0].to_ascii_lowercase();
        assert!(first.starts_with("get /a?b=c http/1.1\r\n"), "{first}");
        let port = url.port().unwrap();
        assert!(first.contains(&format!("host: 127.0.0.1:{port}\r\n")), "{first}");
        assert!(first.contains("user-agent: unbox/"), "{first}");
        assert!(first.contains("accept: text/plain\r\n"), "{first}");
    }

    #[tokio::test]
    async fn posts_a_form_and_reads_a_chunked_answer() {
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let (url, seen) = server(vec![Some(chunked)]).await;
        let response =
            HttpClient::new().post(url).form(&[("token", "a b&c"), ("hint", "x")]).send().await.unwrap();
        assert_eq!(response.bytes_capped(100).await.unwrap(), b"abcde");
        let request = seen.requests.lock().unwrap()[0].clone();
        assert!(request.contains("content-type: application/x-www-form-urlencoded\r\n"), "{request}");
        assert!(request.ends_with("\r\n\r\ntoken=a+b%26c&hint=x"), "{request}");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_declared_or_streamed() {
        let streamed =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
        let (url, _) = server(vec![Some(OK), Some(streamed)]).await;
        let client = HttpClient::new();
        for _ in 0..2 {
            let read = client.get(url.clone()).send().await.unwrap().bytes_capped(4).await;
            assert!(matches!(read, Err(ReadError::TooLarge { limit: 4 })), "{read:?}");
        }
    }

    #[tokio::test]
    async fn a_kept_connection_the_server_closed_is_replaced() {
        // The first connection answers once and closes when the second request arrives.
        let (url, seen) = server(vec![Some(OK), None, Some(OK)]).await;
        let client = HttpClient::new();
        for _ in 0..2 {
            let response = client.get(url.clone()).send().await;
            match response {
                Ok(response) => assert_eq!(response.bytes_capped(100).await.unwrap(), b"hello"),
                // The request went out before the close was seen: the server got it, so it is
                // not resent (it may not be idempotent); the caller's retry decides.
                Err(error) => assert!(matches!(error, HttpError::Connection(_)), "{error}"),
            }
        }
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.bytes_capped(100).await.unwrap(), b"hello");
        assert!(seen.connections.load(Ordering::SeqCst) >= 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_server_times_out() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let _held = tokio::spawn(async move {
            let (_stream, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await;
        });
        let error =
            HttpClient::with_request_timeout(Duration::from_secs(3)).get(url).send().await.unwrap_err();
        assert!(error.is_timeout(), "{error}");
        assert_eq!(error.to_string(), "the request timed out after 3s");
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_error_naming_the_host() {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let error = HttpClient::new()
            .get(Url::parse(&format!("http://{address}/")).unwrap())
            .send()
            .await
            .unwrap_err();
        assert!(error.is_connect(), "{error}");
        assert!(error.to_string().starts_with(&format!("could not connect to {address}: ")), "{error}");
    }

    #[tokio::test]
    async fn unusable_urls_and_headers_are_refused_before_connecting() {
        let client = HttpClient::new();
        let ftp = client.get(Url::parse("ftp://example.test/").unwrap()).send().await.unwrap_err();
        assert!(matches!(ftp, HttpError::InvalidUrl { .. }), "{ftp}");
        let header = client.get(Url::parse("http://127.0.0.1:9/").unwrap()).header("x", "a\nb").send().await;
        assert!(matches!(header, Err(HttpError::Request(_))), "{header:?}");
    }

    #[tokio::test]
    async fn speaks_https_with_the_tls_profile_and_checks_the_name() {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = certified.cert.der().clone();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.clone()).unwrap();
        let server_config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert], key)
                .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        let record = Arc::clone(&seen);
        tokio::spawn(async move {
            let answers = Arc::new(Mutex::new(vec![Some(OK)].into_iter()));
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, record, answers) =
                    (acceptor.clone(), Arc::clone(&record), Arc::clone(&answers));
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        answer(tls, &record, &answers).await;
                    }
                });
            }
        });
        let client = HttpClient::with_tls(super::super::tls::client_config_trusting(roots), None);
        let url = Url::parse(&format!("https://localhost:{port}/secure")).unwrap();
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.bytes_capped(100).await.unwrap(), b"hello");
        // The certificate names localhost, not the address.
        let by_address = Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap();
        let error = client.get(by_address).send().await.unwrap_err();
        assert!(matches!(error, HttpError::Tls { .. }), "{error}");
        assert!(error.to_string().contains("certificate"), "{error}");
    }
}
