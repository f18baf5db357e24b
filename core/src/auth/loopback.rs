//! The desktop authorization agent (RFC 8252 §7.3): a one-page HTTP listener on 127.0.0.1 with
//! an ephemeral port receives the redirect, while the system browser shows the sign-in page.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::browser::BrowserLauncher;
use super::callback::answers_authorization;
use crate::platform::authorization::{AgentError, AuthorizationAgent};

/// Path of the redirect URI on the loopback listener.
const CALLBACK_PATH: &str = "/callback";
/// How long the person has to finish signing in, unless told otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a browser connection may take to send its request.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head accepted.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unbox sign-in</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Sign-in received</h1>\
<p>You can close this window and return to Unbox.</p></body></html>";

const FOREIGN_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unbox sign-in</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Not this sign-in</h1>\
<p>This answer does not belong to the sign-in in progress; it was ignored.</p></body></html>";

/// Called with the authorization URL when no browser could be opened, so the app can show it
/// for the person to open by hand.
pub type ShowUrl = Arc<dyn Fn(&str) + Send + Sync>;

/// Signs in through the system browser with a loopback redirect to `http://127.0.0.1:{port}/callback`.
pub struct LoopbackAgent {
    listener: TcpListener,
    redirect_uri: String,
    browser: BrowserLauncher,
    show_url: ShowUrl,
    timeout: Duration,
    in_use: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for LoopbackAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackAgent")
            .field("redirect_uri", &self.redirect_uri)
            .field("browser", &self.browser)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl LoopbackAgent {
    /// Listens on 127.0.0.1 with a port chosen by the system. The browser is found through
    /// `BROWSER` and the platform opener; when none opens, `show_url` receives the URL and the
    /// agent keeps waiting for the redirect.
    pub async fn bind(show_url: impl Fn(&str) + Send + Sync + 'static) -> Result<Self, AgentError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|error| AgentError::Failed { reason: format!("cannot listen on 127.0.0.1: {error}") })?;
        let port = listener
            .local_addr()
            .map_err(|error| AgentError::Failed {
                reason: format!("cannot read the listening port: {error}"),
            })?
            .port();
        Ok(Self {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"),
            browser: BrowserLauncher::from_env(),
            show_url: Arc::new(show_url),
            timeout: DEFAULT_TIMEOUT,
            in_use: tokio::sync::Mutex::new(()),
        })
    }

    /// Opens pages with `browser` instead of `BROWSER` and the platform opener.
    pub fn with_browser(mut self, browser: BrowserLauncher) -> Self {
        self.browser = browser;
        self
    }

    /// Gives up waiting for the redirect after `timeout` (default five minutes).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The redirect URI to register with the client: `http://127.0.0.1:{port}/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    async fn wait_for_callback(&self, url: &str) -> Result<String, AgentError> {
        let (callbacks, mut callback) = mpsc::channel::<String>(1);
        let mut connections = tokio::task::JoinSet::new();
        let mut browser = Some(open_in_background(self.browser.clone(), url.to_owned()));
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted
                        .map_err(|error| AgentError::Failed { reason: format!("loopback listener failed: {error}") })?;
                    connections.spawn(serve_connection(
                        stream,
                        self.redirect_uri.clone(),
                        url.to_owned(),
                        callbacks.clone(),
                    ));
                }
                Some(target) = callback.recv() => return Ok(target),
                opened = async {
                    match browser.as_mut() {
                        Some(outcome) => outcome.await,
                        None => std::future::pending().await,
                    }
                } => {
                    browser = None;
                    if let Ok(Err(error)) = opened {
                        tracing::info!(%error, "no browser opened; showing the sign-in address instead");
                        (self.show_url)(url);
                    }
                }
                // Reap finished connection tasks so the set does not grow.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }
}

#[async_trait]
impl AuthorizationAgent for LoopbackAgent {
    async fn authorize(&self, url: String, redirect_uri: String) -> Result<String, AgentError> {
        if redirect_uri != self.redirect_uri {
            return Err(AgentError::Failed {
                reason: format!("the redirect URI {redirect_uri} is not this agent's {}", self.redirect_uri),
            });
        }
        let _one_at_a_time = self.in_use.lock().await;
        tokio::time::timeout(self.timeout, self.wait_for_callback(&url))
            .await
            .map_err(|_| AgentError::TimedOut { after: self.timeout })?
    }
}

type BrowserOutcome = oneshot::Receiver<Result<(), AgentError>>;

/// Runs the browser command on its own thread: it may block until the browser closes, and a
/// detached thread never holds up the async runtime's shutdown.
fn open_in_background(browser: BrowserLauncher, url: String) -> BrowserOutcome {
    let (sender, receiver) = oneshot::channel();
    std::thread::spawn(move || {
        // The agent may have finished already; then nobody needs the outcome.
        let _ = sender.send(browser.open(&url));
    });
    receiver
}

/// Answers one browser connection; forwards the callback when it answers this sign-in. A
/// callback without this sign-in's `state` (forged by another local process, or left from an
/// abandoned sign-in) gets a 400 and the agent keeps waiting.
async fn serve_connection(
    mut stream: TcpStream,
    redirect_uri: String,
    authorization_url: String,
    callbacks: mpsc::Sender<String>,
) {
    let Ok(Some(target)) = tokio::time::timeout(REQUEST_READ_TIMEOUT, read_request_target(&mut stream)).await
    else {
        let _ = respond(&mut stream, "400 Bad Request", "Bad request").await;
        return;
    };
    let path = target.split('?').next().unwrap_or_default();
    if path != CALLBACK_PATH {
        let _ = respond(&mut stream, "404 Not Found", "Not found").await;
        return;
    }
    let origin = redirect_uri.strip_suffix(CALLBACK_PATH).unwrap_or(&redirect_uri);
    let callback = format!("{origin}{target}");
    if !answers_authorization(&authorization_url, &callback) {
        tracing::warn!("ignored a sign-in callback that does not answer this sign-in");
        let _ = respond(&mut stream, "400 Bad Request", FOREIGN_PAGE).await;
        return;
    }
    let _ = respond(&mut stream, "200 OK", DONE_PAGE).await;
    let _ = callbacks.send(callback).await;
}

/// Reads the request head and returns the target of a `GET` in origin form (`/path?query`).
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 || head.len() + read > MAX_REQUEST_HEAD {
            return None;
        }
        head.extend_from_slice(chunk.get(..read)?);
    }
    let head = std::str::from_utf8(&head).ok()?;
    let mut request_line = head.lines().next()?.split(' ');
    match (request_line.next(), request_line.next(), request_line.next()) {
        (Some("GET"), Some(target), Some(version))
            if target.starts_with('/') && version.starts_with("HTTP/1.") =>
        {
            Some(target.to_owned())
        }
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn raw_request(port: u16, request: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    fn port_of(agent: &LoopbackAgent) -> u16 {
        url::Url::parse(agent.redirect_uri()).unwrap().port().unwrap()
    }

    #[tokio::test]
    async fn returns_the_callback_and_ignores_other_requests() {
        let agent = LoopbackAgent::bind(|_| {})
            .await
            .unwrap()
            .with_browser(BrowserLauncher::from_browser_var("true"));
        let port = port_of(&agent);
        assert_eq!(agent.redirect_uri(), format!("http://127.0.0.1:{port}/callback"));
        let redirect = agent.redirect_uri().to_owned();
        let waiting =
            tokio::spawn(
                async move { agent.authorize("https://idp/authorize?state=xyz".into(), redirect).await },
            );
        let favicon = raw_request(port, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
        let post = raw_request(port, "POST /callback HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 400"), "{post}");
        // A forged callback (another local process guessing) is refused; the agent keeps waiting.
        let forged =
            raw_request(port, "GET /callback?error=access_denied&state=guess HTTP/1.1\r\nHost: x\r\n\r\n")
                .await;
        assert!(forged.starts_with("HTTP/1.1 400") && forged.contains("Not this sign-in"), "{forged}");
        assert!(!waiting.is_finished());
        let page = raw_request(port, "GET /callback?code=abc&state=xyz HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("You can close this window"));
        let callback = waiting.await.unwrap().unwrap();
        assert_eq!(callback, format!("http://127.0.0.1:{port}/callback?code=abc&state=xyz"));
    }

    #[tokio::test]
    async fn refuses_a_foreign_redirect_uri_and_times_out() {
        let agent = LoopbackAgent::bind(|_| {})
            .await
            .unwrap()
            .with_browser(BrowserLauncher::from_browser_var("true"))
            .with_timeout(Duration::from_millis(50));
        let foreign = agent.authorize("https://idp/".into(), "http://127.0.0.1:1/callback".into()).await;
        assert!(matches!(foreign, Err(AgentError::Failed { .. })));
        let own = agent.redirect_uri().to_owned();
        let timed_out = agent.authorize("https://idp/".into(), own).await;
        assert_eq!(timed_out, Err(AgentError::TimedOut { after: Duration::from_millis(50) }));
    }
}
