//! The one way Unbox builds HTTP clients: rustls with the ring provider and bundled web roots
//! (no platform verifier, which would need JNI initialisation on Android).

use std::sync::Arc;
use std::time::Duration;

fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

fn base_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls_config())
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
