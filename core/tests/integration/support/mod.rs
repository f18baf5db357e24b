//! What the integration tests share: simulated devices and links, the simulated identity
//! provider with a scripted agent, the simulated binding backend, and one log capture.

pub mod auth;
pub mod binding;
pub mod devices;
pub mod logs;
