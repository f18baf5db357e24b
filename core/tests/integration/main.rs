//! The integration tests of unbox-core, in one test binary (one link of core and the simulator):
//! each module drives the real core against the simulated devices, identity provider, backend or
//! BLE central; `support` holds what they share.

mod support;

mod auth_binding;
mod auth_discovery;
mod auth_logging;
mod auth_login;
mod auth_loopback;
mod auth_session;
mod binding_flow;
mod binding_logging;
mod binding_openapi;
mod binding_resilience;
mod device_replies;
mod discovery_scanner;
mod discovery_table_props;
mod faults;
mod flow;
mod flow_logging;
mod handshakes;
mod improv;
mod links;
mod portal;
mod provisioning;
mod qr_properties;
