//! What a host provides: the seams between the core and a phone's or computer's platform, in one
//! place (as btleplug's `api/` stands apart from its `platform/` implementations).
//!
//! An app on a phone implements these in its shell (Kotlin, Swift) and hands them to the
//! onboarding service; a desktop uses the Rust implementations next to each seam or in
//! [`crate::auth::LoopbackAgent`] and the `btleplug` module; the simulator has in-memory ones.
//!
//! - [`ble`]: the Bluetooth LE central (scan, connect, GATT read/write/notify);
//! - [`phone_wifi`]: joining and leaving a device's access point, scanning Wi-Fi networks;
//! - [`authorization`]: showing the sign-in page and handing back the redirect;
//! - [`secret_store`]: keeping tokens and pending claims;
//! - [`service_browser`]: finding a device's DNS-SD announcement on the home network;
//! - [`clock`]: wall-clock time and waiting, so expiry and backoff are testable.

pub mod authorization;
pub mod ble;
pub mod clock;
pub mod phone_wifi;
pub mod secret_store;
pub mod service_browser;
