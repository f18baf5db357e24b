//! A signed-in session: signs the person in through an [`AuthorizationAgent`], keeps the tokens
//! in a [`SecretStore`], hands out fresh access tokens (refreshing and honouring refresh-token
//! rotation), and signs out.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::binding::{AccessTokenError, AccessTokenSource};
use crate::secret::SecretString;
use crate::secret_store::SecretStore;

use super::agent::AuthorizationAgent;
use super::client::AuthClient;
use super::error::{AuthError, NeedsLoginReason, TokenError};
use super::id_token::Identity;
use super::tokens::TokenSet;

/// Where a session keeps its tokens unless told otherwise.
pub const DEFAULT_TOKEN_KEY: &str = "unbox.auth.tokens";

/// How long before expiry an access token is renewed unless told otherwise.
pub const DEFAULT_EXPIRY_SKEW: Duration = Duration::from_secs(60);

/// The person's sign-in with one identity provider.
pub struct Session {
    client: AuthClient,
    agent: Arc<dyn AuthorizationAgent>,
    store: Arc<dyn SecretStore>,
    store_key: String,
    expiry_skew: Duration,
    /// Serialises token reads and renewals: two concurrent refreshes with a rotating refresh
    /// token would make the provider revoke the sign-in.
    tokens_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("client", &self.client)
            .field("store_key", &self.store_key)
            .field("expiry_skew", &self.expiry_skew)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session using `client` to talk to the provider, `agent` to show the sign-in page, and
    /// `store` to keep the tokens (under [`DEFAULT_TOKEN_KEY`]). The client's clock decides
    /// expiry.
    pub fn new(client: AuthClient, agent: Arc<dyn AuthorizationAgent>, store: Arc<dyn SecretStore>) -> Self {
        Self {
            client,
            agent,
            store,
            store_key: DEFAULT_TOKEN_KEY.to_owned(),
            expiry_skew: DEFAULT_EXPIRY_SKEW,
            tokens_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Keeps the tokens under `key` instead of [`DEFAULT_TOKEN_KEY`].
    pub fn with_store_key(mut self, key: impl Into<String>) -> Self {
        self.store_key = key.into();
        self
    }

    /// Renews access tokens `skew` before they expire instead of [`DEFAULT_EXPIRY_SKEW`].
    pub fn with_expiry_skew(mut self, skew: Duration) -> Self {
        self.expiry_skew = skew;
        self
    }

    /// The OAuth client of this session.
    pub fn client(&self) -> &AuthClient {
        &self.client
    }

    /// Signs the person in through the agent and stores the tokens, replacing any earlier
    /// sign-in. Returns who signed in when the `openid` scope was requested.
    pub async fn login(&self) -> Result<Option<Identity>, AuthError> {
        let request = self.client.begin_authorization();
        tracing::info!("opening the sign-in page");
        let callback = SecretString::new(
            self.agent.authorize(request.url().to_owned(), self.client.config().redirect_uri.clone()).await?,
        );
        let signed_in = self.client.complete_authorization(&request, callback.expose()).await?;
        let _tokens = self.tokens_lock.lock().await;
        self.store.put(&self.store_key, signed_in.tokens.to_stored()).await?;
        Ok(signed_in.identity)
    }

    /// A valid access token: the stored one, or a renewed one when it has expired or expires
    /// within the skew. If renewal fails only transiently while the stored token is still
    /// valid, the stored token is returned. When the provider refuses renewal the stored
    /// sign-in is dropped and [`AuthError::NeedsLogin`] returned.
    pub async fn access_token(&self) -> Result<SecretString, AuthError> {
        let _tokens = self.tokens_lock.lock().await;
        let tokens = self.load().await?;
        let now = self.client.now();
        if !tokens.expires_within(now, self.expiry_skew) {
            return Ok(tokens.access_token);
        }
        let still_valid = !tokens.is_expired(now);
        if still_valid && tokens.refresh_token.is_none() {
            return Ok(tokens.access_token);
        }
        match self.renew(&tokens).await {
            Err(error) if still_valid && error.is_retryable() => {
                tracing::warn!(%error, "could not renew the access token yet; using the current one until it expires");
                Ok(tokens.access_token)
            }
            outcome => outcome,
        }
    }

    /// A new access token after a service refused `rejected` (HTTP 401): renews unless the
    /// stored token already differs from `rejected` (renewed meanwhile), then returns that one.
    pub async fn renew_rejected(&self, rejected: &SecretString) -> Result<SecretString, AuthError> {
        let _tokens = self.tokens_lock.lock().await;
        let tokens = self.load().await?;
        if tokens.access_token != *rejected {
            return Ok(tokens.access_token);
        }
        self.renew(&tokens).await
    }

    /// Renews `tokens` and stores the result; drops the sign-in when the provider refuses.
    /// Callers hold the tokens lock.
    async fn renew(&self, tokens: &TokenSet) -> Result<SecretString, AuthError> {
        match self.client.refresh(tokens).await {
            Ok(renewed) => {
                self.store.put(&self.store_key, renewed.to_stored()).await?;
                Ok(renewed.access_token)
            }
            Err(AuthError::Token(TokenError::InvalidGrant { .. })) => {
                tracing::info!("the identity provider refused to renew the sign-in");
                self.store.delete(&self.store_key).await?;
                Err(AuthError::NeedsLogin { reason: NeedsLoginReason::RefreshRejected })
            }
            Err(error @ AuthError::NeedsLogin { .. }) => {
                self.store.delete(&self.store_key).await?;
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// Whether tokens from an earlier sign-in are stored (they may still need renewing).
    pub async fn is_signed_in(&self) -> Result<bool, AuthError> {
        let _tokens = self.tokens_lock.lock().await;
        Ok(self.store.get(&self.store_key).await?.is_some())
    }

    /// Signs out: deletes the stored tokens, then asks the provider to revoke them if it has a
    /// revocation endpoint. Revocation is best effort; a failure is logged, not returned.
    pub async fn logout(&self) -> Result<(), AuthError> {
        let _tokens = self.tokens_lock.lock().await;
        let stored = self.store.get(&self.store_key).await?;
        self.store.delete(&self.store_key).await?;
        let Some(tokens) = stored.as_ref().and_then(TokenSet::from_stored) else {
            return Ok(());
        };
        match self.client.revoke(&tokens).await {
            Ok(true) => tracing::info!("signed out and revoked the tokens"),
            Ok(false) => tracing::info!("signed out; the provider offers no revocation"),
            Err(error) => {
                tracing::warn!(%error, "signed out locally; the provider did not revoke the tokens")
            }
        }
        Ok(())
    }

    /// Reads the stored tokens; unreadable ones are dropped.
    async fn load(&self) -> Result<TokenSet, AuthError> {
        let Some(stored) = self.store.get(&self.store_key).await? else {
            return Err(AuthError::NeedsLogin { reason: NeedsLoginReason::NotSignedIn });
        };
        match TokenSet::from_stored(&stored) {
            Some(tokens) => Ok(tokens),
            None => {
                self.store.delete(&self.store_key).await?;
                Err(AuthError::NeedsLogin { reason: NeedsLoginReason::StoredTokensUnreadable })
            }
        }
    }
}

/// Lets the binding client take its access tokens from the session.
#[async_trait]
impl AccessTokenSource for Session {
    async fn access_token(&self) -> Result<SecretString, AccessTokenError> {
        Session::access_token(self).await.map_err(access_token_error)
    }

    async fn refresh_access_token(&self, rejected: &SecretString) -> Result<SecretString, AccessTokenError> {
        self.renew_rejected(rejected).await.map_err(access_token_error)
    }
}

fn access_token_error(error: AuthError) -> AccessTokenError {
    if error.needs_login() {
        AccessTokenError::LoginRequired(error.to_string())
    } else {
        AccessTokenError::Unavailable(error.to_string())
    }
}
