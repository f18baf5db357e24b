//! The `SessionData` envelope shared by every scheme's handshake messages: encoding, and the
//! checks every received message goes through (decodable, right `sec_ver`, a payload present,
//! success status, `msg` matching the payload).

use prost::Message;

use super::SecurityError;
use crate::proto::session_data::Proto;
use crate::proto::{SecSchemeVersion, SessionData, Status};

/// Serializes a handshake message of `scheme`.
pub(crate) fn encode(scheme: SecSchemeVersion, payload: Proto) -> Vec<u8> {
    SessionData { sec_ver: scheme.into(), proto: Some(payload) }.encode_to_vec()
}

/// Parses a handshake message and checks that it belongs to `scheme`.
pub(crate) fn decode(bytes: &[u8], scheme: SecSchemeVersion) -> Result<Proto, SecurityError> {
    let message = SessionData::decode(bytes)
        .map_err(|error| SecurityError::Malformed(format!("not a session message: {error}")))?;
    if message.sec_ver != i32::from(scheme) {
        return Err(SecurityError::UnexpectedMessage(format!(
            "security scheme {} where {} was expected",
            message.sec_ver,
            i32::from(scheme)
        )));
    }
    message.proto.ok_or_else(|| SecurityError::Malformed("the message carries no security payload".into()))
}

/// The error for a payload of another scheme than the one in use.
pub(crate) fn wrong_scheme(payload: &Proto) -> SecurityError {
    let found = match payload {
        Proto::Sec0(_) => "security 0",
        Proto::Sec1(_) => "security 1",
        Proto::Sec2(_) => "security 2",
    };
    SecurityError::UnexpectedMessage(format!("a {found} payload in a session of another scheme"))
}

/// The error for a `msg` type or payload that does not belong at this step.
pub(crate) fn unexpected_step(msg: i32, expected: &str) -> SecurityError {
    SecurityError::UnexpectedMessage(format!(
        "message type {msg} (or a payload not matching it) where {expected} was expected"
    ))
}

/// Turns a non-success protocomm status into an error.
pub(crate) fn check_status(status: i32) -> Result<(), SecurityError> {
    match Status::try_from(status) {
        Ok(Status::Success) => Ok(()),
        Ok(other) => Err(SecurityError::Status(other.as_str_name().to_owned())),
        Err(_) => Err(SecurityError::Status(status.to_string())),
    }
}

/// Requires a byte field to have an exact length.
pub(crate) fn exact<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], SecurityError> {
    bytes
        .try_into()
        .map_err(|_| SecurityError::Malformed(format!("{what} is {} bytes instead of {N}", bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{S0SessionCmd, Sec0Payload, sec0_payload};

    fn sec0_command() -> Proto {
        Proto::Sec0(Sec0Payload { msg: 0, payload: Some(sec0_payload::Payload::Sc(S0SessionCmd {})) })
    }

    #[test]
    fn round_trips_and_checks_the_scheme() {
        let bytes = encode(SecSchemeVersion::SecScheme0, sec0_command());
        assert_eq!(hex::encode(&bytes), "5203a20100");
        assert_eq!(decode(&bytes, SecSchemeVersion::SecScheme0).unwrap(), sec0_command());
        assert!(matches!(
            decode(&bytes, SecSchemeVersion::SecScheme1),
            Err(SecurityError::UnexpectedMessage(_))
        ));
    }

    #[test]
    fn rejects_garbage_and_empty_envelopes() {
        assert!(matches!(
            decode(&[0xff, 0xff, 0xff], SecSchemeVersion::SecScheme0),
            Err(SecurityError::Malformed(_))
        ));
        assert!(matches!(decode(&[], SecSchemeVersion::SecScheme0), Err(SecurityError::Malformed(_))));
    }

    #[test]
    fn statuses_map_to_errors() {
        assert!(check_status(0).is_ok());
        assert!(matches!(check_status(6), Err(SecurityError::Status(name)) if name == "CryptoError"));
        assert!(matches!(check_status(42), Err(SecurityError::Status(name)) if name == "42"));
    }

    #[test]
    fn exact_lengths_are_enforced() {
        assert_eq!(exact::<2>(&[1, 2], "field").unwrap(), [1, 2]);
        assert!(matches!(exact::<2>(&[1], "field"), Err(SecurityError::Malformed(_))));
    }
}
