//! The one way Unbox builds internet HTTP clients (reqwest over the TLS profile of [`tls`]) and
//! reads their replies within a bound. Devices are reached through their own link
//! ([`crate::transport::softap`]).

use std::time::Duration;

mod tls;

fn base_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls::client_config())
        .user_agent(concat!("unbox/", env!("CARGO_PKG_VERSION")))
}

/// Most bytes read from a binding backend's reply (its JSON bodies are a few hundred bytes).
pub const BACKEND_REPLY_LIMIT: usize = 64 * 1024;
/// Most bytes read from an identity provider's reply (token responses, discovery documents).
pub const PROVIDER_REPLY_LIMIT: usize = 256 * 1024;

/// Why a reply body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The body declares or reaches more than the limit; reading stopped there.
    #[error("the reply is larger than {limit} bytes")]
    TooLarge {
        /// The limit it exceeds.
        limit: usize,
    },
    /// The connection failed while reading.
    #[error(transparent)]
    Network(#[from] reqwest::Error),
}

/// Reads a reply body of at most `limit` bytes: refused at once when its `Content-Length`
/// says more, and read chunk by chunk otherwise, stopping at the limit, so a hostile server
/// cannot make the phone buffer more.
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(ReadError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A client builder for talking to the internet (identity provider, binding backend).
pub fn internet_client_builder() -> reqwest::ClientBuilder {
    base_builder().connect_timeout(Duration::from_secs(10))
}
