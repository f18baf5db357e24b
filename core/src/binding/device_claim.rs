//! The `unbox-claim` custom protocomm endpoint (`core/proto/claim.proto`): the phone pushes the
//! claim token through the encrypted session before Wi-Fi credentials, the device answers with
//! its device id. Pure encode/decode, both sides (the device's with feature `device-side`); the session
//! encrypts the bytes.

use prost::Message;
use url::Url;

use super::model::{DeviceId, InvalidValue, check_claim_token};
use crate::UserAction;
#[cfg(feature = "device-side")]
use crate::proto::ClaimResponse;
use crate::proto::{ClaimMsgType, ClaimPayload, ClaimRequest, DeviceClaimStatus, claim_payload};
use crate::secret::{SecretBytes, SecretString};

/// Name of the custom protocomm endpoint carrying the claim.
pub const CLAIM_ENDPOINT: &str = "unbox-claim";
/// Longest backend URL a device must accept.
pub const MAX_BACKEND_URL_LEN: usize = 256;

/// Why a claim message could not be built, read or was refused by the device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceClaimError {
    /// The bytes are not a claim message.
    #[error(
        "the `unbox-claim` message is not valid protobuf ({0}); the device firmware may not support Unbox claims"
    )]
    Decode(String),
    /// A message of another type or without its payload arrived.
    #[error(
        "the `unbox-claim` message has type {msg} without the expected payload; the firmware speaks another version"
    )]
    UnexpectedMessage {
        /// The `msg` field received.
        msg: i32,
    },
    /// A value in the message is invalid (claim token, device id or backend URL).
    #[error("the claim message carries an {0}")]
    InvalidValue(InvalidValue),
    /// The device refused the token as malformed.
    #[error("the device refused the claim token as malformed; start the setup again")]
    InvalidToken,
    /// The device refuses to talk to this backend.
    #[error("the device does not accept this backend URL; use the app build made for this device")]
    BackendNotAllowed,
    /// The device is already bound to an account.
    #[error(
        "the device is already bound to an account; factory-reset it (or remove it from its owner's account) and start again"
    )]
    AlreadyBound,
    /// The device failed to store the token.
    #[error("the device could not store the claim; restart it and try again")]
    DeviceInternal,
    /// A status this app version does not know.
    #[error("the device answered claim status {0}, unknown to this app version; update the app")]
    UnknownStatus(i32),
}

impl DeviceClaimError {
    /// Whether pushing the claim again (after reconnecting) can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::DeviceInternal)
    }

    /// What the app should offer.
    pub fn user_action(&self) -> UserAction {
        if self.is_retryable() { UserAction::Retry } else { UserAction::ContactSupport }
    }
}

impl From<prost::DecodeError> for DeviceClaimError {
    fn from(error: prost::DecodeError) -> Self {
        Self::Decode(error.to_string())
    }
}

#[cfg(feature = "device-side")]
fn encode(payload: ClaimPayload) -> Vec<u8> {
    payload.encode_to_vec()
}

/// Phone: the request carrying the claim token (and, if the device needs it, the backend URL).
/// The bytes contain the token, so they come back as [`SecretBytes`].
pub fn encode_claim_request(
    claim_token: &SecretString,
    backend_url: Option<&Url>,
) -> Result<SecretBytes, DeviceClaimError> {
    check_claim_token(claim_token).map_err(DeviceClaimError::InvalidValue)?;
    let backend_url = backend_url.map(Url::as_str).unwrap_or_default();
    if backend_url.len() > MAX_BACKEND_URL_LEN {
        return Err(DeviceClaimError::InvalidValue(InvalidValue {
            what: "backend URL",
            reason: "it is longer than 256 bytes",
        }));
    }
    let mut payload = ClaimPayload {
        msg: ClaimMsgType::TypeCmdClaim.into(),
        payload: Some(claim_payload::Payload::CmdClaim(ClaimRequest {
            claim_token: claim_token.expose().to_owned(),
            backend_url: backend_url.to_owned(),
        })),
    };
    let bytes = SecretBytes::new(payload.encode_to_vec());
    if let Some(claim_payload::Payload::CmdClaim(request)) = payload.payload.as_mut() {
        zeroize::Zeroize::zeroize(&mut request.claim_token);
    }
    Ok(bytes)
}

/// Phone: reads the device's answer; the device id on success, the device's refusal otherwise.
pub fn decode_claim_response(bytes: &[u8]) -> Result<DeviceId, DeviceClaimError> {
    let payload = ClaimPayload::decode(bytes)?;
    let response = match payload.payload {
        Some(claim_payload::Payload::RespClaim(response))
            if payload.msg == i32::from(ClaimMsgType::TypeRespClaim) =>
        {
            response
        }
        _ => return Err(DeviceClaimError::UnexpectedMessage { msg: payload.msg }),
    };
    match DeviceClaimStatus::try_from(response.status) {
        Ok(DeviceClaimStatus::ClaimAccepted) => {
            DeviceId::new(response.device_id).map_err(DeviceClaimError::InvalidValue)
        }
        Ok(DeviceClaimStatus::ClaimInvalidToken) => Err(DeviceClaimError::InvalidToken),
        Ok(DeviceClaimStatus::ClaimBackendNotAllowed) => Err(DeviceClaimError::BackendNotAllowed),
        Ok(DeviceClaimStatus::ClaimAlreadyBound) => Err(DeviceClaimError::AlreadyBound),
        Ok(DeviceClaimStatus::ClaimInternalError) => Err(DeviceClaimError::DeviceInternal),
        Err(_) => Err(DeviceClaimError::UnknownStatus(response.status)),
    }
}

#[cfg(feature = "device-side")]
/// What a device received on `unbox-claim`.
#[derive(Debug, Clone)]
pub struct PushedClaim {
    /// The claim token to redeem once online.
    pub claim_token: SecretString,
    /// The backend to redeem at; `None` means the firmware's default.
    pub backend_url: Option<Url>,
}

#[cfg(feature = "device-side")]
/// Device: reads the phone's request. Errors map to the status to answer with via
/// [`DeviceClaimError::device_status`].
pub fn decode_claim_request(bytes: &[u8]) -> Result<PushedClaim, DeviceClaimError> {
    let payload = ClaimPayload::decode(bytes)?;
    let mut request = match payload.payload {
        Some(claim_payload::Payload::CmdClaim(request))
            if payload.msg == i32::from(ClaimMsgType::TypeCmdClaim) =>
        {
            request
        }
        _ => return Err(DeviceClaimError::UnexpectedMessage { msg: payload.msg }),
    };
    let claim_token = SecretString::new(std::mem::take(&mut request.claim_token));
    check_claim_token(&claim_token).map_err(|_| DeviceClaimError::InvalidToken)?;
    let backend_url = match request.backend_url.as_str() {
        "" => None,
        text if text.len() > MAX_BACKEND_URL_LEN => return Err(DeviceClaimError::BackendNotAllowed),
        text => Some(Url::parse(text).map_err(|_| DeviceClaimError::BackendNotAllowed)?),
    };
    Ok(PushedClaim { claim_token, backend_url })
}

#[cfg(feature = "device-side")]
impl DeviceClaimError {
    /// Device: the status to answer with after failing to accept a request.
    pub fn device_status(&self) -> DeviceClaimStatus {
        match self {
            Self::InvalidToken | Self::Decode(_) | Self::UnexpectedMessage { .. } | Self::InvalidValue(_) => {
                DeviceClaimStatus::ClaimInvalidToken
            }
            Self::BackendNotAllowed => DeviceClaimStatus::ClaimBackendNotAllowed,
            Self::AlreadyBound => DeviceClaimStatus::ClaimAlreadyBound,
            Self::DeviceInternal | Self::UnknownStatus(_) => DeviceClaimStatus::ClaimInternalError,
        }
    }
}

#[cfg(feature = "device-side")]
/// Device: the answer, with the device's id whatever the status.
pub fn encode_claim_response(status: DeviceClaimStatus, device_id: &DeviceId) -> Vec<u8> {
    encode(ClaimPayload {
        msg: ClaimMsgType::TypeRespClaim.into(),
        payload: Some(claim_payload::Payload::RespClaim(ClaimResponse {
            status: status.into(),
            device_id: device_id.as_str().to_owned(),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "q83vEjRWeJq83vEjRWeJqw";

    fn device() -> DeviceId {
        DeviceId::new("unbox-sim-0001").expect("valid id")
    }

    #[test]
    fn request_round_trips_and_matches_the_documented_bytes() {
        let url = Url::parse("https://api.example.com/").expect("valid URL");
        let bytes = encode_claim_request(&SecretString::new(TOKEN), Some(&url)).expect("valid token");
        // msg=0 is dropped by proto3; field 10 = ClaimRequest{1: token, 2: url}.
        let expected = format!(
            "5232{}{}{}{}",
            "0a16",
            hex::encode(TOKEN),
            "1218",
            hex::encode("https://api.example.com/")
        );
        assert_eq!(hex::encode(bytes.expose()), expected);
        let pushed = decode_claim_request(bytes.expose()).expect("decodes");
        assert_eq!(pushed.claim_token.expose(), TOKEN);
        assert_eq!(pushed.backend_url, Some(url));
        assert!(!format!("{pushed:?}").contains(TOKEN));
    }

    #[test]
    fn request_without_url_means_firmware_default() {
        let bytes = encode_claim_request(&SecretString::new(TOKEN), None).expect("valid token");
        assert_eq!(decode_claim_request(bytes.expose()).expect("decodes").backend_url, None);
    }

    #[test]
    fn malformed_tokens_are_refused_on_both_sides() {
        assert!(matches!(
            encode_claim_request(&SecretString::new("short"), None),
            Err(DeviceClaimError::InvalidValue(_))
        ));
        let forged = encode(ClaimPayload {
            msg: ClaimMsgType::TypeCmdClaim.into(),
            payload: Some(claim_payload::Payload::CmdClaim(ClaimRequest {
                claim_token: "not base64url!".repeat(3),
                backend_url: String::new(),
            })),
        });
        let error = decode_claim_request(&forged).expect_err("bad token");
        assert_eq!(error, DeviceClaimError::InvalidToken);
        assert_eq!(error.device_status(), DeviceClaimStatus::ClaimInvalidToken);
        let bad_url = encode(ClaimPayload {
            msg: ClaimMsgType::TypeCmdClaim.into(),
            payload: Some(claim_payload::Payload::CmdClaim(ClaimRequest {
                claim_token: TOKEN.into(),
                backend_url: "not a url".into(),
            })),
        });
        assert_eq!(decode_claim_request(&bad_url).map(|_| ()), Err(DeviceClaimError::BackendNotAllowed));
    }

    #[test]
    fn response_round_trips() {
        let accepted = encode_claim_response(DeviceClaimStatus::ClaimAccepted, &device());
        assert_eq!(
            hex::encode(&accepted),
            format!("0801{}{}", "5a10", hex::encode("\x12\x0eunbox-sim-0001"))
        );
        assert_eq!(decode_claim_response(&accepted), Ok(device()));
        let bound = encode_claim_response(DeviceClaimStatus::ClaimAlreadyBound, &device());
        assert_eq!(decode_claim_response(&bound), Err(DeviceClaimError::AlreadyBound));
        let internal = encode_claim_response(DeviceClaimStatus::ClaimInternalError, &device());
        assert!(decode_claim_response(&internal).expect_err("refused").is_retryable());
    }

    #[test]
    fn garbage_and_wrong_messages_are_typed_errors() {
        assert!(matches!(decode_claim_response(&[0xff, 0xff, 0xff]), Err(DeviceClaimError::Decode(_))));
        let request = encode_claim_request(&SecretString::new(TOKEN), None).expect("valid token");
        assert_eq!(
            decode_claim_response(request.expose()),
            Err(DeviceClaimError::UnexpectedMessage { msg: 0 })
        );
        let unknown = encode(ClaimPayload {
            msg: ClaimMsgType::TypeRespClaim.into(),
            payload: Some(claim_payload::Payload::RespClaim(ClaimResponse {
                status: 42,
                device_id: "d".into(),
            })),
        });
        assert_eq!(decode_claim_response(&unknown), Err(DeviceClaimError::UnknownStatus(42)));
        let bad_id = encode(ClaimPayload {
            msg: ClaimMsgType::TypeRespClaim.into(),
            payload: Some(claim_payload::Payload::RespClaim(ClaimResponse {
                status: 0,
                device_id: String::new(),
            })),
        });
        assert!(matches!(decode_claim_response(&bad_id), Err(DeviceClaimError::InvalidValue(_))));
    }
}
