//! The desktop agent end to end: a loopback redirect listener and a "browser" started like the
//! system browser, signing in against the simulated identity provider.

use std::sync::{Arc, Mutex};

use crate::support::auth::*;
use unbox_core::auth::{AuthClient, BrowserLauncher, LoopbackAgent, Session};
use unbox_core::platform::secret_store::{MemorySecretStore, SecretStore};
use unbox_sim::idp::{IdpConfig, spawn};

/// A command-line HTTP client that follows redirects, as a browser would, written like a
/// `BROWSER` entry.
fn command_line_browser() -> &'static str {
    let available = |program: &str| {
        std::process::Command::new(program)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if available("curl") {
        "curl -sSfL -o /dev/null %s"
    } else if available("wget") {
        "wget -q -O /dev/null %s"
    } else {
        panic!("this test needs curl or wget on PATH to play the browser");
    }
}

async fn login_with(agent: LoopbackAgent, idp: &unbox_sim::idp::RunningIdp) -> Session {
    let client = AuthClient::discover(app_config(agent.redirect_uri()), idp.base_url()).await.unwrap();
    let session =
        Session::new(client, Arc::new(agent), Arc::new(MemorySecretStore::new()) as Arc<dyn SecretStore>);
    let identity = session.sign_in().await.unwrap();
    assert_eq!(identity.map(|identity| identity.subject), Some("user-alice".into()));
    session
}

#[tokio::test]
async fn browser_from_the_browser_variable_completes_the_login() {
    let idp = spawn(IdpConfig::default()).await.unwrap();
    let shown = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = shown.clone();
    // The first entry does not exist, so the launcher moves on to the second, like xdg-open.
    let browser =
        BrowserLauncher::from_browser_var(&format!("unbox-no-such-browser:{}", command_line_browser()));
    let agent = LoopbackAgent::bind(move |url| record.lock().unwrap().push(url.to_owned()))
        .await
        .unwrap()
        .with_browser(browser);

    let session = login_with(agent, &idp).await;

    let token = session.access_token().await.unwrap();
    assert!(idp.provider().introspect(token.expose()).is_some());
    assert!(shown.lock().unwrap().is_empty(), "a browser opened, so the URL must not be shown");
}

#[tokio::test]
async fn url_is_shown_when_no_browser_opens_and_the_agent_keeps_waiting() {
    let idp = spawn(IdpConfig::default()).await.unwrap();
    let shown = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = shown.clone();
    let agent = LoopbackAgent::bind(move |url| {
        record.lock().unwrap().push(url.to_owned());
        // The person copies the address into a browser by hand.
        let url = url.to_owned();
        tokio::spawn(async move {
            // A browser follows the provider's redirect to the loopback callback.
            let browser = reqwest::Client::builder()
                .use_preconfigured_tls(unbox_core::http::tls_client_config())
                .build()
                .unwrap();
            browser.get(url).send().await.unwrap().error_for_status().unwrap();
        });
    })
    .await
    .unwrap()
    .with_browser(BrowserLauncher::from_browser_var("unbox-no-such-browser"));

    login_with(agent, &idp).await;

    let shown = shown.lock().unwrap();
    assert_eq!(shown.len(), 1);
    assert!(shown[0].starts_with(&format!("{}/authorize?", idp.base_url())), "{}", shown[0]);
}
