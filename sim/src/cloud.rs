//! The simulated cloud: identity provider and binding backend on one HTTP server, so the
//! issuer URL and the backend URL are the same base URL.

use std::net::SocketAddr;
use std::sync::Arc;

use unbox_core::binding::DeviceCredential;

use crate::backend::{BackendConfig, BindingBackend, LoopbackServer};
use crate::idp::{IdentityProvider, IdpConfig, SKILL_CLIENT_ID};

/// The identity provider and the binding backend, served together.
pub struct SimCloud {
    idp: Arc<IdentityProvider>,
    backend: BindingBackend,
    server: LoopbackServer,
    base_url: String,
}

impl SimCloud {
    /// Serves both on `listen`. `public_base_url` is the URL clients use (it becomes the issuer);
    /// by default `http://<listen>/`, with `127.0.0.1` for an unspecified address.
    pub async fn start(
        listen: SocketAddr,
        public_base_url: Option<String>,
        idp: IdpConfig,
        backend: BackendConfig,
    ) -> std::io::Result<Self> {
        // Listen first: the issuer URL needs the port (held, so no other process takes it).
        let reserved = LoopbackServer::reserve(listen)?;
        let address = reserved.local_addr();
        let base_url = public_base_url.unwrap_or_else(|| {
            let host =
                if address.ip().is_unspecified() { "127.0.0.1".to_owned() } else { address.ip().to_string() };
            format!("http://{host}:{}", address.port())
        });
        let base_url = base_url.trim_end_matches('/').to_owned();
        let idp = IdentityProvider::new(base_url.clone(), idp);
        let backend = BindingBackend::new(idp.clone(), backend);
        // The voice-assistant skill's tokens may list the customer's devices, nothing more.
        backend.link_client(SKILL_CLIENT_ID);
        let router = idp.router().merge(backend.router());
        let server = reserved.serve(router);
        Ok(Self { idp, backend, server, base_url })
    }

    /// Starts on a free loopback port with default settings.
    pub async fn start_loopback() -> std::io::Result<Self> {
        Self::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            None,
            IdpConfig::default(),
            BackendConfig::default(),
        )
        .await
    }

    /// The base URL: the OAuth issuer and the binding backend.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The identity provider.
    pub fn idp(&self) -> &Arc<IdentityProvider> {
        &self.idp
    }

    /// The binding backend.
    pub fn backend(&self) -> &BindingBackend {
        &self.backend
    }

    /// The HTTP server (to take it down and up again in tests).
    pub fn server(&self) -> &LoopbackServer {
        &self.server
    }

    /// Registers a new device at the backend as the factory would, returning its credential.
    pub fn manufacture_device(&self, device_id: &str) -> DeviceCredential {
        self.backend.provision_device(device_id).expect("simulated device ids are valid")
    }
}
