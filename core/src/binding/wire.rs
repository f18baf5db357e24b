//! JSON bodies of the binding API exactly as `docs/binding-api.yaml` specifies them. Shared by
//! the client and the simulated backend; identifiers stay plain text here and are validated
//! when turned into domain values. Claim tokens are [`SecretString`]s even on the wire types.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use super::model::ClaimStatus;
use crate::secret::SecretString;

/// API paths, relative to the backend's base URL.
pub mod paths {
    /// `POST`: create a claim (user).
    pub const CLAIMS: &str = "v1/claims";
    /// `POST`: redeem a claim token (device).
    pub const REDEEM: &str = "v1/claims/redeem";
    /// `GET` one claim (user); append the claim id.
    pub const CLAIM_PREFIX: &str = "v1/claims/";
    /// Suffix of the confirm path after the claim id (user).
    pub const CONFIRM_SUFFIX: &str = "/confirm";
    /// `GET`: the user's device bindings, paginated (user, or a linked voice-assistant skill).
    pub const BINDINGS: &str = "v1/bindings";
    /// `DELETE` one binding (user); append the binding id.
    pub const BINDING_PREFIX: &str = "v1/bindings/";
    /// Suffix after the binding id: `POST` offers the device to another account (user).
    pub const TRANSFERS_SUFFIX: &str = "/transfers";
    /// `POST`: accept a transfer offer (the receiving user).
    pub const ACCEPT_TRANSFER: &str = "v1/transfers/accept";
    /// `POST`: the device asks whether it is still bound (device).
    pub const DEVICE_BINDING: &str = "v1/device/binding";
}

/// Header carrying the idempotency key of a POST.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
/// Header the backend sets on a response replayed for a repeated idempotency key.
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "Idempotent-Replayed";
/// Media type of error bodies (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Longest long-poll wait the backend honours, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 60;

fn serialize_secret<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

fn deserialize_secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SecretString, D::Error> {
    String::deserialize(deserializer).map(SecretString::new)
}

/// Body of `POST /v1/claims`: an empty object, reserved for future options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateClaimBody {}

/// `201` answer of `POST /v1/claims`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimCreated {
    /// The claim's id.
    pub claim_id: String,
    /// The single-use token for the device.
    #[serde(serialize_with = "serialize_secret", deserialize_with = "deserialize_secret")]
    pub claim_token: SecretString,
    /// Redemption deadline (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Always `pending` on creation.
    pub status: ClaimStatus,
    /// Whether the backend's confirm honours `wait`: a confirm sent before the device redeemed
    /// is held until it does and confirms in the same answer. Absent (older backends): no.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirm_waits: bool,
}

/// Answer of `GET /v1/claims/{claim_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimView {
    /// The claim's id.
    pub claim_id: String,
    /// Its status.
    pub status: ClaimStatus,
    /// Deadline of the current step (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The bound device, only when `confirmed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The binding, only when `confirmed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_id: Option<String>,
}

/// Body of `POST /v1/claims/{claim_id}/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// The device id the app learned over the PoP-authenticated session.
    pub device_id: String,
    /// A name for the device in the customer's list (1-64 characters); the device id if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `200` answer of `POST /v1/claims/{claim_id}/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingView {
    /// The binding's id.
    pub binding_id: String,
    /// The claim it came from.
    pub claim_id: String,
    /// The bound device.
    pub device_id: String,
    /// When the binding became active (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub bound_at: OffsetDateTime,
}

/// Body of `POST /v1/claims/redeem` (device), signed as a whole by the device credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    /// The token the phone pushed to the device.
    #[serde(serialize_with = "serialize_secret", deserialize_with = "deserialize_secret")]
    pub claim_token: SecretString,
    /// The redeeming device.
    pub device_id: String,
}

/// `200` answer of `POST /v1/claims/redeem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeemResult {
    /// `redeemed`, or `confirmed` when the app already confirmed this device.
    pub status: ClaimStatus,
}

/// An RFC 9457 problem details body; `code` is Unbox's stable short form of `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemBody {
    /// Problem type URI (`urn:unbox:problem:<code>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short human summary of the type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What happened in this occurrence.
    #[serde(default)]
    pub detail: String,
    /// Stable code, e.g. `claim-expired`.
    #[serde(default)]
    pub code: String,
}

/// One device binding of the signed-in customer (`GET /v1/bindings`, accepting a transfer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceBindingView {
    /// The binding's id.
    pub binding_id: String,
    /// The bound device.
    pub device_id: String,
    /// The device's name in the customer's list.
    pub name: String,
    /// `active`, or `ended` (only listed with `include_ended=true`).
    pub status: String,
    /// When the binding became active (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub bound_at: OffsetDateTime,
    /// When the device last redeemed a claim confirmed into this binding (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub last_redemption_at: OffsetDateTime,
    /// The OAuth client (app) whose user confirmed or accepted the binding.
    pub bound_by_client: String,
    /// When the binding ended, only when `ended` (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// Why it ended, only when `ended`: `unbound`, `rebound` or `transferred`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
}

/// `200` answer of `GET /v1/bindings`: one page, oldest binding first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingPageView {
    /// The bindings of this page.
    pub bindings: Vec<DeviceBindingView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `201` answer of `POST /v1/bindings/{binding_id}/transfers`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferOfferView {
    /// The offer's id.
    pub transfer_id: String,
    /// The single-use code the receiver enters; secret.
    #[serde(serialize_with = "serialize_secret", deserialize_with = "deserialize_secret")]
    pub transfer_code: SecretString,
    /// The binding offered.
    pub binding_id: String,
    /// Its device.
    pub device_id: String,
    /// Until when the receiver can accept (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Body of `POST /v1/bindings/{binding_id}/transfers`: empty, reserved for future options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferTransferBody {}

/// Body of `POST /v1/transfers/accept`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptTransferBody {
    /// The code the giving customer shared.
    #[serde(serialize_with = "serialize_secret", deserialize_with = "deserialize_secret")]
    pub transfer_code: SecretString,
}

/// Body of `POST /v1/device/binding` (device), signed as a whole by the device credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceBindingQuery {
    /// The asking device.
    pub device_id: String,
}

/// `200` answer of `POST /v1/device/binding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceBindingAnswer {
    /// Whether an account holds an active binding of the device.
    pub bound: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_created_round_trips_without_showing_the_token_in_debug() {
        let json = r#"{"claim_id":"clm_1","claim_token":"AAAAAAAAAAAAAAAAAAAAAAAA","expires_at":"2030-01-02T03:04:05Z","status":"pending"}"#;
        let parsed: ClaimCreated = serde_json::from_str(json).expect("valid body");
        assert_eq!(parsed.claim_token.expose(), "AAAAAAAAAAAAAAAAAAAAAAAA");
        assert!(!format!("{parsed:?}").contains("AAAAAAAA"));
        let back = serde_json::to_string(&parsed).expect("serializable");
        assert_eq!(back, json, "an older backend's answer: no confirm_waits");
        let waits = ClaimCreated { confirm_waits: true, ..parsed };
        let back: ClaimCreated = serde_json::from_str(&serde_json::to_string(&waits).unwrap()).unwrap();
        assert!(back.confirm_waits);
    }

    #[test]
    fn unknown_status_is_rejected() {
        let json = r#"{"claim_id":"c","status":"lost","expires_at":"2030-01-02T03:04:05Z"}"#;
        assert!(serde_json::from_str::<ClaimView>(json).is_err());
    }

    #[test]
    fn confirm_body_rejects_unknown_fields() {
        assert!(serde_json::from_str::<ConfirmBody>(r#"{"device_id":"d","x":1}"#).is_err());
    }
}
