//! The identity provider's endpoints: discovered from its metadata (OpenID Connect Discovery,
//! falling back to RFC 8414 OAuth metadata) with issuer validation, or given explicitly.

use crate::http::{HttpClient, HttpError, PROVIDER_REPLY_LIMIT, ReadError, StatusCode, header};
use std::net::IpAddr;

use serde::Deserialize;
use url::Url;

use super::error::{ConfigError, ProviderDiscoveryError, provider_text};
use crate::http::error_chain;

/// Where a provider's endpoints are and which promises it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMetadata {
    /// The provider's issuer identifier, when known; responses and ID tokens must name it.
    pub issuer: Option<String>,
    /// Where the person is sent to sign in and consent.
    pub authorization_endpoint: Url,
    /// Where codes and refresh tokens are exchanged for tokens.
    pub token_endpoint: Url,
    /// Where tokens are revoked on sign-out (RFC 7009), if the provider has one.
    pub revocation_endpoint: Option<Url>,
    /// Whether the provider promises an `iss` parameter in authorization responses (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
}

impl ProviderMetadata {
    /// Explicit endpoints, for providers without discovery. Plain http is accepted only for
    /// loopback hosts unless `allow_insecure_http` is set.
    pub fn new(
        authorization_endpoint: &str,
        token_endpoint: &str,
        allow_insecure_http: bool,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            issuer: None,
            authorization_endpoint: checked_url(
                "authorization endpoint",
                authorization_endpoint,
                allow_insecure_http,
            )?,
            token_endpoint: checked_url("token endpoint", token_endpoint, allow_insecure_http)?,
            revocation_endpoint: None,
            authorization_response_iss_parameter_supported: false,
        })
    }

    /// Adds the issuer identifier; with `iss_parameter_supported`, authorization responses
    /// lacking a matching `iss` are rejected.
    pub fn with_issuer(mut self, issuer: impl Into<String>, iss_parameter_supported: bool) -> Self {
        self.issuer = Some(issuer.into());
        self.authorization_response_iss_parameter_supported = iss_parameter_supported;
        self
    }

    /// Adds a revocation endpoint used on sign-out.
    pub fn with_revocation_endpoint(
        mut self,
        revocation_endpoint: &str,
        allow_insecure_http: bool,
    ) -> Result<Self, ConfigError> {
        self.revocation_endpoint =
            Some(checked_url("revocation endpoint", revocation_endpoint, allow_insecure_http)?);
        Ok(self)
    }

    /// Fetches the metadata of `issuer`: `{issuer}/.well-known/openid-configuration` first, then
    /// the RFC 8414 location. The document must name exactly `issuer` and allow PKCE S256.
    pub(crate) async fn discover(
        http: &HttpClient,
        issuer: &str,
        allow_insecure_http: bool,
    ) -> Result<Self, ProviderDiscoveryError> {
        let issuer_url = checked_url("issuer", issuer, allow_insecure_http)?;
        if issuer_url.query().is_some() || issuer_url.fragment().is_some() {
            return Err(ConfigError::InvalidUrl {
                what: "issuer",
                url: issuer.to_owned(),
                reason: "an issuer has no query or fragment".into(),
            }
            .into());
        }
        let (url, document) = match fetch_document(http, &openid_configuration_url(&issuer_url)).await? {
            Fetched::Document(url, body) => (url, body),
            Fetched::Missing(_) => match fetch_document(http, &oauth_metadata_url(&issuer_url)).await? {
                Fetched::Document(url, body) => (url, body),
                Fetched::Missing(404) => {
                    return Err(ProviderDiscoveryError::NotFound { issuer: issuer.to_owned() });
                }
                Fetched::Missing(status) => {
                    return Err(ProviderDiscoveryError::HttpStatus {
                        url: oauth_metadata_url(&issuer_url).to_string(),
                        status,
                    });
                }
            },
        };
        let document: MetadataDocument =
            serde_json::from_slice(&document).map_err(|error| ProviderDiscoveryError::InvalidDocument {
                url: url.to_string(),
                reason: provider_text(&error.to_string()),
            })?;
        if document.issuer != issuer {
            return Err(ProviderDiscoveryError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: provider_text(&document.issuer),
            });
        }
        if let Some(methods) = &document.code_challenge_methods_supported
            && !methods.iter().any(|method| method == "S256")
        {
            return Err(ProviderDiscoveryError::PkceNotSupported);
        }
        let mut metadata =
            Self::new(&document.authorization_endpoint, &document.token_endpoint, allow_insecure_http)?
                .with_issuer(document.issuer, document.authorization_response_iss_parameter_supported);
        if let Some(revocation) = &document.revocation_endpoint {
            metadata = metadata.with_revocation_endpoint(revocation, allow_insecure_http)?;
        }
        tracing::debug!(issuer, metadata_url = %url, "identity provider discovered");
        Ok(metadata)
    }
}

/// The fields of OpenID Provider / OAuth Authorization Server metadata Unbox uses.
#[derive(Deserialize)]
struct MetadataDocument {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    revocation_endpoint: Option<String>,
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

enum Fetched {
    Document(Url, Vec<u8>),
    /// A client error status: the document is not at this location.
    Missing(u16),
}

async fn fetch_document(http: &HttpClient, url: &Url) -> Result<Fetched, ProviderDiscoveryError> {
    let network = |error: HttpError| ProviderDiscoveryError::Network {
        url: url.to_string(),
        reason: error_chain(&error),
    };
    let response =
        http.get(url.clone()).header(header::ACCEPT, "application/json").send().await.map_err(network)?;
    let status = response.status();
    if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
        return Ok(Fetched::Missing(status.as_u16()));
    }
    if !status.is_success() {
        return Err(ProviderDiscoveryError::HttpStatus { url: url.to_string(), status: status.as_u16() });
    }
    let body = response.bytes_capped(PROVIDER_REPLY_LIMIT).await.map_err(|error| match error {
        ReadError::Network(error) => network(error),
        too_large => {
            ProviderDiscoveryError::InvalidDocument { url: url.to_string(), reason: too_large.to_string() }
        }
    })?;
    Ok(Fetched::Document(url.clone(), body))
}

/// OpenID Connect Discovery 1.0 §4: the well-known path is appended to the issuer.
fn openid_configuration_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    let path = format!("{}/.well-known/openid-configuration", issuer.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

/// RFC 8414 §3.1: the well-known path goes between the host and the issuer's path.
fn oauth_metadata_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    let path = format!("/.well-known/oauth-authorization-server{}", issuer.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

/// Parses an endpoint URL and enforces https, except plain http to this computer's loopback
/// interface (RFC 8252 §8.3) or when explicitly allowed (a simulator on the local network).
pub(crate) fn checked_url(
    what: &'static str,
    value: &str,
    allow_insecure_http: bool,
) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|error| ConfigError::InvalidUrl {
        what,
        url: value.to_owned(),
        reason: match error {
            // Unbox is built without Unicode host names (see `idna_adapter` in Cargo.toml).
            url::ParseError::IdnaError => {
                "write an international host name in its ASCII (xn--) form".to_owned()
            }
            other => other.to_string(),
        },
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure_http || is_loopback(&url) => Ok(url),
        "http" => Err(ConfigError::InsecureUrl { what, url: value.to_owned() }),
        other => Err(ConfigError::InvalidUrl {
            what,
            url: value.to_owned(),
            reason: format!("scheme `{other}` is not http(s)"),
        }),
    }
}

/// Whether the URL's host is this computer (127.0.0.0/8, ::1 or `localhost`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_host_names_must_be_written_in_ascii() {
        let error = checked_url("issuer", "https://bücher.example/", false).unwrap_err();
        assert!(error.to_string().contains("ASCII (xn--) form"), "{error}");
        let ascii = checked_url("issuer", "https://xn--bcher-kva.example/", false).unwrap();
        assert_eq!(ascii.host_str(), Some("xn--bcher-kva.example"));
    }

    #[test]
    fn well_known_locations_follow_both_specs() {
        let root = Url::parse("https://login.example.com").unwrap();
        let tenant = Url::parse("https://login.example.com/tenant/").unwrap();
        assert_eq!(
            openid_configuration_url(&root).as_str(),
            "https://login.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            openid_configuration_url(&tenant).as_str(),
            "https://login.example.com/tenant/.well-known/openid-configuration"
        );
        assert_eq!(
            oauth_metadata_url(&root).as_str(),
            "https://login.example.com/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            oauth_metadata_url(&tenant).as_str(),
            "https://login.example.com/.well-known/oauth-authorization-server/tenant"
        );
    }

    #[test]
    fn plain_http_only_for_loopback_or_when_allowed() {
        assert!(checked_url("issuer", "https://idp.example", false).is_ok());
        assert!(checked_url("issuer", "http://127.0.0.1:8080", false).is_ok());
        assert!(checked_url("issuer", "http://[::1]:8080", false).is_ok());
        assert!(checked_url("issuer", "http://localhost", false).is_ok());
        assert_eq!(
            checked_url("issuer", "http://10.0.2.2:8080", false),
            Err(ConfigError::InsecureUrl { what: "issuer", url: "http://10.0.2.2:8080".into() })
        );
        assert!(checked_url("issuer", "http://10.0.2.2:8080", true).is_ok());
        assert!(matches!(checked_url("issuer", "ftp://idp", true), Err(ConfigError::InvalidUrl { .. })));
        assert!(matches!(checked_url("issuer", "not a url", true), Err(ConfigError::InvalidUrl { .. })));
    }

    #[test]
    fn explicit_metadata_carries_issuer_promises() {
        let metadata = ProviderMetadata::new("https://idp/authorize", "https://idp/token", false)
            .unwrap()
            .with_issuer("https://idp", true)
            .with_revocation_endpoint("https://idp/revoke", false)
            .unwrap();
        assert_eq!(metadata.issuer.as_deref(), Some("https://idp"));
        assert!(metadata.authorization_response_iss_parameter_supported);
        assert_eq!(metadata.revocation_endpoint.unwrap().as_str(), "https://idp/revoke");
    }
}
