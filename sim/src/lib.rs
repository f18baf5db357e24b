//! Unbox simulator: devices, identity provider and binding backend on loopback.

pub mod backend;
