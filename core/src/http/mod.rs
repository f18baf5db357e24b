//! The one way Unbox builds HTTP clients: reqwest over the TLS profile of [`tls`].

use std::time::Duration;

mod tls;

fn base_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls::client_config())
        .user_agent(concat!("unbox/", env!("CARGO_PKG_VERSION")))
}

/// A client builder for talking to the internet (identity provider, binding backend).
pub fn internet_client_builder() -> reqwest::ClientBuilder {
    base_builder().connect_timeout(Duration::from_secs(10))
}

/// A plain-HTTP client builder for a device's access point: no proxy (the device network has
/// no internet, and a system proxy would swallow the request).
pub fn device_client_builder() -> reqwest::ClientBuilder {
    base_builder().no_proxy()
}
