//! What can go wrong while signing in, one error type per concern. No variant ever carries a
//! token, code or verifier; texts from the identity provider are shortened before use.

use std::fmt;

use crate::UserAction;
use crate::platform::secret_store::SecretStoreError;

use crate::platform::authorization::AgentError;

/// Longest piece of provider-supplied text (error descriptions, reasons) kept in an error.
const MAX_PROVIDER_TEXT: usize = 300;

/// Shortens text that came from the network so errors stay readable.
pub(crate) fn provider_text(text: &str) -> String {
    if text.chars().count() <= MAX_PROVIDER_TEXT {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(MAX_PROVIDER_TEXT).collect();
    short.push('…');
    short
}

/// Formats an optional provider description as ": description" or nothing.
pub(crate) struct Described<'a>(pub &'a Option<String>);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(description) => write!(f, ": {description}"),
            None => Ok(()),
        }
    }
}

/// The sign-in settings are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A URL in the settings does not parse.
    #[error("the {what} `{url}` is not a valid URL ({reason}); fix the sign-in settings")]
    InvalidUrl {
        /// Which setting.
        what: &'static str,
        /// The rejected value.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A URL uses plain HTTP for a host other than this computer.
    #[error(
        "the {what} `{url}` uses plain http on a non-loopback host; use https (or allow insecure http for a local simulator)"
    )]
    InsecureUrl {
        /// Which setting.
        what: &'static str,
        /// The rejected value.
        url: String,
    },
}

/// The identity provider's metadata could not be found or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderDiscoveryError {
    /// The issuer URL or an advertised endpoint is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The provider could not be reached.
    #[error(
        "could not reach the identity provider at {url} ({reason}); check the internet connection and retry"
    )]
    Network {
        /// The metadata URL.
        url: String,
        /// What the network said.
        reason: String,
    },
    /// The provider answered with an unexpected HTTP status.
    #[error("the identity provider answered {status} for {url}; retry later, or check the issuer URL")]
    HttpStatus {
        /// The metadata URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// Neither OpenID Connect nor OAuth metadata exists at the issuer.
    #[error(
        "no sign-in metadata found for issuer {issuer} (tried OpenID Connect and OAuth discovery); check the issuer URL"
    )]
    NotFound {
        /// The configured issuer.
        issuer: String,
    },
    /// The metadata document is not valid JSON metadata.
    #[error("the identity provider's metadata at {url} is invalid ({reason}); contact the service operator")]
    InvalidDocument {
        /// The metadata URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The metadata names another issuer than the one asked for (possible mix-up attack).
    #[error(
        "the identity provider claims to be `{found}` but `{expected}` was expected; sign-in stopped for safety, check the issuer URL"
    )]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The issuer in the metadata.
        found: String,
    },
    /// The provider does not offer PKCE with SHA-256.
    #[error(
        "the identity provider does not support PKCE S256, which Unbox requires; ask the service operator to enable it"
    )]
    PkceNotSupported,
}

impl ProviderDiscoveryError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Network { .. } => true,
            Self::HttpStatus { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// The redirect back from the browser is not an acceptable authorization response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The callback is not a URL.
    #[error("the sign-in response is not a valid URL ({reason}); start the sign-in again")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The callback went to another address than the redirect URI of this sign-in.
    #[error("the sign-in response arrived at an unexpected address; start the sign-in again")]
    WrongRedirect,
    /// The `state` does not match this attempt (an old tab, or a forged response).
    #[error(
        "the sign-in response does not belong to this sign-in attempt (state mismatch); close old sign-in tabs and start again"
    )]
    StateMismatch,
    /// The response names another issuer than the provider signed in with (RFC 9207).
    #[error(
        "the sign-in response comes from `{received}` instead of `{expected}`; sign-in stopped for safety, start again"
    )]
    IssuerMismatch {
        /// The provider's issuer.
        expected: String,
        /// The `iss` parameter received.
        received: String,
    },
    /// The provider promised an `iss` parameter (RFC 9207) but the response has none.
    #[error("the sign-in response lacks the issuer the provider promised to send; start the sign-in again")]
    MissingIssuer,
    /// The person declined, or the provider refused access (`access_denied`).
    #[error("access was not granted{}; sign in again and approve the request to continue", Described(.description))]
    Denied {
        /// The provider's explanation, if any.
        description: Option<String>,
    },
    /// The provider reported another error instead of a code.
    #[error("the identity provider refused the sign-in ({error}{}); {}", Described(.description), advice_for_authorization_error(.error))]
    Provider {
        /// The OAuth error code, such as `invalid_scope` or `temporarily_unavailable`.
        error: String,
        /// The provider's explanation, if any.
        description: Option<String>,
    },
    /// Neither a code nor an error came back.
    #[error("the sign-in response carries no authorization code; start the sign-in again")]
    MissingCode,
}

fn advice_for_authorization_error(error: &str) -> &'static str {
    match error {
        "temporarily_unavailable" | "server_error" => "retry in a moment",
        _ => "the app's sign-in settings may be wrong; contact support if this persists",
    }
}

impl CallbackError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Provider { error, .. } if error == "temporarily_unavailable" || error == "server_error")
    }
}

/// The token endpoint refused or failed a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The code or refresh token is invalid, expired, revoked or already used (`invalid_grant`).
    #[error("the identity provider no longer accepts this sign-in{}; sign in again", Described(.description))]
    InvalidGrant {
        /// The provider's explanation, if any.
        description: Option<String>,
    },
    /// The provider does not know this app (`invalid_client`).
    #[error(
        "the identity provider does not recognise this app (invalid_client{}); check the app's client id",
        Described(.description)
    )]
    InvalidClient {
        /// The provider's explanation, if any.
        description: Option<String>,
    },
    /// Another OAuth error such as `invalid_request` or `invalid_scope`.
    #[error("the identity provider rejected the request ({error}{}); contact support if this persists", Described(.description))]
    Rejected {
        /// The OAuth error code.
        error: String,
        /// The provider's explanation, if any.
        description: Option<String>,
    },
    /// The provider failed (HTTP 5xx) or is overloaded (HTTP 429).
    #[error("the identity provider is unavailable (HTTP {status}); retry in a moment")]
    ServerUnavailable {
        /// The HTTP status code.
        status: u16,
    },
    /// The provider could not be reached.
    #[error("could not reach the identity provider ({reason}); check the internet connection and retry")]
    Network {
        /// What the network said.
        reason: String,
    },
    /// The provider's answer is not a valid token response.
    #[error(
        "the identity provider sent an invalid token response ({reason}); contact support if this persists"
    )]
    InvalidResponse {
        /// What is wrong with it (never the body itself).
        reason: String,
    },
}

impl TokenError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::ServerUnavailable { .. } | Self::Network { .. })
    }
}

/// The ID token returned with the access token cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// The `openid` scope was granted but no ID token came back.
    #[error("the identity provider did not return an ID token; contact support if this persists")]
    Missing,
    /// The ID token is not a well-formed JWT with the required claims.
    #[error("the identity provider sent a malformed ID token ({reason}); sign in again")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The ID token was issued by someone else.
    #[error("the ID token was issued by `{found}` instead of `{expected}`; sign-in stopped for safety")]
    IssuerMismatch {
        /// The provider's issuer.
        expected: String,
        /// The `iss` claim.
        found: String,
    },
    /// The ID token was issued for another app.
    #[error("the ID token was issued for another app; sign-in stopped for safety")]
    AudienceMismatch,
    /// The ID token does not answer this sign-in's nonce (possible replay).
    #[error("the ID token does not belong to this sign-in attempt (nonce mismatch); sign in again")]
    NonceMismatch,
    /// The ID token has already expired.
    #[error("the ID token has expired; check that this device's clock is correct, then sign in again")]
    Expired,
}

/// Why the person has to sign in (again) before an access token can be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeedsSignInReason {
    /// Nobody has signed in on this device, or they signed out.
    NotSignedIn,
    /// The access token expired and there is no refresh token to renew it.
    Expired,
    /// The provider refused to renew the sign-in (revoked, expired or reused refresh token).
    RefreshRejected,
    /// The stored sign-in could not be read.
    StoredTokensUnreadable,
}

impl fmt::Display for NeedsSignInReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotSignedIn => "nobody is signed in",
            Self::Expired => "the sign-in has expired",
            Self::RefreshRejected => "the identity provider ended the sign-in",
            Self::StoredTokensUnreadable => "the saved sign-in could not be read",
        })
    }
}

/// Everything that can stop a sign-in or an access-token request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The settings are unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The provider's metadata could not be found or trusted.
    #[error(transparent)]
    Discovery(#[from] ProviderDiscoveryError),
    /// The browser step failed or was cancelled.
    #[error(transparent)]
    Agent(#[from] AgentError),
    /// The browser's redirect is not acceptable.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// The token endpoint refused or failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The ID token is not acceptable.
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// The person must sign in (again).
    #[error("{reason}; sign in again")]
    NeedsSignIn {
        /// Why.
        reason: NeedsSignInReason,
    },
    /// The secure storage failed.
    #[error(transparent)]
    Store(#[from] SecretStoreError),
    /// The operating system's random number generator failed (drawing `state` or PKCE values).
    #[error("the system random number generator failed ({0}); try again")]
    Randomness(String),
}

impl AuthError {
    /// Whether trying the same operation again later may succeed without the person acting.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Discovery(error) => error.is_retryable(),
            Self::Callback(error) => error.is_retryable(),
            Self::Token(error) => error.is_retryable(),
            Self::Store(error) => error.is_retryable(),
            Self::Randomness(_) => true,
            _ => false,
        }
    }

    /// Whether the person has to sign in again to continue.
    pub fn needs_sign_in(&self) -> bool {
        matches!(self, Self::NeedsSignIn { .. } | Self::Token(TokenError::InvalidGrant { .. }))
    }

    /// What the app should offer: sign in again, nothing (cancelled), a browser (none opened),
    /// another attempt (transient trouble, or a response that did not belong), or support (the
    /// app's sign-in settings or the provider are wrong).
    pub fn user_action(&self) -> UserAction {
        match self {
            error if error.needs_sign_in() => UserAction::SignIn,
            Self::Agent(AgentError::Cancelled) => UserAction::None,
            Self::Agent(AgentError::BrowserUnavailable { .. }) => UserAction::FixPhoneSettings,
            Self::Store(error) => error.user_action(),
            error if error.is_retryable() => UserAction::Retry,
            Self::Callback(CallbackError::Provider { .. }) => UserAction::ContactSupport,
            Self::Agent(_) | Self::Callback(_) => UserAction::Retry,
            _ => UserAction::ContactSupport,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_is_shortened_on_a_char_boundary() {
        let long = "é".repeat(400);
        let short = provider_text(&long);
        assert_eq!(short.chars().count(), MAX_PROVIDER_TEXT + 1);
        assert_eq!(provider_text("short"), "short");
    }

    #[test]
    fn messages_say_what_to_do() {
        let denied = CallbackError::Denied { description: Some("The user said no".into()) };
        assert_eq!(
            denied.to_string(),
            "access was not granted: The user said no; sign in again and approve the request to continue"
        );
        let unavailable =
            CallbackError::Provider { error: "temporarily_unavailable".into(), description: None };
        assert!(unavailable.to_string().ends_with("retry in a moment"));
        assert!(unavailable.is_retryable());
        let needs = AuthError::NeedsSignIn { reason: NeedsSignInReason::RefreshRejected };
        assert_eq!(needs.to_string(), "the identity provider ended the sign-in; sign in again");
        assert!(needs.needs_sign_in());
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        assert!(AuthError::from(TokenError::ServerUnavailable { status: 503 }).is_retryable());
        assert!(AuthError::from(TokenError::Network { reason: "reset".into() }).is_retryable());
        assert!(!AuthError::from(TokenError::InvalidGrant { description: None }).is_retryable());
        assert!(
            ProviderDiscoveryError::HttpStatus { url: "https://idp/".into(), status: 502 }.is_retryable()
        );
        assert!(
            !ProviderDiscoveryError::HttpStatus { url: "https://idp/".into(), status: 404 }.is_retryable()
        );
    }
}
