//! A simulated captive-portal device, as tzapu/WiFiManager v2 (`WiFiManager.cpp`) behaves in
//! its blocking config portal: real HTTP on loopback with its routes (`/`, `/wifi`, `/0wifi`,
//! `/wifisave`, `/info`, `/param`, `/paramsave`, `/restart`, `/exit`, `/close`, `/erase`,
//! `/update`), the captive redirect of `/` and unknown paths whose `Host` is not the server's
//! own address (`captivePortal`), `/wifisave` reading `s`, `p` and each custom parameter by id
//! from the query or the url-encoded body (`handleWifiSave`, `doParamSave`: values cut to the
//! parameter's length), answering "Credentials saved" at once with
//! `Access-Control-Allow-Origin: *`, then, after `_cpclosedelay` (2 s), trying the network:
//! on success the portal and access point shut down; on failure the portal stays open with the
//! submitted SSID and password cleared. A claim field, when declared, makes the device redeem
//! the token once online.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use unbox_core::binding::{ClaimRedeemer, DeviceCredential};
use unbox_core::secret::SecretString;
use url::Url;

use super::claim::Redemption;
use super::wifi::SimNetwork;

/// WiFiManager's `_cpclosedelay`: the wait after the "saved" answer before it tries the network.
pub const CLOSE_DELAY: Duration = Duration::from_secs(2);
/// Largest form body read (the firmware's web server buffers a few KB).
const MAX_FORM: usize = 8 * 1024;

/// A custom `WiFiManagerParameter`: id, label and length (the most characters kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalParam {
    /// The parameter's id, the form field's name.
    pub id: String,
    /// Its label on the page.
    pub label: String,
    /// The most characters the firmware keeps.
    pub max_len: usize,
}

/// The claim support of a portal firmware: the field carrying the token and how the device
/// redeems it.
#[derive(Clone)]
pub struct PortalClaim {
    /// The field's id.
    pub field: String,
    /// The device's credential, registered at the backend.
    pub credential: DeviceCredential,
    /// The backend the firmware redeems at.
    pub backend: Url,
}

/// Faults of a portal device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortalFaults {
    /// `/wifi` and `/0wifi` answer a page without the form (another captive portal).
    pub garbage_page: bool,
    /// The firmware serves no Wi-Fi page (`/wifi` and `/0wifi` are 404).
    pub no_wifi_page: bool,
    /// `/wifisave` closes the connection without an answer.
    pub drop_save: bool,
    /// Every answer is delayed this long.
    pub reply_delay: Duration,
    /// The device never manages to join, whatever the password.
    pub never_connect: bool,
}

/// How a portal device is set up.
#[derive(Clone)]
pub struct PortalConfig {
    /// Its access point's SSID (WiFiManager's default: `ESP` + chip id).
    pub ap_ssid: String,
    /// The networks its scan finds.
    pub networks: Vec<SimNetwork>,
    /// Its custom parameters, shown in the Wi-Fi form (`_paramsInWifi`).
    pub params: Vec<PortalParam>,
    /// Its claim support, if any (the claim field is then one of the parameters).
    pub claim: Option<PortalClaim>,
    /// The wait between the "saved" answer and trying the network ([`CLOSE_DELAY`]).
    pub close_delay: Duration,
    /// How long joining takes once it tries.
    pub join_time: Duration,
    /// Faults to inject.
    pub faults: PortalFaults,
}

impl PortalConfig {
    /// A device with the default WiFiManager behaviour that sees `networks`.
    pub fn new(ap_ssid: impl Into<String>, networks: Vec<SimNetwork>) -> Self {
        Self {
            ap_ssid: ap_ssid.into(),
            networks,
            params: Vec::new(),
            claim: None,
            close_delay: CLOSE_DELAY,
            join_time: Duration::from_millis(500),
            faults: PortalFaults::default(),
        }
    }

    /// Adds claim support: a parameter `field` of 80 characters redeemed with `credential`.
    pub fn with_claim(mut self, field: &str, credential: DeviceCredential, backend: Url) -> Self {
        self.params.push(PortalParam { id: field.to_owned(), label: "Claim token".into(), max_len: 80 });
        self.claim = Some(PortalClaim { field: field.to_owned(), credential, backend });
        self
    }
}

/// What the device stores and does, as the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalState {
    /// The portal is open, waiting for the form.
    Open,
    /// The form arrived; the device waits its close delay and tries the network.
    Joining,
    /// Joined: the portal and the access point are down.
    Online {
        /// The network.
        ssid: String,
    },
    /// The portal was closed without joining (`/exit`).
    Closed,
}

struct Inner {
    config: PortalConfig,
    state: watch::Sender<PortalState>,
    saved: Mutex<HashMap<String, String>>,
    saves: Mutex<u32>,
    redemption: watch::Sender<Redemption>,
}

/// A simulated portal device.
#[derive(Clone)]
pub struct SimPortal {
    inner: Arc<Inner>,
}

impl SimPortal {
    /// A device in portal mode.
    pub fn new(config: PortalConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                state: watch::channel(PortalState::Open).0,
                saved: Mutex::new(HashMap::new()),
                saves: Mutex::new(0),
                redemption: watch::channel(Redemption::Waiting).0,
            }),
        }
    }

    /// Its access point's SSID.
    pub fn ap_ssid(&self) -> &str {
        &self.inner.config.ap_ssid
    }

    /// Follows its state; the access point is up while the state is open or joining.
    pub fn state(&self) -> watch::Receiver<PortalState> {
        self.inner.state.subscribe()
    }

    /// Follows its claim redemption.
    pub fn redemption(&self) -> watch::Receiver<Redemption> {
        self.inner.redemption.subscribe()
    }

    /// The value the firmware stored for a field (`s`, `p` or a parameter id), as cut to its length.
    pub fn saved(&self, field: &str) -> Option<String> {
        lock(&self.inner.saved).get(field).cloned()
    }

    /// How many times `/wifisave` was posted.
    pub fn saves(&self) -> u32 {
        *lock(&self.inner.saves)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running portal web server; it stops when the device leaves portal mode.
pub struct PortalServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl PortalServer {
    /// Binds `address` (e.g. `127.0.0.1:0`) and serves `portal` there.
    pub async fn bind(portal: SimPortal, address: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(serve(portal, listener, address));
        Ok(Self { address, task })
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for PortalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(portal: SimPortal, listener: TcpListener, own: SocketAddr) {
    let mut state = portal.state();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // The portal and its access point shut down: nothing answers any more.
            _ = state.wait_for(|s| matches!(s, PortalState::Online { .. } | PortalState::Closed)) => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let portal = portal.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| handle(portal.clone(), own, request));
            // ESP8266WebServer/WebServer: one request per connection, then close.
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "portal: connection closed");
            }
        });
        while connections.try_join_next().is_some() {}
    }
}

/// The handler gave no answer: hyper closes the connection.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped without an answer")
    }
}

impl std::error::Error for Dropped {}

type Reply = Result<Response<Full<Bytes>>, Dropped>;

fn html(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html"));
    response
}

/// A page with WiFiManager's frame (`getHTTPHead`, `HTTP_END`), without its style and script.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang='en'><head><meta name='viewport' content='width=device-width,initial-scale=1,user-scalable=no'/>\
         <title>{title}</title></head><body class=''><div class='wrap'>{body}</div></body></html>"
    )
}

/// WiFiManager's `htmlEntities`: `& < > '`, and spaces too when `whitespace`.
fn entities(text: &str, whitespace: bool) -> String {
    let text = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\'', "&#39;");
    if whitespace { text.replace(' ', "&#160;") } else { text }
}

/// `getRSSIasQuality`.
fn quality(rssi: i32) -> i32 {
    (2 * (rssi + 100)).clamp(0, 100)
}

async fn handle(portal: SimPortal, own: SocketAddr, request: Request<Incoming>) -> Reply {
    let config = &portal.inner.config;
    if !config.faults.reply_delay.is_zero() {
        tokio::time::sleep(config.faults.reply_delay).await;
    }
    let path = request.uri().path().to_owned();
    let host =
        request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default().to_owned();
    let own_location = own.to_string();
    let captive = |path: &str| matches!(path, "/" | "/update") || !is_route(path);
    if captive(&path) && host != own_location {
        // `captivePortal`: any other host goes to the portal's own address.
        let mut response = html(StatusCode::FOUND, String::new());
        let location =
            header::HeaderValue::from_str(&format!("http://{own_location}")).map_err(|_| Dropped)?;
        response.headers_mut().insert(header::LOCATION, location);
        return Ok(response);
    }
    match path.as_str() {
        "/" => Ok(html(
            StatusCode::OK,
            page(
                &config.ap_ssid,
                "<form action='/wifi' method='get'><button>Configure WiFi</button></form>\
            <form action='/0wifi' method='get'><button>Configure WiFi (No scan)</button></form>\
            <form action='/info' method='get'><button>Info</button></form><form action='/exit' method='get'><button>Exit</button></form>",
            ),
        )),
        "/wifi" | "/0wifi" if config.faults.no_wifi_page => Ok(not_found()),
        "/wifi" | "/0wifi" if config.faults.garbage_page => Ok(html(
            StatusCode::OK,
            page("Welcome", "<p>Please accept the terms of use.</p><a href='/accept'>Accept</a>"),
        )),
        "/wifi" => Ok(html(StatusCode::OK, wifi_page(config, true))),
        "/0wifi" => Ok(html(StatusCode::OK, wifi_page(config, false))),
        "/wifisave" => save(portal.clone(), request).await,
        "/param" => Ok(html(
            StatusCode::OK,
            page("Setup", &format!("<form method='POST' action='paramsave'>{}</form>", params_html(config))),
        )),
        "/paramsave" => {
            let args = arguments(request).await?;
            store_params(&portal, &args);
            Ok(html(StatusCode::OK, page("Setup saved", "<div class='msg S'>Saved<br/></div>")))
        }
        "/info" => Ok(html(
            StatusCode::OK,
            page(
                "Info",
                &format!("<dl><dt>Soft AP SSID</dt><dd>{}</dd></dl>", entities(&config.ap_ssid, false)),
            ),
        )),
        "/exit" | "/close" => {
            portal.inner.state.send_replace(PortalState::Closed);
            Ok(html(StatusCode::OK, page("Exit", "Exiting")))
        }
        "/restart" | "/erase" => {
            Ok(html(StatusCode::OK, page("Reset", "Module will reset in a few seconds.")))
        }
        _ => Ok(not_found()),
    }
}

fn is_route(path: &str) -> bool {
    matches!(
        path,
        "/" | "/wifi"
            | "/0wifi"
            | "/wifisave"
            | "/info"
            | "/param"
            | "/paramsave"
            | "/restart"
            | "/exit"
            | "/close"
            | "/erase"
            | "/update"
    )
}

/// `handleNotFound`'s plain 404.
fn not_found() -> Response<Full<Bytes>> {
    let mut response = html(StatusCode::NOT_FOUND, "File Not Found\n\n".into());
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
    response
}

/// `handleWifi`: the scan items (`getScanItemOut`: strongest first, duplicates and empty SSIDs
/// left out), the form with `s` and `p` and the custom parameters.
fn wifi_page(config: &PortalConfig, scan: bool) -> String {
    let mut body = String::new();
    if scan {
        let mut networks = config.networks.clone();
        networks.sort_by_key(|network| std::cmp::Reverse(network.rssi));
        let mut seen = Vec::new();
        for network in networks.iter().filter(|n| !n.ssid.is_empty()) {
            if seen.contains(&&network.ssid) {
                continue;
            }
            seen.push(&network.ssid);
            let percent = quality(network.rssi);
            // `round(map(rssiperc, 0, 100, 1, 4))`, Arduino's integer `map`.
            let level = percent * 3 / 100 + 1;
            let lock = if network.passphrase.is_empty() { "" } else { "l" };
            body.push_str(&format!(
                "<div><a href='#p' onclick='c(this)' data-ssid='{}'>{}</a><div role='img' aria-label='{percent}%' title='{percent}%' \
                 class='q q-{level} {lock} '></div><div class='q h'>{percent}%</div></div>",
                entities(&network.ssid, false),
                entities(&network.ssid, true)
            ));
        }
        if seen.is_empty() {
            body.push_str("No networks found. Refresh to scan again.<br/><br/>");
        } else {
            body.push_str("<br/>");
        }
    }
    body.push_str(
        "<form method='POST' action='wifisave'><label for='s'>SSID</label><input id='s' name='s' maxlength='32' \
         autocorrect='off' autocapitalize='none' placeholder=''><br/><label for='p'>Password</label><input id='p' name='p' \
         maxlength='64' type='password' placeholder=''><input type='checkbox' id='showpass' onclick='f()'> \
         <label for='showpass'>Show Password</label><br/>",
    );
    if !config.params.is_empty() {
        body.push_str("<hr><br/>");
        body.push_str(&params_html(config));
    }
    body.push_str("<br/><br/><button type='submit'>Save</button></form><br/><form action='/wifi?refresh=1' method='POST'><button name='refresh' value='1'>Refresh</button></form>");
    page("Config ESP", &body)
}

/// `getParamOut`: a label and an input per parameter.
fn params_html(config: &PortalConfig) -> String {
    config
        .params
        .iter()
        .map(|param| {
            format!(
                "<label for='{id}'>{label}</label><br/><input id='{id}' name='{id}' maxlength='{len}' value='' >\n",
                id = entities(&param.id, false),
                label = entities(&param.label, false),
                len = param.max_len
            )
        })
        .collect()
}

/// The request's arguments: the query's, then the url-encoded body's (`WebServer::arg`).
async fn arguments(request: Request<Incoming>) -> Result<Vec<(String, String)>, Dropped> {
    let mut args: Vec<(String, String)> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let body = Limited::new(request.into_body(), MAX_FORM).collect().await.map_err(|_| Dropped)?.to_bytes();
    args.extend(url::form_urlencoded::parse(&body).into_owned());
    Ok(args)
}

fn arg<'a>(args: &'a [(String, String)], name: &str) -> &'a str {
    args.iter().find(|(key, _)| key == name).map_or("", |(_, value)| value.as_str())
}

/// `doParamSave`: each parameter by id, cut to its length (`toCharArray(_value, _length + 1)`).
fn store_params(portal: &SimPortal, args: &[(String, String)]) {
    let mut saved = lock(&portal.inner.saved);
    for param in &portal.inner.config.params {
        let value: String = arg(args, &param.id).chars().take(param.max_len).collect();
        saved.insert(param.id.clone(), value);
    }
}

async fn save(portal: SimPortal, request: Request<Incoming>) -> Reply {
    let args = arguments(request).await?;
    *lock(&portal.inner.saves) += 1;
    if portal.inner.config.faults.drop_save {
        return Err(Dropped);
    }
    let (ssid, pass) = (arg(&args, "s").to_owned(), arg(&args, "p").to_owned());
    store_params(&portal, &args);
    let body = if ssid.is_empty() {
        page("Settings saved", "<div class='msg S'>Saved<br/></div>")
    } else {
        {
            let mut saved = lock(&portal.inner.saved);
            saved.insert("s".into(), ssid.clone());
            saved.insert("p".into(), pass.clone());
        }
        portal.inner.state.send_replace(PortalState::Joining);
        tokio::spawn(try_network(portal.clone(), ssid, SecretString::from(pass)));
        page(
            "Credentials saved",
            "<div class='msg'>Saving Credentials<br/>Trying to connect ESP to network.<br />If it fails reconnect to AP to try again</div>",
        )
    };
    let mut response = html(StatusCode::OK, body);
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, header::HeaderValue::from_static("*"));
    Ok(response)
}

/// `processConfigPortal` after a save: wait, try the network, shut the portal on success.
async fn try_network(portal: SimPortal, ssid: String, pass: SecretString) {
    let config = &portal.inner.config;
    tokio::time::sleep(config.close_delay + config.join_time).await;
    let joined = !config.faults.never_connect
        && config.networks.iter().any(|n| n.ssid == ssid && n.passphrase.expose() == pass.expose());
    if !joined {
        tracing::info!(%ssid, "portal: could not join; the portal stays open");
        lock(&portal.inner.saved).retain(|field, _| field != "s" && field != "p");
        portal.inner.state.send_replace(PortalState::Open);
        return;
    }
    tracing::info!(%ssid, "portal: joined; shutting the portal and access point down");
    portal.inner.state.send_replace(PortalState::Online { ssid });
    let Some(claim) = &config.claim else { return };
    let Some(token) = portal.saved(&claim.field).filter(|token| !token.is_empty()) else { return };
    portal.inner.redemption.send_replace(Redemption::InProgress);
    let outcome = match ClaimRedeemer::new(claim.credential.clone()) {
        Ok(redeemer) => match redeemer.redeem(&claim.backend, &SecretString::from(token)).await {
            Ok(status) => Redemption::Redeemed(status),
            Err(error) => Redemption::Failed(error.to_string()),
        },
        Err(error) => Redemption::Failed(error.to_string()),
    };
    portal.inner.redemption.send_replace(outcome);
}
