//! What the fuzz targets share: one runtime, a scripted device behind a real device-side security
//! session, a loopback HTTP server that answers with the fuzzer's bytes, and the input framing.
//!
//! Every target drives the library through its public API only, as an app would.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use unbox_core::device::{DeviceInfo, DeviceSession, SESSION_ENDPOINT};
use unbox_core::secret::SecretString;
use unbox_core::security::{
    ClientCredentials, DeviceSecrets, DeviceSecurity, Sec2PatchVersion, Sec2Verifier, client_handshake,
    device_security,
};
use unbox_core::transport::{Transport, TransportError, TransportKind};

/// The one single-threaded runtime every target runs its async calls on.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
    })
}

/// Splits fuzz input into frames: each frame is a little-endian u16 length and that many bytes;
/// a short last frame takes what is left. The seed corpora are written in this framing.
pub fn frames(mut data: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    while data.len() >= 2 && frames.len() < 16 {
        let len = usize::from(u16::from_le_bytes([data[0], data[1]]));
        data = &data[2..];
        let len = len.min(data.len());
        frames.push(&data[..len]);
        data = &data[len..];
    }
    frames
}

/// Writes `frames` in the framing `frames` reads (for the seed corpora).
pub fn framed(frames: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        out.extend_from_slice(&u16::try_from(frame.len()).expect("a short frame").to_le_bytes());
        out.extend_from_slice(frame);
    }
    out
}

/// The security 2 username of the scripted device.
pub const SEC2_USERNAME: &str = "wifiprov";
/// The proof of possession (security 1) and password (security 2) of the scripted device.
pub const POP: &str = "abcd1234";

/// The schemes the scripted device can run, selected by one input byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Security 0.
    Sec0,
    /// Security 1 with a proof of possession.
    Sec1,
    /// Security 2, `sec_patch_ver` 0.
    Sec2Patch0,
    /// Security 2, `sec_patch_ver` 1.
    Sec2Patch1,
}

impl Scheme {
    /// The scheme byte `selector` names.
    pub fn from_byte(selector: u8) -> Self {
        match selector % 4 {
            0 => Self::Sec0,
            1 => Self::Sec1,
            2 => Self::Sec2Patch0,
            _ => Self::Sec2Patch1,
        }
    }

    /// What the app knows.
    pub fn client_credentials(self) -> ClientCredentials {
        match self {
            Self::Sec0 => ClientCredentials::Sec0,
            Self::Sec1 => ClientCredentials::Sec1 { pop: SecretString::new(POP.to_owned()) },
            Self::Sec2Patch0 | Self::Sec2Patch1 => ClientCredentials::Sec2 {
                username: SEC2_USERNAME.to_owned(),
                password: SecretString::new(POP.to_owned()),
            },
        }
    }

    /// What the device is configured with.
    pub fn device_credentials(self) -> DeviceSecrets {
        match self {
            Self::Sec0 => DeviceSecrets::Sec0,
            Self::Sec1 => DeviceSecrets::Sec1 { pop: SecretString::new(POP.to_owned()) },
            Self::Sec2Patch0 => {
                DeviceSecrets::Sec2 { verifier: verifier(), patch: Sec2PatchVersion::StaticNonce }
            }
            Self::Sec2Patch1 => {
                DeviceSecrets::Sec2 { verifier: verifier(), patch: Sec2PatchVersion::NonceCounter }
            }
        }
    }

    /// The `sec_patch_ver` the device announces.
    pub fn patch_version(self) -> u32 {
        u32::from(self == Self::Sec2Patch1)
    }

    /// The device's version info announcing this scheme.
    pub fn info(self) -> DeviceInfo {
        let sec_ver = match self {
            Self::Sec0 => 0,
            Self::Sec1 => 1,
            Self::Sec2Patch0 | Self::Sec2Patch1 => 2,
        };
        let reply = format!(
            r#"{{"prov":{{"ver":"v1.1","sec_ver":{sec_ver},"sec_patch_ver":{},"cap":["wifi_scan"]}}}}"#,
            self.patch_version()
        );
        DeviceInfo::parse(reply.as_bytes()).expect("the scripted device's version info")
    }
}

/// One salt and verifier for every security 2 session (deriving it is a 3072-bit exponentiation).
fn verifier() -> Sec2Verifier {
    static VERIFIER: OnceLock<Sec2Verifier> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            Sec2Verifier::generate(SEC2_USERNAME, &SecretString::new(POP.to_owned())).expect("a verifier")
        })
        .clone()
}

/// How the scripted device sends its scripted replies once the session is established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replies {
    /// Encrypted with the session cipher, as firmware does: the fuzzer controls the plaintext.
    Encrypted,
    /// As they are: the fuzzer controls the ciphertext.
    Raw,
}

/// A device that runs the real device side of the handshake on `prov-session` and answers every
/// other endpoint with the next scripted reply; out of replies, the link is lost.
pub struct ScriptedDevice {
    security: Mutex<Box<dyn DeviceSecurity>>,
    replies: Mutex<VecDeque<Vec<u8>>>,
    mode: Replies,
}

impl ScriptedDevice {
    /// A device running `scheme` that will answer with `replies`.
    pub fn new(scheme: Scheme, replies: Vec<Vec<u8>>, mode: Replies) -> Arc<Self> {
        Arc::new(Self {
            security: Mutex::new(device_security(&scheme.device_credentials())),
            replies: Mutex::new(replies.into()),
            mode,
        })
    }

    fn next_reply(&self, endpoint: &str) -> Result<Vec<u8>, TransportError> {
        self.replies
            .lock()
            .expect("replies")
            .pop_front()
            .ok_or_else(|| TransportError::SessionLost { endpoint: endpoint.to_owned() })
    }
}

#[async_trait]
impl Transport for ScriptedDevice {
    async fn exchange(&self, endpoint: &str, request: &[u8]) -> Result<Vec<u8>, TransportError> {
        let lost = || TransportError::SessionLost { endpoint: endpoint.to_owned() };
        let mut security = self.security.lock().expect("security");
        if endpoint == SESSION_ENDPOINT {
            return security.on_session_request(request).map_err(|_| lost());
        }
        let reply = self.next_reply(endpoint)?;
        let Some(cipher) = security.cipher() else { return Ok(reply) };
        // The device reads the request first: both directions share the cipher's state.
        cipher.decrypt(request).map_err(|_| lost())?;
        match self.mode {
            Replies::Encrypted => cipher.encrypt(&reply).map_err(|_| lost()),
            Replies::Raw => Ok(reply),
        }
    }

    fn max_message_len(&self) -> usize {
        4096
    }

    fn kind(&self) -> TransportKind {
        TransportKind::SoftAp
    }

    async fn close(&self) {}
}

/// A session with a scripted device after a real handshake.
pub async fn session(scheme: Scheme, replies: Vec<Vec<u8>>, mode: Replies) -> DeviceSession {
    let device = ScriptedDevice::new(scheme, replies, mode);
    DeviceSession::establish(
        device,
        scheme.info(),
        client_handshake(&scheme.client_credentials(), scheme.patch_version()),
    )
    .await
    .expect("a handshake with the scripted device")
}

/// An HTTP/1.1 server on loopback that answers every request with the response set last; one
/// per process, serving on the shared runtime.
pub struct ScriptedServer {
    address: SocketAddr,
    response: Arc<Mutex<Vec<u8>>>,
}

/// Statuses a hostile server picks from (one input byte).
pub const STATUSES: [u16; 12] = [200, 201, 204, 302, 400, 401, 403, 404, 409, 410, 429, 503];
/// Content types a hostile server picks from (one input byte).
pub const CONTENT_TYPES: [&str; 5] =
    ["application/json", "application/problem+json", "text/html", "application/json; charset=utf-8", ""];

impl ScriptedServer {
    /// The process's server, started on first use.
    pub fn get() -> &'static Self {
        static SERVER: OnceLock<ScriptedServer> = OnceLock::new();
        SERVER.get_or_init(|| runtime().block_on(Self::start()))
    }

    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let address = listener.local_addr().expect("the port");
        let response = Arc::new(Mutex::new(Vec::new()));
        let shared = response.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let response = shared.lock().expect("response").clone();
                tokio::spawn(serve(stream, response));
            }
        });
        Self { address, response }
    }

    /// `http://127.0.0.1:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Answers from now on with `status`, `content_type`, `extra_headers` (each `Name: value`
    /// line without its CRLF; lines that are not header text are dropped) and `body`.
    pub fn respond(&self, status: u16, content_type: &str, extra_headers: &[&[u8]], body: &[u8]) {
        let mut head =
            format!("HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
        if !content_type.is_empty() {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        for header in extra_headers {
            if let Ok(text) = std::str::from_utf8(header)
                && text.contains(':')
                && text.chars().all(|c| (' '..='~').contains(&c))
            {
                head.push_str(text);
                head.push_str("\r\n");
            }
        }
        head.push_str("\r\n");
        let mut response = head.into_bytes();
        response.extend_from_slice(body);
        *self.response.lock().expect("response") = response;
    }

    /// Answers with the first frames of `data`: status byte, content-type byte, a header line,
    /// and the body.
    pub fn respond_with_frames(&self, frames: &[&[u8]]) {
        let pick = |index: usize| frames.get(index).and_then(|frame| frame.first()).copied().unwrap_or(0);
        let status = STATUSES[usize::from(pick(0)) % STATUSES.len()];
        let content_type = CONTENT_TYPES[usize::from(pick(1)) % CONTENT_TYPES.len()];
        let header: &[&[u8]] = match frames.get(2) {
            Some(header) if !header.is_empty() => &frames[2..3],
            _ => &[],
        };
        self.respond(status, content_type, header, frames.get(3).copied().unwrap_or_default());
    }
}

/// Reads one request (head and a Content-Length body) and writes `response`.
async fn serve(mut stream: tokio::net::TcpStream, response: Vec<u8>) {
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    let body_start = loop {
        let Ok(read) = stream.read(&mut chunk).await else { return };
        if read == 0 {
            return;
        }
        request.extend_from_slice(&chunk[..read]);
        if let Some(end) = request.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..body_start]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while request.len() < body_start + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&chunk[..read]),
        }
    }
    let _ = stream.write_all(&response).await;
    let _ = stream.shutdown().await;
}

/// The `state` of a sign-in attempt, read from its authorization URL as the provider would.
pub fn state_of(request: &unbox_core::auth::AuthorizationRequest) -> String {
    url::Url::parse(request.url())
        .expect("the authorization URL")
        .query_pairs()
        .find(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .expect("a state")
}
