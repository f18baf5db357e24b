//! A signed-in session: signs the person in through an [`AuthorizationAgent`], keeps the tokens
//! in a [`SecretStore`], hands out fresh access tokens (refreshing and honouring refresh-token
//! rotation), and signs out.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::binding::{AccessTokenError, AccessTokenSource};
use crate::platform::secret_store::SecretStore;
use crate::secret::SecretString;

use super::client::AuthClient;
use super::error::{AuthError, NeedsSignInReason, TokenError};
use super::id_token::Identity;
use super::tokens::TokenSet;
use crate::platform::authorization::AuthorizationAgent;

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
    /// token would make the provider revoke the sign-in. Holds the tokens the store could not
    /// take: they are used instead of the stored ones and saved again at the next chance, so a
    /// rotated refresh token is never lost while the app runs.
    tokens_lock: tokio::sync::Mutex<Option<TokenSet>>,
}

/// How many times a save of new tokens is tried before the failure is reported.
const SAVE_ATTEMPTS: u32 = 3;

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
            tokens_lock: tokio::sync::Mutex::new(None),
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
    pub async fn sign_in(&self) -> Result<Option<Identity>, AuthError> {
        let request = self.client.begin_authorization()?;
        tracing::info!("opening the sign-in page");
        let callback = SecretString::new(
            self.agent.authorize(request.url().to_owned(), self.client.config().redirect_uri.clone()).await?,
        );
        let signed_in = self.client.complete_authorization(&request, callback.expose()).await?;
        let mut unsaved = self.tokens_lock.lock().await;
        self.save(&mut unsaved, signed_in.tokens).await?;
        Ok(signed_in.identity)
    }

    /// A valid access token: the stored one, or a renewed one when it has expired or expires
    /// within the skew. If renewal fails only transiently while the stored token is still
    /// valid, the stored token is returned. When the provider refuses renewal the stored
    /// sign-in is dropped and [`AuthError::NeedsSignIn`] returned.
    pub async fn access_token(&self) -> Result<SecretString, AuthError> {
        let mut unsaved = self.tokens_lock.lock().await;
        let tokens = self.load(&mut unsaved).await?;
        let now = self.client.now();
        if !tokens.expires_within(now, self.expiry_skew) {
            return Ok(tokens.access_token);
        }
        let still_valid = !tokens.is_expired(now);
        if still_valid && tokens.refresh_token.is_none() {
            return Ok(tokens.access_token);
        }
        match self.renew(&mut unsaved, &tokens).await {
            Err(error) if still_valid && error.is_retryable() && !matches!(error, AuthError::Store(_)) => {
                tracing::warn!(%error, "could not renew the access token yet; using the current one until it expires");
                Ok(tokens.access_token)
            }
            outcome => outcome,
        }
    }

    /// A new access token after a service refused `rejected` (HTTP 401): renews unless the
    /// stored token already differs from `rejected` (renewed meanwhile), then returns that one.
    pub async fn renew_rejected(&self, rejected: &SecretString) -> Result<SecretString, AuthError> {
        let mut unsaved = self.tokens_lock.lock().await;
        let tokens = self.load(&mut unsaved).await?;
        if tokens.access_token != *rejected {
            return Ok(tokens.access_token);
        }
        self.renew(&mut unsaved, &tokens).await
    }

    /// Renews `tokens` and stores the result; drops the sign-in when the provider refuses.
    /// Callers hold the tokens lock and pass what it guards.
    async fn renew(
        &self,
        unsaved: &mut Option<TokenSet>,
        tokens: &TokenSet,
    ) -> Result<SecretString, AuthError> {
        match self.client.refresh(tokens).await {
            Ok(renewed) => {
                let access_token = renewed.access_token.clone();
                self.save(unsaved, renewed).await?;
                Ok(access_token)
            }
            Err(AuthError::Token(TokenError::InvalidGrant { .. })) => {
                tracing::info!("the identity provider refused to renew the sign-in");
                *unsaved = None;
                self.store.delete(&self.store_key).await?;
                Err(AuthError::NeedsSignIn { reason: NeedsSignInReason::RefreshRejected })
            }
            Err(error @ AuthError::NeedsSignIn { .. }) => {
                *unsaved = None;
                self.store.delete(&self.store_key).await?;
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// Stores `tokens`, trying [`SAVE_ATTEMPTS`] times. When the store keeps failing, the
    /// tokens stay in memory (in `unsaved`) for this session and the failure is reported as a
    /// storage error: the sign-in goes on working, and the next call tries to save again.
    async fn save(&self, unsaved: &mut Option<TokenSet>, tokens: TokenSet) -> Result<(), AuthError> {
        let stored = tokens.to_stored();
        let mut attempt = 1;
        loop {
            match self.store.put(&self.store_key, stored.clone()).await {
                Ok(()) => {
                    *unsaved = None;
                    return Ok(());
                }
                Err(error) if attempt < SAVE_ATTEMPTS => {
                    tracing::warn!(%error, attempt, "could not save the new tokens; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(50 * u64::from(attempt))).await;
                    attempt += 1;
                }
                Err(error) => {
                    tracing::warn!(%error, "could not save the new tokens; keeping them for this session");
                    *unsaved = Some(tokens);
                    return Err(error.into());
                }
            }
        }
    }

    /// Whether tokens from an earlier sign-in are stored (they may still need renewing).
    pub async fn is_signed_in(&self) -> Result<bool, AuthError> {
        let unsaved = self.tokens_lock.lock().await;
        Ok(unsaved.is_some() || self.store.get(&self.store_key).await?.is_some())
    }

    /// Signs out: deletes the stored tokens, then asks the provider to revoke them if it has a
    /// revocation endpoint. Revocation is best effort; a failure is logged, not returned.
    pub async fn sign_out(&self) -> Result<(), AuthError> {
        let mut unsaved = self.tokens_lock.lock().await;
        let stored = self.store.get(&self.store_key).await?;
        self.store.delete(&self.store_key).await?;
        let Some(tokens) = unsaved.take().or_else(|| stored.as_ref().and_then(TokenSet::from_stored)) else {
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

    /// The current tokens: ones the store could not take yet (saved again now, if it can), else
    /// the stored ones; unreadable stored ones are dropped.
    async fn load(&self, unsaved: &mut Option<TokenSet>) -> Result<TokenSet, AuthError> {
        if let Some(tokens) = unsaved.clone() {
            if let Err(error) = self.store.put(&self.store_key, tokens.to_stored()).await {
                tracing::warn!(%error, "the new tokens still cannot be saved");
            } else {
                *unsaved = None;
            }
            return Ok(tokens);
        }
        let Some(stored) = self.store.get(&self.store_key).await? else {
            return Err(AuthError::NeedsSignIn { reason: NeedsSignInReason::NotSignedIn });
        };
        match TokenSet::from_stored(&stored) {
            Some(tokens) => Ok(tokens),
            None => {
                self.store.delete(&self.store_key).await?;
                Err(AuthError::NeedsSignIn { reason: NeedsSignInReason::StoredTokensUnreadable })
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
    if error.needs_sign_in() {
        AccessTokenError::LoginRequired(error.to_string())
    } else {
        AccessTokenError::Unavailable(error.to_string())
    }
}
