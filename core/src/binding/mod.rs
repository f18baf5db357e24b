//! Account binding: the app creates a single-use claim at the backend, pushes its token to the
//! device over the encrypted `unbox-claim` endpoint, the device redeems it with its factory
//! credential, and the app confirms the device id it learned over the PoP-authenticated session.
//!
//! The HTTP contract is `docs/binding-api.yaml` (OpenAPI 3.1); firmware authors read
//! `docs/firmware-guide.md`.
//! - [`BindingClient`]: the app's calls (create, long-poll, confirm, the confirm that waits for
//!   the redemption) with retries and token refresh;
//! - [`bindings`]: the binding's life after setup (device list, unbind, transfer, device check);
//! - `ClaimRedeemer` and `DeviceCredential`: the device's redeem call and binding check (used by
//!   the simulated device; feature `device-side`);
//! - [`device_claim`]: the protobuf messages of the `unbox-claim` endpoint (the device's side
//!   with feature `device-side`);
//! - [`wire`] and [`problem`]: the JSON bodies and problem types shared with the simulator.

pub mod bindings;
mod call;
mod client;
#[cfg(feature = "device-side")]
mod device_auth;
pub mod device_claim;
mod error;
mod model;
pub mod problem;
#[cfg(feature = "device-side")]
mod redeem;
mod retry;
mod token;
pub mod wire;

pub use bindings::{BindingId, BindingPage, DeviceBinding, EndReason, ListQuery, TransferOffer};
pub use client::{BindingClient, LONG_POLL_WAIT};
#[cfg(feature = "device-side")]
pub use device_auth::{
    BINDING_CHECK_SIGNING_PREFIX, DEVICE_AUTH_SCHEME, DeviceCredential, MAX_DEVICE_SECRET_LEN,
    MIN_DEVICE_SECRET_LEN, REDEEM_SIGNING_PREFIX,
};
pub use error::BindingError;
pub use model::{
    Binding, Claim, ClaimId, ClaimState, ClaimStatus, DeviceId, IdempotencyKey, InvalidValue,
    MAX_CLAIM_TOKEN_LEN, MAX_DEVICE_ID_LEN, MIN_CLAIM_TOKEN_LEN, check_claim_token, check_transfer_code,
};
#[cfg(feature = "device-side")]
pub use redeem::ClaimRedeemer;
pub use retry::{EqualJitter, Jitter, NoJitter, RetryPolicy};
pub use token::{AccessTokenError, AccessTokenSource, StaticAccessToken};
