//! The authorization-agent seam (RFC 8252): whatever shows the authorization page to the person
//! — the system browser with a loopback redirect on desktop, Custom Tabs on Android,
//! ASWebAuthenticationSession on iOS — and hands back the redirect it ends on.

use std::time::Duration;

use async_trait::async_trait;

/// Shows an authorization page in an external user-agent and waits for the redirect.
#[async_trait]
pub trait AuthorizationAgent: Send + Sync {
    /// Opens `url` for the person and returns the full URL the provider redirected to, which
    /// starts with `redirect_uri` and carries the authorization response in its query.
    async fn authorize(&self, url: String, redirect_uri: String) -> Result<String, AgentError>;
}

/// Why the browser step of a sign-in did not produce a redirect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// The person closed the browser or cancelled the sign-in.
    #[error("the sign-in was cancelled; start it again when you are ready")]
    Cancelled,
    /// No browser could be opened.
    #[error("no web browser could be opened ({reason}); install or configure a browser and try again")]
    BrowserUnavailable {
        /// What went wrong.
        reason: String,
    },
    /// The person did not finish the sign-in in time.
    #[error("the sign-in did not finish within {after:?}; start it again")]
    TimedOut {
        /// The time allowed.
        after: Duration,
    },
    /// The agent itself failed (for example the loopback listener).
    #[error("the sign-in could not be completed ({reason}); start it again")]
    Failed {
        /// What went wrong.
        reason: String,
    },
}
