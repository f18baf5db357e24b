//! A browser stand-in for the simulated identity provider: opens the authorization URL, lets the
//! provider's auto-consent answer, and returns the redirect it points to without following it.

use async_trait::async_trait;
use unbox_core::auth::{AgentError, AuthorizationAgent};

/// Signs in without a person, against a provider with auto-consent.
pub struct AutoConsentBrowser {
    http: reqwest::Client,
}

impl AutoConsentBrowser {
    /// A browser that never follows redirects (the redirect is the app's callback).
    pub fn new() -> Result<Self, AgentError> {
        let http = unbox_core::http::internet_client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AgentError::BrowserUnavailable { reason: e.to_string() })?;
        Ok(Self { http })
    }
}

#[async_trait]
impl AuthorizationAgent for AutoConsentBrowser {
    async fn authorize(&self, url: String, redirect_uri: String) -> Result<String, AgentError> {
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|error| AgentError::Failed { reason: error.to_string() })?;
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| AgentError::Failed {
                reason: format!("the provider answered {} without a redirect", response.status()),
            })?;
        if !location.starts_with(&redirect_uri) {
            return Err(AgentError::Failed { reason: "the provider redirected somewhere else".into() });
        }
        Ok(location.to_owned())
    }
}
