//! Signing in: the browser step the shell owns (Custom Tabs, ASWebAuthenticationSession) and the
//! core's OAuth session over it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use unbox_core::auth as core;
use unbox_core::auth::Identity;
use unbox_core::platform::authorization;

use crate::runtime::on_runtime;
use crate::secret_store::{ForeignSecretStore, SecretStore};

/// Shows the provider's sign-in page in an external user-agent and returns where it redirected.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait AuthorizationAgent: Send + Sync {
    /// Opens `url` and returns the full URL the provider redirected to (it starts with
    /// `redirect_uri` and carries the authorization response in its query).
    async fn authorize(&self, url: String, redirect_uri: String) -> Result<String, AgentError>;
}

/// Why the browser step did not produce a redirect. Thrown by the shell's agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum AgentError {
    /// The person closed the browser or cancelled.
    Cancelled,
    /// No browser could be opened.
    BrowserUnavailable {
        /// What went wrong.
        reason: String,
    },
    /// The person did not finish in time.
    TimedOut {
        /// The time allowed.
        after: Duration,
    },
    /// The agent itself failed.
    Failed {
        /// What went wrong.
        reason: String,
    },
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        authorization::AgentError::from(self.clone()).fmt(f)
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for AgentError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed { reason: error.reason }
    }
}

impl From<AgentError> for authorization::AgentError {
    fn from(error: AgentError) -> Self {
        match error {
            AgentError::Cancelled => Self::Cancelled,
            AgentError::BrowserUnavailable { reason } => Self::BrowserUnavailable { reason },
            AgentError::TimedOut { after } => Self::TimedOut { after },
            AgentError::Failed { reason } => Self::Failed { reason },
        }
    }
}

/// A shell's agent seen as the core's agent.
pub(crate) struct ForeignAgent(pub(crate) Arc<dyn AuthorizationAgent>);

#[async_trait]
impl authorization::AuthorizationAgent for ForeignAgent {
    async fn authorize(
        &self,
        url: String,
        redirect_uri: String,
    ) -> Result<String, authorization::AgentError> {
        Ok(self.0.authorize(url, redirect_uri).await?)
    }
}

/// How the app is registered with the identity provider.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuthConfig {
    /// The provider's issuer URL; its metadata is read from `/.well-known/...` below it.
    pub issuer: String,
    /// The public client id the provider issued to the app.
    pub client_id: String,
    /// Where the provider sends the browser back (a claimed https URL or private-use scheme).
    pub redirect_uri: String,
    /// Scopes to request, e.g. `openid`, `profile`.
    pub scopes: Vec<String>,
    /// Accept plain-http endpoints on non-loopback hosts (a simulator reached from an emulator).
    pub allow_insecure_http: bool,
}

impl From<AuthConfig> for core::ClientConfig {
    fn from(config: AuthConfig) -> Self {
        let mut client =
            core::ClientConfig::new(config.client_id, config.redirect_uri).with_scopes(config.scopes);
        client.allow_insecure_http = config.allow_insecure_http;
        client
    }
}

/// The person's sign-in with the identity provider; tokens live in the shell's secret store and
/// never cross to the shell.
#[derive(Debug, uniffi::Object)]
pub struct AuthSession {
    session: Arc<core::Session>,
}

/// Whether a redirect the app received answers the sign-in that `authorization_url` started: it
/// carries that request's state. Any app can open the app's redirect, so an agent ignores a
/// redirect that does not answer and keeps waiting for the real one.
#[uniffi::export]
pub fn callback_answers_sign_in(authorization_url: String, callback_url: String) -> bool {
    core::answers_authorization(&authorization_url, &callback_url)
}

/// Reads the provider's metadata and makes a session that signs in through `agent` and keeps the
/// tokens in `store`.
#[uniffi::export]
pub async fn discover_auth_session(
    config: AuthConfig,
    agent: Arc<dyn AuthorizationAgent>,
    store: Arc<dyn SecretStore>,
) -> Result<Arc<AuthSession>, AuthError> {
    on_runtime(async move {
        let issuer = config.issuer.clone();
        let client =
            core::AuthClient::discover(config.into(), &issuer).await.map_err(core::AuthError::from)?;
        let session =
            core::Session::new(client, Arc::new(ForeignAgent(agent)), Arc::new(ForeignSecretStore(store)));
        Ok(Arc::new(AuthSession { session: Arc::new(session) }))
    })
    .await
}

#[uniffi::export]
impl AuthSession {
    /// Signs the person in through the agent, replacing any earlier sign-in. Returns who signed
    /// in when the `openid` scope was requested.
    pub async fn sign_in(&self) -> Result<Option<Identity>, AuthError> {
        let session = Arc::clone(&self.session);
        on_runtime(async move { Ok(session.sign_in().await?) }).await
    }

    /// Whether tokens from an earlier sign-in are stored.
    pub async fn is_signed_in(&self) -> Result<bool, AuthError> {
        let session = Arc::clone(&self.session);
        on_runtime(async move { Ok(session.is_signed_in().await?) }).await
    }

    /// Signs out: forgets the tokens and asks the provider to revoke them.
    pub async fn sign_out(&self) -> Result<(), AuthError> {
        let session = Arc::clone(&self.session);
        on_runtime(async move { Ok(session.sign_out().await?) }).await
    }
}

impl AuthSession {
    /// The core session, for the flow.
    pub(crate) fn core(&self) -> Arc<core::Session> {
        Arc::clone(&self.session)
    }
}

/// Why signing in or getting an access token failed. The variant is what the app should offer
/// the person (the core's `user_action`, as in OnboardingError); the message says what happened
/// and what to do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum AuthError {
    /// The person cancelled the sign-in; offer nothing.
    #[error(transparent)]
    Cancelled(core::AuthError),
    /// Transient trouble, or a sign-in response that did not belong: offer to try again.
    #[error(transparent)]
    Retry(core::AuthError),
    /// The person must sign in (again).
    #[error(transparent)]
    SignIn(core::AuthError),
    /// No browser could be opened: the person must install or enable one.
    #[error(transparent)]
    FixPhoneSettings(core::AuthError),
    /// The app's sign-in settings or the identity provider are wrong: update the app or contact
    /// support.
    #[error(transparent)]
    ContactSupport(core::AuthError),
}

impl From<core::AuthError> for AuthError {
    fn from(error: core::AuthError) -> Self {
        use unbox_core::UserAction as A;
        match error.user_action() {
            A::None => Self::Cancelled(error),
            A::Retry => Self::Retry(error),
            A::SignIn => Self::SignIn(error),
            A::FixPhoneSettings => Self::FixPhoneSettings(error),
            // The device and Wi-Fi actions are not outcomes of a sign-in.
            A::ContactSupport
            | A::EnterWifiPassword
            | A::CheckWifiNetwork
            | A::MoveCloser
            | A::CheckDeviceCode
            | A::StartOver => Self::ContactSupport(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_errors_keep_the_core_meaning_and_message() {
        let cases = [
            AgentError::Cancelled,
            AgentError::BrowserUnavailable { reason: "none".into() },
            AgentError::TimedOut { after: Duration::from_secs(300) },
            AgentError::Failed { reason: "listener".into() },
        ];
        for error in cases {
            let core_error = authorization::AgentError::from(error.clone());
            assert_eq!(error.to_string(), core_error.to_string());
        }
        let unexpected = AgentError::from(uniffi::UnexpectedUniFFICallbackError::new("NullPointerException"));
        assert_eq!(unexpected, AgentError::Failed { reason: "NullPointerException".into() });
    }

    #[test]
    fn auth_errors_fall_into_what_the_shell_does_next() {
        let cancelled = AuthError::from(core::AuthError::Agent(authorization::AgentError::Cancelled));
        assert!(matches!(cancelled, AuthError::Cancelled(_)));
        let needs =
            AuthError::from(core::AuthError::NeedsSignIn { reason: core::NeedsSignInReason::NotSignedIn });
        assert!(matches!(needs, AuthError::SignIn(_)));
        assert_eq!(needs.to_string(), "nobody is signed in; sign in again");
        let rejected =
            AuthError::from(core::AuthError::Token(core::TokenError::InvalidGrant { description: None }));
        assert!(matches!(rejected, AuthError::SignIn(_)));
        let down =
            AuthError::from(core::AuthError::Token(core::TokenError::ServerUnavailable { status: 503 }));
        assert!(matches!(down, AuthError::Retry(_)));
    }

    #[test]
    fn config_converts_scopes_and_the_insecure_flag() {
        let config = AuthConfig {
            issuer: "http://10.0.2.2:8080".into(),
            client_id: "unbox-app".into(),
            redirect_uri: "dev.unbox:/callback".into(),
            scopes: vec!["openid".into()],
            allow_insecure_http: true,
        };
        let client = core::ClientConfig::from(config);
        assert_eq!(client.client_id, "unbox-app");
        assert_eq!(client.scopes, vec!["openid".to_owned()]);
        assert!(client.allow_insecure_http);
    }
}
