//! UniFFI bindings of the Unbox core for the phone shells: Kotlin on Android (and the JVM) and
//! Swift on iOS (and Linux).
//!
//! A thin layer: the core's domain types (flow events, device details, scan filters, ...) derive
//! UniFFI's traits behind core's feature `uniffi` and cross as they are (Kotlin package
//! `dev.unbox.core`, Swift module `Unbox`); records and enums of this crate's own exist only
//! where the shape must change at the boundary
//! (text checked into a typed error, secrets wrapped on arrival, errors the shells throw, which
//! need a conversion the orphan rule forbids on a core type), and each says why. Objects wrap
//! core objects, async functions run on the library's tokio runtime, and foreign traits let the
//! shells supply what only they own (the browser for sign-in, secure storage, Bluetooth,
//! logging). All onboarding logic, error classification included, lives in `unbox-core`.
//!
//! - `custom_types`: UUIDs arrive as the platforms' own UUID types (the core's mapping);
//! - [`runtime`]: the tokio runtime and [`CancelHandle`](runtime::CancelHandle);
//! - [`logging`]: forwards the core's `tracing` events to a foreign [`Logger`](logging::Logger);
//! - [`qr`]: reading onboarding codes and drawing QR codes;
//! - [`ble`]: the Bluetooth LE central the Android shell implements;
//! - [`native_ble`]: the operating system's central through btleplug (feature `btleplug`, for iOS);
//! - [`discovery`]: the live list of devices in setup mode;
//! - [`secret_store`] and [`auth`]: secure storage and signing in;
//! - [`phone_wifi`]: joining and leaving a device's access point;
//! - the DNS-SD browser that finds a captive-portal device on the home network is the core's
//!   `ServiceBrowser` seam itself, exported with its error by the core (same shape both sides);
//! - [`flow`]: the one-call onboarding, [`OnboardingClient`](flow::OnboardingClient);
//! - [`setup`]: the staged onboarding for apps with their own screens,
//!   [`SetupSession`](setup::SetupSession), and the network picker of the one-call flow;
//! - [`devices`]: the account's devices after setup (list, unbind, transfer), methods of the same client;
//! - `sim` (feature `sim`, tests only): the simulated device and cloud in-process;
//! - `panic_probe` (feature `panic-probe`, tests only): exports that panic, for the shipped profile's panic test.
//!
//! Secrets arrive from the shells as `String` and are wrapped into
//! [`SecretString`](unbox_core::secret::SecretString) at once; they never leave as text except
//! where a shell must show them on request (a payload summary with `reveal_secrets`).

#![warn(missing_docs)]

uniffi::setup_scaffolding!("unbox");

pub mod auth;
pub mod ble;
mod custom_types;
pub mod devices;
pub mod discovery;
pub mod flow;
pub mod logging;
#[cfg(any(feature = "btleplug", feature = "sim"))]
pub mod native_ble;
#[cfg(feature = "panic-probe")]
pub mod panic_probe;
pub mod phone_wifi;
pub mod qr;
pub mod runtime;
pub mod secret_store;
pub mod setup;
#[cfg(feature = "sim")]
pub mod sim;
