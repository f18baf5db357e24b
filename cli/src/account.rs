//! The desktop account: where secrets live (keyring, or a private file), which identity provider
//! and backend the person signed in with, and `unbox sign-in` / `unbox sign-out`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use unbox_core::auth::{AuthClient, AuthError, ClientConfig, LoopbackAgent, Session};
use unbox_core::platform::secret_store::{
    FileSecretStore, KeyringSecretStore, SecretStore, SecretStoreError,
};
use unbox_core::secret::SecretString;

use crate::exit::{Code, Failure};

const ACCOUNT_KEY: &str = "unbox.cli.account";
const KEYRING_SERVICE: &str = "unbox";

/// Where the CLI keeps secrets and state.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Keep tokens and onboarding state in this directory (a private file) instead of the
    /// desktop keyring.
    #[arg(long, global = true, env = "UNBOX_STATE_DIR")]
    state_dir: Option<PathBuf>,
}

impl StoreArgs {
    /// The secret store: the keyring when it works, else `~/.config/unbox/secrets.json`.
    pub async fn open(&self) -> Arc<dyn SecretStore> {
        if let Some(dir) = &self.state_dir {
            return Arc::new(FileSecretStore::new(dir.join("secrets.json")));
        }
        let keyring = KeyringSecretStore::new(KEYRING_SERVICE);
        match keyring.get(ACCOUNT_KEY).await {
            Ok(_) => Arc::new(keyring),
            Err(error) => {
                let dir = std::env::var_os("XDG_CONFIG_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
                    .unwrap_or_else(std::env::temp_dir)
                    .join("unbox");
                eprintln!("note: no desktop keyring; secrets are kept in {} (mode 0600)", dir.display());
                tracing::debug!(%error, "the desktop keyring did not answer");
                Arc::new(FileSecretStore::new(dir.join("secrets.json")))
            }
        }
    }
}

/// The identity provider and backend the person signed in with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    /// OAuth issuer URL.
    pub issuer: String,
    /// OAuth client id.
    pub client_id: String,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// Binding backend URL.
    pub backend: String,
}

/// A failure of `what` (signing in or out), with the exit status of the core's user action.
fn auth_failure(what: &'static str) -> impl FnOnce(AuthError) -> Failure {
    move |error| Failure::new(error.user_action().into(), format!("{what} failed: {error}"))
}

fn store_failure(error: SecretStoreError) -> Failure {
    Failure::new(Code::Unavailable, error.to_string())
}

impl Account {
    /// The account saved by `unbox sign-in`.
    pub async fn load(store: &dyn SecretStore) -> Result<Self, Failure> {
        let text = store.get(ACCOUNT_KEY).await.map_err(store_failure)?.ok_or_else(|| {
            Failure::new(Code::SignIn, "not signed in: run `unbox sign-in --issuer URL --client-id ID` first")
        })?;
        serde_json::from_str(text.expose()).map_err(|e| {
            Failure::new(Code::SignIn, format!("saved account unreadable ({e}); run `unbox sign-in` again"))
        })
    }

    async fn save(&self, store: &dyn SecretStore) -> Result<(), Failure> {
        let text = serde_json::to_string(self).map_err(|e| Failure::new(Code::Internal, e.to_string()))?;
        store.put(ACCOUNT_KEY, SecretString::new(text)).await.map_err(store_failure)
    }

    /// A session with this provider; signing in (if needed) opens the system browser, or prints
    /// the URL to open.
    pub async fn session(&self, store: Arc<dyn SecretStore>) -> Result<Arc<Session>, Failure> {
        let agent = LoopbackAgent::bind(|url| {
            eprintln!("Open this page to sign in:\n  {url}");
        })
        .await
        .map_err(|e| Failure::new(Code::Unavailable, e.to_string()))?;
        let config =
            ClientConfig::new(&self.client_id, agent.redirect_uri()).with_scopes(self.scopes.clone());
        let client = AuthClient::discover(config, &self.issuer)
            .await
            .map_err(|e| auth_failure("sign-in")(e.into()))?;
        Ok(Arc::new(Session::new(client, Arc::new(agent), store)))
    }
}

/// Arguments of `sign-in`.
#[derive(Args)]
pub struct SignInArgs {
    /// The identity provider (OAuth issuer URL).
    #[arg(long)]
    issuer: String,
    /// The app's OAuth client id.
    #[arg(long)]
    client_id: String,
    /// Scopes to ask for (repeat); `openid` shows who signed in.
    #[arg(long = "scope", default_values = ["openid", "profile"])]
    scopes: Vec<String>,
    /// The binding backend (defaults to the issuer's origin).
    #[arg(long)]
    backend: Option<String>,
}

/// Signs in and remembers the account.
pub async fn sign_in(args: SignInArgs, store: Arc<dyn SecretStore>, json: bool) -> Result<(), Failure> {
    let account = Account {
        backend: args.backend.clone().unwrap_or_else(|| args.issuer.clone()),
        issuer: args.issuer,
        client_id: args.client_id,
        scopes: args.scopes,
    };
    let session = account.session(store.clone()).await?;
    let identity = session.sign_in().await.map_err(auth_failure("sign-in"))?;
    account.save(store.as_ref()).await?;
    let who = identity.map(|i| i.email.or(i.name).unwrap_or(i.subject));
    if json {
        println!("{}", serde_json::json!({"signed_in": true, "user": who, "issuer": account.issuer}));
    } else {
        println!("signed in{} at {}", who.map(|w| format!(" as {w}")).unwrap_or_default(), account.issuer);
    }
    Ok(())
}

/// Signs out: revokes and deletes the tokens, forgets the account.
pub async fn sign_out(store: Arc<dyn SecretStore>, json: bool) -> Result<(), Failure> {
    if let Ok(account) = Account::load(store.as_ref()).await {
        let session = account.session(store.clone()).await?;
        session.sign_out().await.map_err(auth_failure("signing out"))?;
    }
    store.delete(ACCOUNT_KEY).await.map_err(store_failure)?;
    if json {
        println!("{}", serde_json::json!({"signed_in": false}));
    } else {
        println!("signed out");
    }
    Ok(())
}
