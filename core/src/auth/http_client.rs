//! Adapts Unbox's HTTP client to the `oauth2` crate. Server failures (5xx, 429) become transport errors here so that they stay
//! distinguishable from OAuth error responses.

use crate::http::{HttpClient, PROVIDER_REPLY_LIMIT, ReadError, StatusCode, error_chain};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

/// How long one request to the identity provider may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The client for talking to an identity provider: Unbox's internet client (which follows no
/// redirects: a token endpoint must answer directly) with a time limit per request.
pub(crate) fn provider_client() -> HttpClient {
    HttpClient::with_request_timeout(REQUEST_TIMEOUT)
}

/// An HTTP client that the `oauth2` crate can send its requests through.
#[derive(Debug, Clone)]
pub(crate) struct OAuthHttpClient {
    client: HttpClient,
}

impl OAuthHttpClient {
    /// Wraps `client`.
    pub(crate) fn new(client: HttpClient) -> Self {
        Self { client }
    }

    /// The underlying client, for requests `oauth2` does not make.
    pub(crate) fn client(&self) -> &HttpClient {
        &self.client
    }
}

/// Why a request to the identity provider produced no OAuth answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpFailure {
    /// The request could not be sent or the answer not read.
    #[error("{0}")]
    Network(String),
    /// The server failed or is overloaded.
    #[error("HTTP {0}")]
    ServerStatus(u16),
    /// The request `oauth2` built could not be converted (a bug).
    #[error("{0}")]
    InvalidRequest(String),
}

impl<'c> AsyncHttpClient<'c> for OAuthHttpClient {
    type Error = HttpFailure;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpFailure>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (head, body) = request.into_parts();
            let url = url::Url::parse(&head.uri.to_string())
                .map_err(|error| HttpFailure::InvalidRequest(format!("`{}`: {error}", head.uri)))?;
            let mut outgoing = self.client.request(head.method, url).body(body);
            for (name, value) in &head.headers {
                outgoing = outgoing.header(name, value);
            }
            let response =
                outgoing.send().await.map_err(|error| HttpFailure::Network(error_chain(&error)))?;
            let status = response.status();
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                return Err(HttpFailure::ServerStatus(status.as_u16()));
            }
            let mut builder = oauth2::http::Response::builder().status(status);
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes_capped(PROVIDER_REPLY_LIMIT).await.map_err(|error| match error {
                ReadError::Network(error) => HttpFailure::Network(error_chain(&error)),
                too_large => HttpFailure::InvalidRequest(too_large.to_string()),
            })?;
            builder.body(body).map_err(|error| HttpFailure::InvalidRequest(error.to_string()))
        })
    }
}
