//! Security 0: an empty handshake (`S0SessionCmd` → `S0SessionResp`) and no encryption.

use super::envelope;
use super::{ClientHandshake, HandshakeStep, SecurityError, SessionCipher};
use crate::proto::session_data::Proto;
use crate::proto::{S0SessionCmd, Sec0MsgType, Sec0Payload, SecSchemeVersion, sec0_payload};
#[cfg(feature = "device-side")]
use {
    super::DeviceSecurity,
    crate::proto::{S0SessionResp, Status},
};

const SCHEME: SecSchemeVersion = SecSchemeVersion::SecScheme0;

/// The security 0 "cipher": messages pass unchanged.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PlaintextCipher;

impl SessionCipher for PlaintextCipher {
    fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, SecurityError> {
        Ok(plaintext.to_vec())
    }

    fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, SecurityError> {
        Ok(ciphertext.to_vec())
    }

    fn overhead(&self) -> usize {
        0
    }
}

/// Client side of security 0.
#[derive(Debug, Default)]
pub struct Sec0Client {
    awaiting_reply: bool,
}

impl Sec0Client {
    /// A client ready to send its (empty) session command.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ClientHandshake for Sec0Client {
    fn start(&mut self) -> Result<Vec<u8>, SecurityError> {
        self.awaiting_reply = true;
        Ok(envelope::encode(
            SCHEME,
            Proto::Sec0(Sec0Payload {
                msg: Sec0MsgType::S0SessionCommand.into(),
                payload: Some(sec0_payload::Payload::Sc(S0SessionCmd {})),
            }),
        ))
    }

    fn on_reply(&mut self, reply: &[u8]) -> Result<HandshakeStep, SecurityError> {
        if !std::mem::take(&mut self.awaiting_reply) {
            return Err(SecurityError::UnexpectedMessage(
                "a reply arrived while no handshake request was pending".into(),
            ));
        }
        let payload = match envelope::decode(reply, SCHEME)? {
            Proto::Sec0(payload) => payload,
            other => return Err(envelope::wrong_scheme(&other)),
        };
        match payload.payload {
            Some(sec0_payload::Payload::Sr(response))
                if payload.msg == i32::from(Sec0MsgType::S0SessionResponse) =>
            {
                envelope::check_status(response.status)?;
                Ok(HandshakeStep::Established(Box::new(PlaintextCipher)))
            }
            _ => Err(envelope::unexpected_step(payload.msg, "the session response")),
        }
    }
}

#[cfg(feature = "device-side")]
/// Device side of security 0: acknowledges the session command; nothing is encrypted. As on
/// the firmware, the (pass-through) cipher is available even before the optional handshake.
#[derive(Debug, Default)]
pub struct Sec0Device {
    cipher: PlaintextCipher,
}

#[cfg(feature = "device-side")]
impl Sec0Device {
    /// A security 0 device.
    pub fn new() -> Self {
        Self::default()
    }
}

#[cfg(feature = "device-side")]
impl DeviceSecurity for Sec0Device {
    fn on_session_request(&mut self, request: &[u8]) -> Result<Vec<u8>, SecurityError> {
        let payload = match envelope::decode(request, SCHEME)? {
            Proto::Sec0(payload) => payload,
            other => return Err(envelope::wrong_scheme(&other)),
        };
        match payload.payload {
            Some(sec0_payload::Payload::Sc(_)) if payload.msg == i32::from(Sec0MsgType::S0SessionCommand) => {
                Ok(envelope::encode(
                    SCHEME,
                    Proto::Sec0(Sec0Payload {
                        msg: Sec0MsgType::S0SessionResponse.into(),
                        payload: Some(sec0_payload::Payload::Sr(S0SessionResp {
                            status: Status::Success.into(),
                        })),
                    }),
                ))
            }
            _ => Err(envelope::unexpected_step(payload.msg, "the session command")),
        }
    }

    fn cipher(&mut self) -> Option<&mut dyn SessionCipher> {
        Some(&mut self.cipher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_matches_the_reference_bytes() {
        assert_eq!(hex::encode(Sec0Client::new().start().unwrap()), "5203a20100");
    }

    #[test]
    fn client_and_device_agree_and_pass_data_through() {
        let mut client = Sec0Client::new();
        let mut device = Sec0Device::new();
        let reply = device.on_session_request(&client.start().unwrap()).unwrap();
        let HandshakeStep::Established(mut cipher) = client.on_reply(&reply).unwrap() else {
            panic!("security 0 completes after one exchange");
        };
        assert_eq!(cipher.encrypt(b"08047200").unwrap(), b"08047200");
        assert_eq!(cipher.decrypt(b"abc").unwrap(), b"abc");
        assert_eq!(cipher.overhead(), 0);
        assert_eq!(device.cipher().unwrap().decrypt(b"xyz").unwrap(), b"xyz");
    }

    #[test]
    fn device_failure_status_is_reported() {
        let mut client = Sec0Client::new();
        client.start().unwrap();
        let reply = envelope::encode(
            SCHEME,
            Proto::Sec0(Sec0Payload {
                msg: Sec0MsgType::S0SessionResponse.into(),
                payload: Some(sec0_payload::Payload::Sr(S0SessionResp {
                    status: Status::InvalidSession.into(),
                })),
            }),
        );
        assert!(matches!(
            client.on_reply(&reply),
            Err(SecurityError::Status(name)) if name == "InvalidSession"
        ));
    }

    #[test]
    fn out_of_order_and_mismatched_messages_are_rejected() {
        let mut client = Sec0Client::new();
        assert!(matches!(client.on_reply(&[]), Err(SecurityError::UnexpectedMessage(_))));
        let command = client.start().unwrap();
        // The device never answers with a command.
        assert!(matches!(client.on_reply(&command), Err(SecurityError::UnexpectedMessage(_))));
        let mut device = Sec0Device::new();
        let wrong_msg = envelope::encode(
            SCHEME,
            Proto::Sec0(Sec0Payload {
                msg: Sec0MsgType::S0SessionResponse.into(),
                payload: Some(sec0_payload::Payload::Sc(S0SessionCmd {})),
            }),
        );
        assert!(matches!(device.on_session_request(&wrong_msg), Err(SecurityError::UnexpectedMessage(_))));
        assert!(matches!(
            device.on_session_request(&[0x10, 0x01, 0x5a, 0x00]),
            Err(SecurityError::UnexpectedMessage(_))
        ));
    }
}
