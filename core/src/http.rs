//! The one way Unbox builds HTTP clients: rustls with bundled web roots (no platform verifier,
//! which would need JNI initialisation on Android), no proxy for device links.

use std::sync::Arc;
use std::time::Duration;

/// A client builder for talking to the internet (identity provider, binding backend).
pub fn internet_client_builder() -> reqwest::ClientBuilder {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("unbox/", env!("CARGO_PKG_VERSION")))
}

/// A plain-HTTP client builder for a device's access point: no proxy (the device network has
/// no internet and system proxies would swallow the request).
pub fn device_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().no_proxy().user_agent(concat!("unbox/", env!("CARGO_PKG_VERSION")))
}
