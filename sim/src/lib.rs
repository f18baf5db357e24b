//! Unbox simulator: devices faithful to ESP-IDF provisioning firmware, reachable over a real
//! HTTP server on loopback (SoftAP) or an in-memory BLE world, and the binding backend, so apps
//! and tests run the whole onboarding flow without hardware.

#![warn(missing_docs)]

pub mod assistant;
pub mod backend;
pub mod ble;
pub mod browser;
pub mod cloud;
pub mod device;
pub mod hostile;
pub mod idp;
pub mod latency;
pub mod mdns;
pub mod phone;
pub mod softap;
pub mod world;
