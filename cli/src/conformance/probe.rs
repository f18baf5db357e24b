//! Raw HTTP against the backend under test: every answer is kept as it came (status, media
//! type, replay header, JSON body), so a rule can say exactly which request showed a break.

use std::time::Duration;

use serde_json::Value;
use unbox_core::binding::DeviceCredential;
use unbox_core::binding::wire::{IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER};
use unbox_core::http::{HttpClient, Method};
use unbox_core::secret::SecretString;
use url::Url;

/// Why a rule failed: the request that showed it and what was wrong with the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The request and its answer, e.g. `POST /v1/claims/redeem → 200`.
    pub request: String,
    /// What the contract wanted instead.
    pub problem: String,
}

/// What a rule's step produces, or the break it saw.
pub type Step<T> = Result<T, Broken>;

/// Who a request authenticates as.
pub enum Auth<'a> {
    /// Nobody.
    None,
    /// A customer's access token (or any bearer value).
    Bearer(&'a SecretString),
    /// A device, signing the body after `prefix`.
    Device(&'a DeviceCredential, &'static [u8]),
}

/// One answer as received.
#[derive(Debug, Clone)]
pub struct Reply {
    /// `METHOD /path`.
    pub request: String,
    /// HTTP status.
    pub status: u16,
    /// The `Content-Type` without parameters.
    pub content_type: String,
    /// Whether `Idempotent-Replayed: true` came with it.
    pub replayed: bool,
    /// The body as JSON (`null` when empty or not JSON).
    pub body: Value,
}

impl Reply {
    /// `request → status code`, for failure reports.
    pub fn line(&self) -> String {
        match self.body["code"].as_str() {
            Some(code) => format!("{} → {} {code}", self.request, self.status),
            None => format!("{} → {}", self.request, self.status),
        }
    }

    /// A failure of this request.
    pub fn broken(&self, problem: impl Into<String>) -> Broken {
        Broken { request: self.line(), problem: problem.into() }
    }

    /// Expects a success status.
    pub fn expect(self, status: u16) -> Step<Self> {
        if self.status == status { Ok(self) } else { Err(self.broken(format!("expected {status}"))) }
    }

    /// Expects a problem answer: the status, and the code when the body carries one (the
    /// document's shape is the rule `problems.format`).
    pub fn expect_problem(self, status: u16, code: &str) -> Step<Self> {
        let code_ok = self.body["code"].as_str().is_none_or(|c| c == code);
        if self.status == status && code_ok {
            Ok(self)
        } else {
            Err(self.broken(format!("expected {status} {code}")))
        }
    }

    /// A text field of the body.
    pub fn text(&self, name: &str) -> Step<String> {
        self.body[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.broken(format!("no text field `{name}`")))
    }
}

/// The HTTP client of the checker.
pub struct Probe {
    http: HttpClient,
    base: Url,
}

impl Probe {
    /// A probe of the backend at `base` (normalised to end in `/`).
    pub fn new(base: &Url) -> Result<Self, String> {
        let http = HttpClient::new();
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Self { http, base })
    }

    /// Sends one request: `path` relative to the base (with any query), `body` as JSON.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Step<Reply> {
        let label = format!("{method} /{}", path.split('?').next().unwrap_or(path));
        let unreachable = |e: String| Broken { request: label.clone(), problem: e };
        let url = self.base.join(path).map_err(|e| unreachable(e.to_string()))?;
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        let mut request = self.http.request(method, url).timeout(Duration::from_secs(90));
        if let Some(key) = key {
            request = request.header(IDEMPOTENCY_KEY_HEADER, key);
        }
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => request = request.bearer_auth(token.expose()),
            Auth::Device(credential, prefix) => {
                let signed = bytes.as_deref().unwrap_or_default();
                request = request.header("Authorization", credential.authorization_with(prefix, signed));
            }
        }
        if let Some(bytes) = bytes {
            request = request.header("Content-Type", "application/json").body(bytes);
        }
        let response = request.send().await.map_err(|e| unreachable(format!("no answer: {}", e)))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
        };
        let content_type = header("content-type").split(';').next().unwrap_or_default().trim().to_owned();
        let replayed = header(IDEMPOTENT_REPLAYED_HEADER) == "true";
        let text = response
            .bytes_capped(unbox_core::http::BACKEND_REPLY_LIMIT)
            .await
            .map_err(|e| unreachable(format!("answer cut off: {}", e)))?;
        let body = serde_json::from_slice(&text).unwrap_or(Value::Null);
        Ok(Reply { request: label, status, content_type, replayed, body })
    }
}
