//! Unbox core: takes a headless device from "just unboxed" to "online and bound to its owner".
//!
//! Pure Rust, no FFI. The modules follow the onboarding flow:
//! - [`platform`]: what a host provides (BLE central, phone Wi-Fi, authorization agent, secret
//!   store, service browser, clock): the seams, in one place; `btleplug` (feature `btleplug`)
//!   is the BLE central for desktops and iOS;
//! - [`auth`]: OAuth 2.0 sign-in in the system browser (PKCE), tokens in a secret store;
//! - [`discovery`]: finding devices in setup mode over BLE and SoftAP;
//! - [`transport`]: the links to a device in setup mode (SoftAP HTTP, BLE GATT);
//! - [`security`]: protocomm session security 0/1/2;
//! - [`device`]: the ESP unified-provisioning client (version, Wi-Fi scan, config, status);
//! - [`portal`]: captive-portal (WiFiManager-style) devices;
//! - [`binding`]: account binding with the backend (claims) and the device's `unbox-claim` endpoint;
//! - [`improv`]: the Improv Wi-Fi client (BLE; serial with feature `improv-serial`);
//! - [`onboarding`]: the staged, protocol-neutral device API (connect, details, networks,
//!   provision, claim hand-over, close) every device protocol implements;
//! - [`flow`]: the one-call onboarding flow tying them together over [`onboarding`];
//! - [`qr`]: onboarding codes (Espressif, Wi-Fi, Matter, DPP, Unbox);
//! - [`secret`]: zeroized, redacted secret values;
//! - [`UserAction`]: what the person can do about any failure (`user_action()` on every error).

#![warn(missing_docs)]

pub mod auth;
pub mod binding;
#[cfg(feature = "btleplug")]
pub mod btleplug;
pub mod device;
pub mod discovery;
#[cfg(feature = "factory")]
pub mod factory;
pub mod flow;
pub mod http;
pub mod improv;
pub mod onboarding;
pub mod platform;
pub mod portal;
mod prefix;
pub mod proto;
pub mod qr;
pub mod secret;
pub mod security;
pub mod transport;
#[cfg(feature = "uniffi")]
mod uniffi_support;
mod user_action;

pub use user_action::UserAction;

// The domain types derive UniFFI's traits behind feature `uniffi` (for `bindings/`, the phones'
// library), so the bindings export them as they are.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
