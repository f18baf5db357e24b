//! ID tokens: JWTs signed with HS256 under a key that lives only in this simulator. Clients
//! receive them straight from the token endpoint and check the claims, not the signature
//! (OpenID Connect Core §3.1.3.7 item 6).

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use super::grants::Issued;

/// Builds and signs the ID token for `issued`.
pub(crate) fn sign(issuer: &str, issued: &Issued, now: SystemTime, key: &[u8]) -> String {
    let issued_at = unix_seconds(now);
    let mut claims = serde_json::json!({
        "iss": issuer,
        "sub": issued.user.subject,
        "aud": issued.client_id,
        "iat": issued_at,
        "auth_time": issued_at,
        "exp": issued_at.saturating_add(issued.expires_in.as_secs()),
        "email": issued.user.email,
        "name": issued.user.name,
    });
    if let Some(nonce) = &issued.nonce {
        claims["nonce"] = serde_json::Value::String(nonce.clone());
    }
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(signing_input.as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length; an empty signature would fail any verifier.
        Err(_) => String::new(),
    };
    format!("{signing_input}.{signature}")
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::idp::TestUser;

    #[test]
    fn id_token_carries_the_claims_and_a_verifiable_signature() {
        let issued = Issued {
            access_token: String::new(),
            refresh_token: String::new(),
            expires_in: Duration::from_secs(600),
            scopes: vec!["openid".into()],
            user: TestUser::default(),
            client_id: "app".into(),
            nonce: Some("n-1".into()),
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let token = sign("http://127.0.0.1:1", &issued, now, b"key");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "http://127.0.0.1:1");
        assert_eq!(claims["aud"], "app");
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(claims["exp"], 1_700_000_600);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    }
}
