//! The simulated device's SoftAP HTTP server, with ESP-IDF's socket and cookie rules:
//! one open socket at a time (a new connection evicts the old one), `POST /<endpoint>` with a
//! 1..4096-byte body, `Set-Cookie: session=<n>` on the first reply of a session, and a request
//! that carries neither the session's cookie nor arrives on the session's socket starting a
//! new session. A failed handler closes the socket without an HTTP answer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::device::{SessionKey, SimDevice};

const MAX_BODY: usize = 4096;

#[derive(Default)]
struct Sessions {
    next_socket: u64,
    open_socket: Option<(u64, oneshot::Sender<()>)>,
    current: Option<HttpSession>,
}

#[derive(Clone, Copy)]
struct HttpSession {
    cookie: u32,
    socket: u64,
}

/// A running SoftAP server for one simulated device.
pub struct SoftApServer {
    address: SocketAddr,
    accepted: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl SoftApServer {
    /// Serves `device` on `listener` until dropped or [`SoftApServer::shutdown`].
    pub fn spawn(device: SimDevice, listener: TcpListener) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let accepted = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept_loop(device, listener, accepted.clone()));
        Ok(Self { address, accepted, task })
    }

    /// Binds `address` (e.g. `127.0.0.1:0`) and serves `device` there.
    pub async fn bind(device: SimDevice, address: &str) -> std::io::Result<Self> {
        Self::spawn(device, TcpListener::bind(address).await?)
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// How many TCP connections the server has accepted so far (each one evicted the previous).
    pub fn connections_accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Stops accepting and closes the open socket.
    pub fn shutdown(&self) {
        self.task.abort();
    }
}

impl Drop for SoftApServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(device: SimDevice, listener: TcpListener, accepted: Arc<AtomicU64>) {
    let sessions = Arc::new(Mutex::new(Sessions::default()));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, peer)) = listener.accept().await else { continue };
        accepted.fetch_add(1, Ordering::Relaxed);
        let (close_tx, close_rx) = oneshot::channel();
        let socket = {
            let mut s = sessions.lock().unwrap_or_else(|p| p.into_inner());
            s.next_socket += 1;
            let socket = s.next_socket;
            // max_open_sockets = 1 with LRU purge: the new connection evicts the old one at
            // accept time, whatever it was doing (protocomm_httpd.c, `lru_purge_enable`).
            if let Some((evicted_socket, evicted)) = s.open_socket.replace((socket, close_tx)) {
                tracing::info!(
                    socket = evicted_socket,
                    "device: LRU purge of socket (new connection, max_open_sockets 1)"
                );
                let _ = evicted.send(());
            }
            socket
        };
        tracing::debug!(%peer, socket, "device: new socket");
        let device = device.clone();
        let sessions = sessions.clone();
        connections.spawn(serve_socket(device, sessions, socket, stream, close_rx));
        while connections.try_join_next().is_some() {}
    }
}

async fn serve_socket(
    device: SimDevice,
    sessions: Arc<Mutex<Sessions>>,
    socket: u64,
    stream: tokio::net::TcpStream,
    close: oneshot::Receiver<()>,
) {
    let service = {
        let sessions = sessions.clone();
        service_fn(move |request| handle(device.clone(), sessions.clone(), socket, request))
    };
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => if let Err(error) = result {
            tracing::debug!(socket, %error, "device: socket closed");
        },
        _ = close => tracing::debug!(socket, "device: socket evicted by a newer one"),
    }
    let mut s = sessions.lock().unwrap_or_else(|p| p.into_inner());
    if s.open_socket.as_ref().is_some_and(|(open, _)| *open == socket) {
        s.open_socket = None;
    }
}

/// The handler failed: hyper closes the connection without writing a response.
#[derive(Debug)]
struct DropSocket;

impl std::fmt::Display for DropSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("handler failed; closing the socket")
    }
}

impl std::error::Error for DropSocket {}

/// What a request's `Cookie` header says about its session.
enum SessionCookie {
    /// No `Cookie` header: the session is the socket's.
    Absent,
    /// Exactly `session=<id>`.
    Session(u32),
    /// Anything else: never the current session.
    Other,
}

/// protocomm_httpd.c reads the `Cookie` header into a 20-byte buffer and takes the request as
/// the session's only when it is exactly `session=<id>`.
fn session_cookie(request: &Request<Incoming>) -> SessionCookie {
    let Some(value) = request.headers().get(header::COOKIE) else { return SessionCookie::Absent };
    let id = value
        .to_str()
        .ok()
        .filter(|text| text.len() < 20)
        .and_then(|text| text.strip_prefix("session="))
        .and_then(|id| id.parse().ok());
    id.map_or(SessionCookie::Other, SessionCookie::Session)
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}

async fn handle(
    device: SimDevice,
    sessions: Arc<Mutex<Sessions>>,
    socket: u64,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropSocket> {
    let endpoint = request.uri().path().trim_start_matches('/').to_owned();
    if request.method() != Method::POST {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "POST only"));
    }
    if !device.endpoint_names().contains(&endpoint) {
        return Ok(plain(StatusCode::NOT_FOUND, "Nothing matches the given URI"));
    }
    let cookie = session_cookie(&request);
    let (session, new_cookie) = {
        let mut s = sessions.lock().unwrap_or_else(|p| p.into_inner());
        let same = match (s.current, cookie) {
            (Some(current), SessionCookie::Session(cookie)) => current.cookie == cookie,
            (Some(current), SessionCookie::Absent) => current.socket == socket,
            (Some(_), SessionCookie::Other) | (None, _) => false,
        };
        if same {
            let current = s.current.as_mut().ok_or(DropSocket)?;
            current.socket = socket;
            (SessionKey::from(current.cookie), None)
        } else {
            if let Some(old) = s.current {
                device.end_session(SessionKey::from(old.cookie));
            }
            let cookie = rand::random::<u32>();
            s.current = Some(HttpSession { cookie, socket });
            (SessionKey::from(cookie), Some(cookie))
        }
    };
    let body =
        Limited::new(request.into_body(), MAX_BODY).collect().await.map_err(|_| DropSocket)?.to_bytes();
    let delay = device.next_reply_delay() + device.config().softap_latency.sample();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match device.handle(session, &endpoint, &body) {
        Ok(reply) => {
            tracing::info!(endpoint, request_len = body.len(), reply_len = reply.len(), "device: exchange");
            let mut response = Response::new(Full::new(Bytes::from(reply)));
            // httpd's default type; protocomm_httpd sets none of its own.
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html"));
            if let Some(cookie) = new_cookie {
                // protocomm_httpd.c sends exactly `session=<id>`.
                let value = format!("session={cookie}");
                response.headers_mut().insert(header::SET_COOKIE, value.parse().map_err(|_| DropSocket)?);
            }
            Ok(response)
        }
        Err(failure) => {
            tracing::warn!(%failure, "device: handler failed, closing socket");
            Err(DropSocket)
        }
    }
}
