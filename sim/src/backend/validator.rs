//! How the simulated backend checks the user's bearer token: a seam the simulated identity
//! provider plugs into, and a fixed table for tests.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use unbox_core::secret::SecretString;

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    /// The token is unknown, malformed or revoked.
    #[error("the access token is not valid")]
    Invalid,
    /// The token was valid but has expired.
    #[error("the access token has expired")]
    Expired,
}

/// Who a valid access token speaks for, and what for: what a backend checks besides validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The customer (`sub`).
    pub subject: String,
    /// The OAuth client the token was issued to; `None` when the validator does not know.
    pub client_id: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The API the token is meant for (`aud`, RFC 8707 resource); `None` when not known.
    pub audience: Option<String>,
}

/// Turns a bearer access token into the user (subject) it was issued to.
#[async_trait]
pub trait TokenValidator: Send + Sync {
    /// The subject of a valid token.
    async fn validate(&self, access_token: &SecretString) -> Result<String, TokenRejection>;

    /// The whole principal of a valid token; by default only its subject is known.
    async fn principal(&self, access_token: &SecretString) -> Result<Principal, TokenRejection> {
        let subject = self.validate(access_token).await?;
        Ok(Principal { subject, client_id: None, scopes: Vec::new(), audience: None })
    }
}

/// A fixed table of valid tokens (token → subject); tokens can be added and revoked at run time.
#[derive(Default)]
pub struct StaticTokenValidator {
    tokens: Mutex<HashMap<String, String>>,
}

impl StaticTokenValidator {
    /// An empty table: every token is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `token` as `subject`.
    pub fn allow(&self, token: &str, subject: &str) {
        self.lock().insert(token.to_owned(), subject.to_owned());
    }

    /// Refuses `token` from now on.
    pub fn revoke(&self, token: &str) {
        self.lock().remove(token);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for StaticTokenValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StaticTokenValidator({} tokens)", self.lock().len())
    }
}

#[async_trait]
impl TokenValidator for StaticTokenValidator {
    async fn validate(&self, access_token: &SecretString) -> Result<String, TokenRejection> {
        self.lock().get(access_token.expose()).cloned().ok_or(TokenRejection::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn allow_and_revoke() {
        let validator = StaticTokenValidator::new();
        validator.allow("t1", "alice");
        assert_eq!(validator.validate(&SecretString::new("t1")).await, Ok("alice".into()));
        validator.revoke("t1");
        assert_eq!(validator.validate(&SecretString::new("t1")).await, Err(TokenRejection::Invalid));
        assert_eq!(format!("{validator:?}"), "StaticTokenValidator(0 tokens)");
    }
}
