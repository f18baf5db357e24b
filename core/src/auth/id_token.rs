//! Checks the OpenID Connect ID token that arrives with the tokens (OpenID Connect Core
//! §3.1.3.7). The token comes straight from the token endpoint over a server-authenticated
//! connection, which §3.1.3.7 item 6 accepts in place of a signature check; the claims that tie it
//! to this sign-in (issuer, audience, nonce, expiry) are checked here.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::error::{IdTokenError, provider_text};
use crate::platform::clock::unix_seconds;

/// Allowance for clock differences between this device and the provider.
const CLOCK_LEEWAY: Duration = Duration::from_secs(60);

/// Who signed in, as stated by the ID token checked at sign-in. For display only ("signed in
/// as ..."): it is never proof of anything to a backend, which checks the access token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Identity {
    /// The provider's stable identifier for the person.
    pub subject: String,
    /// Their e-mail address, if shared.
    pub email: Option<String>,
    /// Their display name, if shared.
    pub name: Option<String>,
}

/// What an ID token must match.
pub(crate) struct Expected<'a> {
    /// The provider's issuer, when known.
    pub issuer: Option<&'a str>,
    /// This app's client id.
    pub client_id: &'a str,
    /// The nonce sent with the authorization request.
    pub nonce: &'a str,
    /// The current time.
    pub now: SystemTime,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: f64,
    nonce: Option<String>,
    azp: Option<String>,
    email: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Decodes `token` and checks it belongs to this sign-in.
pub(crate) fn validate(token: &str, expected: &Expected<'_>) -> Result<Identity, IdTokenError> {
    let malformed = |reason: &str| IdTokenError::Malformed { reason: reason.to_owned() };
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not three dot-separated parts"));
    };
    let payload = zeroize::Zeroizing::new(
        URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed("payload is not base64url"))?,
    );
    let claims: Claims = serde_json::from_slice(&payload)
        .map_err(|error| IdTokenError::Malformed { reason: provider_text(&error.to_string()) })?;
    if let Some(issuer) = expected.issuer
        && claims.iss != issuer
    {
        return Err(IdTokenError::IssuerMismatch {
            expected: issuer.to_owned(),
            found: provider_text(&claims.iss),
        });
    }
    let audience_ok = match &claims.aud {
        Audience::One(audience) => audience == expected.client_id,
        Audience::Many(audiences) => {
            audiences.iter().any(|audience| audience == expected.client_id)
                && (audiences.len() == 1 || claims.azp.as_deref() == Some(expected.client_id))
        }
    };
    if !audience_ok {
        return Err(IdTokenError::AudienceMismatch);
    }
    if claims.nonce.as_deref() != Some(expected.nonce) {
        return Err(IdTokenError::NonceMismatch);
    }
    if !claims.exp.is_finite()
        || claims.exp + (CLOCK_LEEWAY.as_secs() as f64) <= unix_seconds(expected.now) as f64
    {
        return Err(IdTokenError::Expired);
    }
    if claims.sub.is_empty() {
        return Err(malformed("empty subject"));
    }
    Ok(Identity { subject: claims.sub, email: claims.email, name: claims.name })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: serde_json::Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{header}.{payload}.c2lnbmF0dXJl")
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({
            "iss": "https://idp.example", "sub": "user-1", "aud": "unbox-app",
            "exp": 1_700_000_600, "iat": 1_700_000_000, "nonce": "n-0S6_WzA2Mj",
            "email": "alice@example.com", "name": "Alice"
        })
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: Some("https://idp.example"),
            client_id: "unbox-app",
            nonce: "n-0S6_WzA2Mj",
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_100),
        }
    }

    fn with(key: &str, value: serde_json::Value) -> String {
        let mut claims = claims();
        claims[key] = value;
        token(claims)
    }

    #[test]
    fn accepts_a_matching_token() {
        let identity = validate(&token(claims()), &expected()).unwrap();
        assert_eq!(
            identity,
            Identity {
                subject: "user-1".into(),
                email: Some("alice@example.com".into()),
                name: Some("Alice".into())
            }
        );
        let many = with("aud", serde_json::json!(["unbox-app", "other"]));
        assert_eq!(validate(&many, &expected()), Err(IdTokenError::AudienceMismatch));
        let mut claims = claims();
        claims["aud"] = serde_json::json!(["unbox-app", "other"]);
        claims["azp"] = serde_json::json!("unbox-app");
        assert!(validate(&token(claims), &expected()).is_ok());
    }

    #[test]
    fn rejects_tokens_of_other_sign_ins() {
        assert!(matches!(
            validate(&with("iss", "https://evil.example".into()), &expected()),
            Err(IdTokenError::IssuerMismatch { .. })
        ));
        assert_eq!(
            validate(&with("aud", "other-app".into()), &expected()),
            Err(IdTokenError::AudienceMismatch)
        );
        assert_eq!(
            validate(&with("nonce", "replayed".into()), &expected()),
            Err(IdTokenError::NonceMismatch)
        );
        assert_eq!(validate(&with("exp", 1_699_999_000.into()), &expected()), Err(IdTokenError::Expired));
    }

    #[test]
    fn rejects_malformed_tokens() {
        for bad in ["", "a.b", "a.b.c.d", "a.!!!.c", "a.e30.c"] {
            assert!(matches!(validate(bad, &expected()), Err(IdTokenError::Malformed { .. })), "{bad}");
        }
    }
}
