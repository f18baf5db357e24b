//! Unbox simulator: devices faithful to ESP-IDF provisioning firmware, reachable over a real
//! HTTP server on loopback (SoftAP) or an in-memory BLE world, so apps and tests run the whole
//! onboarding flow without hardware.

#![warn(missing_docs)]

pub mod ble;
pub mod device;
pub mod idp;
pub mod softap;
