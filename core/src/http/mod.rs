//! The one way Unbox talks HTTP to the internet ([`HttpClient`], over the TLS profile of
//! [`tls`]) and reads replies within a bound. Devices are reached through their own link
//! ([`crate::transport::softap`]).

mod client;
mod tls;

pub use client::{HttpClient, HttpError, RequestBuilder, Response};
pub use http::{Method, StatusCode, header};

/// Unbox's TLS profile as a rustls configuration, for the simulator's and tests' own HTTP
/// clients (stand-ins for a browser or a voice assistant's cloud) that talk to the same servers.
pub fn tls_client_config() -> rustls::ClientConfig {
    tls::client_config()
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
    Network(#[from] HttpError),
}

/// An error and its sources as one line, each cause only when it adds something, e.g.
/// "could not connect to host:443: connection refused".
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn error_chain_joins_sources() {
        let error = Outer(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused"));
        assert_eq!(error_chain(&error), "outer: connection refused");
    }
}
