//! How a device proves its identity to the binding backend when it redeems a claim.
//!
//! At the factory every device gets a `device_id` and a random secret of 16–64 bytes (32
//! recommended) that the backend also knows. A redeem request carries
//! `Authorization: Unbox-HMAC-SHA256 <sig>` where `sig` is the unpadded base64url of
//! `HMAC-SHA256(secret, "unbox-redeem-v1\n" || body)` over the exact request body bytes. The
//! body names the device and holds the single-use claim token, so the secret never travels and a
//! replayed request can only redeem a token that is already spent. No clock is needed, which
//! matters because a device that just joined Wi-Fi has not synchronised its time yet.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::model::{DeviceId, InvalidValue};
use crate::secret::SecretBytes;

/// The HTTP authentication scheme of a redeem request.
pub const DEVICE_AUTH_SCHEME: &str = "Unbox-HMAC-SHA256";
/// Domain-separation prefix of the signed message.
pub const REDEEM_SIGNING_PREFIX: &[u8] = b"unbox-redeem-v1\n";
/// Domain-separation prefix of a binding check (`POST /v1/device/binding`), so neither request
/// can stand in for the other.
pub const BINDING_CHECK_SIGNING_PREFIX: &[u8] = b"unbox-binding-check-v1\n";
/// Shortest accepted device secret (bytes).
pub const MIN_DEVICE_SECRET_LEN: usize = 16;
/// Longest accepted device secret (bytes).
pub const MAX_DEVICE_SECRET_LEN: usize = 64;

/// A device's factory credential: its id and the secret it shares with the backend.
#[derive(Clone)]
pub struct DeviceCredential {
    device_id: DeviceId,
    /// HMAC state keyed with the secret (zeroized on drop); the raw secret is not kept.
    keyed: Hmac<Sha256>,
}

impl DeviceCredential {
    /// Pairs an id with its secret (16–64 bytes).
    pub fn new(device_id: DeviceId, secret: SecretBytes) -> Result<Self, InvalidValue> {
        let wrong_length = InvalidValue { what: "device secret", reason: "it must be 16 to 64 bytes long" };
        if !(MIN_DEVICE_SECRET_LEN..=MAX_DEVICE_SECRET_LEN).contains(&secret.len()) {
            return Err(wrong_length);
        }
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose()).map_err(|_| wrong_length)?;
        Ok(Self { device_id, keyed })
    }

    /// The device's id.
    pub fn device_id(&self) -> &DeviceId {
        &self.device_id
    }

    fn mac(&self, prefix: &[u8], body: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(prefix);
        mac.update(body);
        mac
    }

    /// The signature of a redeem request body (unpadded base64url).
    pub fn sign(&self, body: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(REDEEM_SIGNING_PREFIX, body).finalize().into_bytes())
    }

    /// The `Authorization` header value for a redeem request with this body.
    pub fn authorization(&self, body: &[u8]) -> String {
        self.authorization_with(REDEEM_SIGNING_PREFIX, body)
    }

    /// The `Authorization` header value for a body signed after `prefix` (a `*_SIGNING_PREFIX`).
    pub fn authorization_with(&self, prefix: &[u8], body: &[u8]) -> String {
        let signature = URL_SAFE_NO_PAD.encode(self.mac(prefix, body).finalize().into_bytes());
        format!("{DEVICE_AUTH_SCHEME} {signature}")
    }

    /// Checks an `Authorization` header value against a redeem body, in constant time.
    pub fn verify(&self, authorization: &str, body: &[u8]) -> bool {
        self.verify_with(REDEEM_SIGNING_PREFIX, authorization, body)
    }

    /// Checks an `Authorization` header value against a body signed after `prefix`.
    pub fn verify_with(&self, prefix: &[u8], authorization: &str, body: &[u8]) -> bool {
        let Some(signature) = authorization
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(DEVICE_AUTH_SCHEME))
            .map(|(_, sig)| sig.trim())
        else {
            return false;
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        self.mac(prefix, body).verify_slice(&signature).is_ok()
    }
}

impl fmt::Debug for DeviceCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCredential")
            .field("device_id", &self.device_id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector published in docs/firmware-guide.md (computed independently with Python's hmac).
    const BODY: &[u8] = br#"{"claim_token":"q83vEjRWeJq83vEjRWeJqw","device_id":"unbox-sim-0001"}"#;
    const SIGNATURE: &str = "GLIXCfdH4MKMpW-lMwXOfBJ_vDoiilgnrcNvI2N8UX0";

    fn credential() -> DeviceCredential {
        let id = DeviceId::new("unbox-sim-0001").expect("valid id");
        DeviceCredential::new(id, SecretBytes::new((0u8..32).collect::<Vec<_>>())).expect("valid secret")
    }

    #[test]
    fn signature_matches_the_published_vector() {
        assert_eq!(credential().sign(BODY), SIGNATURE);
        assert_eq!(credential().authorization(BODY), format!("Unbox-HMAC-SHA256 {SIGNATURE}"));
    }

    #[test]
    fn verification_rejects_tampering() {
        let header = credential().authorization(BODY);
        assert!(credential().verify(&header, BODY));
        assert!(credential().verify(&format!("unbox-hmac-sha256 {SIGNATURE}"), BODY));
        assert!(!credential().verify(&header, &BODY[1..]));
        assert!(!credential().verify(&format!("Basic {SIGNATURE}"), BODY));
        assert!(!credential().verify("Unbox-HMAC-SHA256 !!!", BODY));
        assert!(!credential().verify("Unbox-HMAC-SHA256", BODY));
        let other = DeviceCredential::new(credential().device_id().clone(), SecretBytes::new(vec![7u8; 32]))
            .expect("valid secret");
        assert!(!other.verify(&header, BODY));
    }

    #[test]
    fn secret_length_is_bounded_and_redacted() {
        let id = DeviceId::new("d").expect("valid id");
        assert!(DeviceCredential::new(id.clone(), SecretBytes::new(vec![1u8; 15])).is_err());
        assert!(DeviceCredential::new(id, SecretBytes::new(vec![1u8; 65])).is_err());
        assert!(format!("{:?}", credential()).contains("redacted"));
    }
}
