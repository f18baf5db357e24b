//! A browser stand-in for the simulated identity provider: opens the authorization URL, lets the
//! provider's auto-consent answer, and returns the redirect it points to without following it.

use async_trait::async_trait;
use unbox_core::platform::authorization::{AgentError, AuthorizationAgent};

/// The HTTP client of the simulation's stand-ins for other people's software (a browser, a voice
/// assistant's cloud): reqwest, not Unbox's own client, over Unbox's TLS profile, following no
/// redirects (a redirect is what the stand-ins look at).
pub fn web_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .use_preconfigured_tls(unbox_core::http::tls_client_config())
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// Signs in without a person, against a provider with auto-consent.
pub struct AutoConsentBrowser {
    http: reqwest::Client,
    login_hint: Option<String>,
}

impl AutoConsentBrowser {
    /// A browser that never follows redirects (the redirect is the app's callback).
    pub fn new() -> Result<Self, AgentError> {
        let http = web_client().map_err(|e| AgentError::BrowserUnavailable { reason: e.to_string() })?;
        Ok(Self { http, login_hint: None })
    }

    /// Signs in as the person `login_hint` names (an e-mail address or subject the simulated
    /// provider knows), as if they typed it into the sign-in page.
    pub fn signing_in_as(mut self, login_hint: impl Into<String>) -> Self {
        self.login_hint = Some(login_hint.into());
        self
    }

    /// Opens `url` (with the login hint added) and returns the redirect the provider answers
    /// with: the callback URL with the code, or with an error.
    pub async fn follow(&self, url: &str) -> Result<String, AgentError> {
        let mut url = url::Url::parse(url).map_err(|e| AgentError::Failed { reason: e.to_string() })?;
        if let Some(hint) = &self.login_hint {
            url.query_pairs_mut().append_pair("login_hint", hint);
        }
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|error| AgentError::Failed { reason: error.to_string() })?;
        response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| AgentError::Failed {
                reason: format!("the provider answered {} without a redirect", response.status()),
            })
    }
}

#[async_trait]
impl AuthorizationAgent for AutoConsentBrowser {
    async fn authorize(&self, url: String, redirect_uri: String) -> Result<String, AgentError> {
        let location = self.follow(&url).await?;
        if !location.starts_with(&redirect_uri) {
            return Err(AgentError::Failed { reason: "the provider redirected somewhere else".into() });
        }
        Ok(location)
    }
}
