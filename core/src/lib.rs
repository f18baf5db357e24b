//! Unbox core: takes a headless device from "just unboxed" to "online and bound to its owner".
//!
//! Pure Rust, no FFI. The modules follow the onboarding flow:
//! - [`ble`] and [`transport`]: the links to a device in setup mode;
//! - [`security`]: protocomm session security 0/1/2;
//! - [`device`]: the ESP unified-provisioning client (version, Wi-Fi scan, config, status);
//! - [`secret`]: zeroized, redacted secret values.

#![warn(missing_docs)]

pub mod auth;
pub mod ble;
pub mod device;
pub mod http;
pub mod proto;
pub mod secret;
pub mod secret_store;
pub mod security;
pub mod transport;
