//! Signing the person in: OAuth 2.0 for native apps (RFC 8252) with the authorization code
//! grant, PKCE S256 (RFC 7636), `state`, an OpenID Connect `nonce`, issuer identification in
//! authorization responses (RFC 9207) and the security best current practice (RFC 9700).
//!
//! - [`AuthClient`]: the protocol (discovery, authorization URL, callback validation, code
//!   exchange, refresh, revocation);
//! - [`Session`]: sign in through an [`AuthorizationAgent`], keep tokens in a
//!   [`crate::platform::secret_store::SecretStore`], hand out fresh access tokens, sign out;
//! - [`LoopbackAgent`]: the desktop agent (system browser and a loopback redirect).
//!
//! Tokens never appear in logs or in `Debug` output.

mod browser;
mod callback;
mod client;
mod error;
mod http_client;
mod id_token;
mod loopback;
mod provider;
mod session;
mod tokens;

pub use browser::BrowserLauncher;
pub use callback::answers_authorization;
pub use client::{AuthClient, AuthorizationRequest, ClientConfig, SignedIn};
pub use error::{
    AuthError, CallbackError, ConfigError, IdTokenError, NeedsSignInReason, ProviderDiscoveryError,
    TokenError,
};
pub use id_token::Identity;
pub use loopback::{LoopbackAgent, ShowUrl};
pub use provider::ProviderMetadata;
pub use session::{DEFAULT_EXPIRY_SKEW, DEFAULT_TOKEN_KEY, Session};
pub use tokens::TokenSet;
