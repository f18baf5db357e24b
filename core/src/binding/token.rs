//! Where the binding client gets the user's access token: a seam the OAuth module implements.

use async_trait::async_trait;

use super::error::BindingError;
use crate::secret::SecretString;

/// Why no access token could be supplied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessTokenError {
    /// There is no usable session (never logged in, refresh token revoked or expired).
    #[error("the user must log in again: {0}")]
    LoginRequired(String),
    /// A token exists in principle but cannot be had now (identity provider unreachable).
    #[error("no access token right now: {0}")]
    Unavailable(String),
}

impl From<AccessTokenError> for BindingError {
    fn from(error: AccessTokenError) -> Self {
        match error {
            AccessTokenError::LoginRequired(reason) => BindingError::Unauthorized { reason },
            AccessTokenError::Unavailable(reason) => BindingError::TokenUnavailable { reason },
        }
    }
}

/// Supplies the user's OAuth access token to the binding client.
#[async_trait]
pub trait AccessTokenSource: Send + Sync {
    /// The current access token (refreshed by the source when it knows it expired).
    async fn access_token(&self) -> Result<SecretString, AccessTokenError>;

    /// The backend refused `rejected` with 401: return a fresh token (e.g. via the refresh
    /// token). Called at most once per request; a second 401 means the user must log in again.
    async fn refresh_access_token(&self, rejected: &SecretString) -> Result<SecretString, AccessTokenError>;
}

/// A fixed access token (CLI `--token`, tests). A 401 cannot be healed: refreshing returns
/// [`AccessTokenError::LoginRequired`].
#[derive(Debug, Clone)]
pub struct StaticAccessToken(SecretString);

impl StaticAccessToken {
    /// Uses `token` for every request.
    pub fn new(token: SecretString) -> Self {
        Self(token)
    }
}

#[async_trait]
impl AccessTokenSource for StaticAccessToken {
    async fn access_token(&self) -> Result<SecretString, AccessTokenError> {
        Ok(self.0.clone())
    }

    async fn refresh_access_token(&self, _rejected: &SecretString) -> Result<SecretString, AccessTokenError> {
        Err(AccessTokenError::LoginRequired("the fixed access token was refused".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_token_cannot_refresh() {
        let source = StaticAccessToken::new(SecretString::new("t0k"));
        let token = source.access_token().await.expect("static token");
        assert_eq!(token.expose(), "t0k");
        let error: BindingError = source.refresh_access_token(&token).await.expect_err("no refresh").into();
        assert!(error.requires_sign_in());
        assert!(!format!("{source:?}").contains("t0k"));
    }

    #[test]
    fn unavailable_maps_to_a_retryable_error() {
        let error: BindingError = AccessTokenError::Unavailable("idp down".into()).into();
        assert!(error.is_retryable());
    }
}
