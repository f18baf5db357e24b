//! The binding domain values the app works with: identifiers, claim statuses, claims and
//! bindings. Every identifier is validated on construction, so a value of these types is safe
//! to put into a URL path, a header or a log line.

use std::fmt;
use std::time::SystemTime;

use crate::secret::SecretString;

/// Why a text could not be used as one of the binding identifiers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct InvalidValue {
    /// Which kind of value was rejected (e.g. "device id").
    pub what: &'static str,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn check_text(
    what: &'static str,
    text: &str,
    max_len: usize,
    allowed: fn(char) -> bool,
    alphabet: &'static str,
) -> Result<(), InvalidValue> {
    if text.is_empty() {
        return Err(InvalidValue { what, reason: "it is empty" });
    }
    if text.len() > max_len {
        return Err(InvalidValue { what, reason: "it is too long" });
    }
    if !text.chars().all(allowed) {
        return Err(InvalidValue { what, reason: alphabet });
    }
    Ok(())
}

fn is_url_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Longest device id accepted (bytes).
pub const MAX_DEVICE_ID_LEN: usize = 64;

/// A device's factory identity: 1–64 characters of `A-Z a-z 0-9 . _ : -`. The device reports it
/// over the encrypted `unbox-claim` endpoint and authenticates with it at the backend.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// Validates a device id.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidValue> {
        let id = id.into();
        check_text(
            "device id",
            &id,
            MAX_DEVICE_ID_LEN,
            |c| is_url_safe(c) || c == '.' || c == ':',
            "only A-Z a-z 0-9 . _ : - are allowed",
        )?;
        Ok(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", self.0)
    }
}

/// The backend's id of a claim: 1–128 characters of `A-Z a-z 0-9 _ -` (safe in a URL path).
/// Not a secret: the app may persist it to resume waiting after a restart.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimId(String);

impl ClaimId {
    /// Validates a claim id.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidValue> {
        let id = id.into();
        check_text("claim id", &id, 128, is_url_safe, "only A-Z a-z 0-9 _ - are allowed")?;
        Ok(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimId({})", self.0)
    }
}

/// The `Idempotency-Key` of one logical POST: reused for every retry of that POST (and after an
/// app restart, if persisted), so the backend performs it at most once. 1–255 visible ASCII
/// characters; [`IdempotencyKey::generate`] makes a random UUID v4.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A fresh random key (UUID v4).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// Validates a key, e.g. one persisted by an interrupted flow.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidValue> {
        let key = key.into();
        check_text(
            "idempotency key",
            &key,
            255,
            |c| c.is_ascii_graphic(),
            "only visible ASCII characters are allowed",
        )?;
        Ok(Self(key))
    }

    /// The key as sent in the header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

/// Shortest claim token accepted: 22 base64url characters carry 128 bits.
pub const MIN_CLAIM_TOKEN_LEN: usize = 22;
/// Longest claim token accepted (firmware buffers are sized for it).
pub const MAX_CLAIM_TOKEN_LEN: usize = 128;

/// Checks the shape of a claim token (22–128 base64url characters) without revealing it.
pub fn check_claim_token(token: &SecretString) -> Result<(), InvalidValue> {
    check_single_use_code("claim token", token)
}

/// Checks the shape of a transfer code (a claim token's: 22–128 base64url characters) without
/// revealing it, before it is sent to accept a transfer.
pub fn check_transfer_code(code: &SecretString) -> Result<(), InvalidValue> {
    check_single_use_code("transfer code", code)
}

fn check_single_use_code(what: &'static str, code: &SecretString) -> Result<(), InvalidValue> {
    let text = code.expose();
    check_text(what, text, MAX_CLAIM_TOKEN_LEN, is_url_safe, "it is not base64url text")?;
    if text.len() < MIN_CLAIM_TOKEN_LEN {
        return Err(InvalidValue { what, reason: "it is shorter than 128 bits" });
    }
    Ok(())
}

/// Where a claim is in its life. `Pending` and `Redeemed` move on; the other three are terminal.
///
/// pending → redeemed → confirmed; pending or redeemed → expired; redeemed → refused (the app
/// confirmed with another device id than the one that redeemed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimStatus {
    /// Created; waiting for a device to redeem the token.
    Pending,
    /// A device redeemed the token; waiting for the app to confirm that device.
    Redeemed,
    /// Terminal: the app confirmed the device; the binding is active.
    Confirmed,
    /// Terminal: the token was not redeemed, or the redemption not confirmed, in time.
    Expired,
    /// Terminal: the app confirmed a different device than the one that redeemed; the claim is void.
    Refused,
}

impl ClaimStatus {
    /// Whether the claim can no longer change.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Confirmed | Self::Expired | Self::Refused)
    }

    /// The status as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Redeemed => "redeemed",
            Self::Confirmed => "confirmed",
            Self::Expired => "expired",
            Self::Refused => "refused",
        }
    }
}

impl fmt::Display for ClaimStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A claim the app just created. The token goes to the device over the encrypted session and
/// nowhere else; it is redacted in `Debug` and zeroized on drop.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The claim's id, used to wait on and confirm it.
    pub id: ClaimId,
    /// The single-use token to push to the device.
    pub token: SecretString,
    /// When the token stops being redeemable.
    pub expires_at: SystemTime,
    /// Status at creation (pending; a replayed creation may report a later status).
    pub status: ClaimStatus,
    /// Whether the backend's confirm can wait for the redemption
    /// ([`BindingClient::confirm_when_redeemed`](super::BindingClient::confirm_when_redeemed));
    /// without it the app waits ([`BindingClient::wait_for_redemption`](super::BindingClient::wait_for_redemption)),
    /// then confirms.
    pub confirm_waits: bool,
}

/// What the backend says about a claim now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimState {
    /// The claim's id.
    pub id: ClaimId,
    /// Its status.
    pub status: ClaimStatus,
    /// Deadline of the current step: redemption while pending, confirmation while redeemed.
    pub expires_at: SystemTime,
    /// The bound device, once confirmed.
    pub device_id: Option<DeviceId>,
}

/// An active binding between the logged-in account and a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The backend's id of the binding.
    pub binding_id: String,
    /// The claim it came from.
    pub claim_id: ClaimId,
    /// The bound device.
    pub device_id: DeviceId,
    /// When the binding became active.
    pub bound_at: SystemTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_validated() {
        assert_eq!(DeviceId::new("esp32-1A2B3C:01").map(|d| d.to_string()), Ok("esp32-1A2B3C:01".into()));
        assert_eq!(DeviceId::new("").unwrap_err().reason, "it is empty");
        assert!(DeviceId::new("a/b").is_err());
        assert!(DeviceId::new("x".repeat(65)).is_err());
        assert!(DeviceId::new("x".repeat(64)).is_ok());
    }

    #[test]
    fn claim_ids_must_be_path_safe() {
        assert!(ClaimId::new("clm_0123-abc").is_ok());
        assert!(ClaimId::new("../admin").is_err());
        assert!(ClaimId::new("a?b").is_err());
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        let generated = IdempotencyKey::generate();
        assert_eq!(generated.as_str().len(), 36);
        assert_ne!(generated, IdempotencyKey::generate());
        assert!(IdempotencyKey::new("a b").is_err());
        assert!(IdempotencyKey::new("k\u{e9}").is_err());
        assert!(IdempotencyKey::new("x".repeat(256)).is_err());
    }

    #[test]
    fn claim_tokens_need_128_bits_of_base64url() {
        assert!(check_claim_token(&SecretString::new("A".repeat(22))).is_ok());
        assert!(check_claim_token(&SecretString::new("A".repeat(21))).is_err());
        assert!(check_claim_token(&SecretString::new("A".repeat(129))).is_err());
        assert!(check_claim_token(&SecretString::new(format!("{}+/", "A".repeat(30)))).is_err());
        let short = check_transfer_code(&SecretString::new("trf")).expect_err("too short");
        assert_eq!(short.to_string(), "invalid transfer code: it is shorter than 128 bits");
    }

    #[test]
    fn terminal_statuses() {
        let terminal: Vec<_> = [
            ClaimStatus::Pending,
            ClaimStatus::Redeemed,
            ClaimStatus::Confirmed,
            ClaimStatus::Expired,
            ClaimStatus::Refused,
        ]
        .into_iter()
        .filter(|s| s.is_terminal())
        .collect();
        assert_eq!(terminal, [ClaimStatus::Confirmed, ClaimStatus::Expired, ClaimStatus::Refused]);
        assert_eq!(serde_json::to_string(&ClaimStatus::Refused).ok().as_deref(), Some("\"refused\""));
    }
}
