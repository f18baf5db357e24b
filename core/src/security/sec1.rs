//! Security 1: X25519 key agreement mixed with the proof of possession (PoP), then
//! AES-256-CTR (reference §4):
//!
//! 1. Cmd0 {client public key, 32 B} → Resp0 {device public key, 32 B; device_random, 16 B}
//! 2. key = X25519 shared secret, XORed with SHA-256(PoP) when the PoP is not empty
//! 3. Cmd1 {CTR(device public key)} → Resp1 {CTR(client public key)}, on the session's
//!    single keystream starting at counter block `device_random`.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::ctr_cipher::Sec1Cipher;
use super::envelope;
use super::random::random_bytes;
use super::{ClientHandshake, HandshakeStep, SecurityError};
#[cfg(feature = "device-side")]
use super::{DeviceSecurity, SessionCipher};
#[cfg(feature = "device-side")]
use crate::proto::Status;
use crate::proto::session_data::Proto;
use crate::proto::{
    Sec1MsgType, Sec1Payload, SecSchemeVersion, SessionCmd0, SessionCmd1, SessionResp0, SessionResp1,
    sec1_payload,
};
use crate::secret::SecretString;

const SCHEME: SecSchemeVersion = SecSchemeVersion::SecScheme1;
const KEY_LEN: usize = 32;
const RANDOM_LEN: usize = 16;

/// Wraps a security 1 payload in the session envelope.
fn encode(msg: Sec1MsgType, payload: sec1_payload::Payload) -> Vec<u8> {
    envelope::encode(SCHEME, Proto::Sec1(Sec1Payload { msg: msg.into(), payload: Some(payload) }))
}

/// Unwraps a security 1 payload, returning its `msg` type and content.
fn decode(bytes: &[u8]) -> Result<(i32, Option<sec1_payload::Payload>), SecurityError> {
    match envelope::decode(bytes, SCHEME)? {
        Proto::Sec1(payload) => Ok((payload.msg, payload.payload)),
        other => Err(envelope::wrong_scheme(&other)),
    }
}

/// Reads a 32-byte X25519 public key.
fn parse_public_key(bytes: &[u8], whose: &str) -> Result<[u8; KEY_LEN], SecurityError> {
    bytes.try_into().map_err(|_| {
        SecurityError::InvalidPublicKey(format!(
            "the {whose} public key is {} bytes instead of {KEY_LEN}",
            bytes.len()
        ))
    })
}

/// X25519 followed by the PoP mix-in: the AES-256-CTR key of the session.
fn session_key(
    private_key: &StaticSecret,
    peer_public: [u8; KEY_LEN],
    pop: &SecretString,
) -> Result<Zeroizing<[u8; KEY_LEN]>, SecurityError> {
    let shared = private_key.diffie_hellman(&PublicKey::from(peer_public));
    if !shared.was_contributory() {
        return Err(SecurityError::InvalidPublicKey("the peer's public key is a low-order point".into()));
    }
    let mut key = Zeroizing::new(shared.to_bytes());
    if !pop.is_empty() {
        let pop_digest = Zeroizing::new(<[u8; KEY_LEN]>::from(Sha256::digest(pop.expose().as_bytes())));
        for (byte, mask) in key.iter_mut().zip(pop_digest.iter()) {
            *byte ^= mask;
        }
    }
    Ok(key)
}

/// Where a security 1 client is in its handshake.
enum ClientState {
    Idle,
    AwaitingResponse0 { private_key: StaticSecret, public_key: [u8; KEY_LEN] },
    AwaitingResponse1 { cipher: Box<Sec1Cipher>, public_key: [u8; KEY_LEN] },
}

/// Client side of security 1.
pub struct Sec1Client {
    pop: SecretString,
    fixed_private_key: Option<Zeroizing<[u8; KEY_LEN]>>,
    state: ClientState,
}

impl Sec1Client {
    /// A client that proves possession of `pop` (empty for `no_pop` devices) with a fresh
    /// X25519 key from the OS generator.
    pub fn new(pop: SecretString) -> Self {
        Self { pop, fixed_private_key: None, state: ClientState::Idle }
    }

    /// A client with a fixed X25519 private key, for reproducible tests only: reusing a
    /// key across sessions breaks security.
    pub fn with_private_key(pop: SecretString, private_key: [u8; KEY_LEN]) -> Self {
        Self { pop, fixed_private_key: Some(Zeroizing::new(private_key)), state: ClientState::Idle }
    }

    fn on_response0(
        &mut self,
        private_key: StaticSecret,
        public_key: [u8; KEY_LEN],
        response: SessionResp0,
    ) -> Result<HandshakeStep, SecurityError> {
        envelope::check_status(response.status)?;
        let device_public = parse_public_key(&response.device_pubkey, "device's")?;
        let device_random: [u8; RANDOM_LEN] = envelope::exact(&response.device_random, "device_random")?;
        let key = session_key(&private_key, device_public, &self.pop)?;
        let mut cipher = Sec1Cipher::new(&key, &device_random);
        let client_verify_data = cipher.apply(&device_public)?;
        self.state = ClientState::AwaitingResponse1 { cipher: Box::new(cipher), public_key };
        Ok(HandshakeStep::Send(encode(
            Sec1MsgType::SessionCommand1,
            sec1_payload::Payload::Sc1(SessionCmd1 { client_verify_data }),
        )))
    }
}

fn on_response1(
    mut cipher: Box<Sec1Cipher>,
    public_key: [u8; KEY_LEN],
    response: SessionResp1,
) -> Result<HandshakeStep, SecurityError> {
    envelope::check_status(response.status)?;
    let encrypted: [u8; KEY_LEN] = envelope::exact(&response.device_verify_data, "device_verify_data")?;
    let decrypted = cipher.apply(&encrypted)?;
    if bool::from(decrypted.ct_eq(&public_key)) {
        Ok(HandshakeStep::Established(cipher))
    } else {
        Err(SecurityError::ProofMismatch)
    }
}

impl ClientHandshake for Sec1Client {
    fn start(&mut self) -> Result<Vec<u8>, SecurityError> {
        let private_key = match &self.fixed_private_key {
            Some(key) => StaticSecret::from(**key),
            None => StaticSecret::from(*random_bytes::<KEY_LEN>()?),
        };
        let public_key = PublicKey::from(&private_key).to_bytes();
        self.state = ClientState::AwaitingResponse0 { private_key, public_key };
        Ok(encode(
            Sec1MsgType::SessionCommand0,
            sec1_payload::Payload::Sc0(SessionCmd0 { client_pubkey: public_key.to_vec() }),
        ))
    }

    fn on_reply(&mut self, reply: &[u8]) -> Result<HandshakeStep, SecurityError> {
        let state = std::mem::replace(&mut self.state, ClientState::Idle);
        let (msg, payload) = decode(reply)?;
        match (state, payload) {
            (
                ClientState::AwaitingResponse0 { private_key, public_key },
                Some(sec1_payload::Payload::Sr0(response)),
            ) if msg == i32::from(Sec1MsgType::SessionResponse0) => {
                self.on_response0(private_key, public_key, response)
            }
            (
                ClientState::AwaitingResponse1 { cipher, public_key },
                Some(sec1_payload::Payload::Sr1(response)),
            ) if msg == i32::from(Sec1MsgType::SessionResponse1) => {
                on_response1(cipher, public_key, response)
            }
            (ClientState::Idle, _) => Err(SecurityError::UnexpectedMessage(
                "a reply arrived while no handshake request was pending".into(),
            )),
            (ClientState::AwaitingResponse0 { .. }, _) => {
                Err(envelope::unexpected_step(msg, "session response 0"))
            }
            (ClientState::AwaitingResponse1 { .. }, _) => {
                Err(envelope::unexpected_step(msg, "session response 1"))
            }
        }
    }
}

impl fmt::Debug for Sec1Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.state {
            ClientState::Idle => "idle",
            ClientState::AwaitingResponse0 { .. } => "awaiting response 0",
            ClientState::AwaitingResponse1 { .. } => "awaiting response 1",
        };
        f.debug_struct("Sec1Client").field("pop", &self.pop).field("step", &step).finish_non_exhaustive()
    }
}

#[cfg(feature = "device-side")]
/// Fixed device randomness for reproducible tests.
struct FixedDeviceSecrets {
    private_key: Zeroizing<[u8; KEY_LEN]>,
    device_random: [u8; RANDOM_LEN],
}

#[cfg(feature = "device-side")]
/// Where a security 1 device is in its handshake.
enum DeviceState {
    AwaitingCommand0,
    AwaitingCommand1 { cipher: Sec1Cipher, device_public: [u8; KEY_LEN], client_public: [u8; KEY_LEN] },
    Established(Sec1Cipher),
}

#[cfg(feature = "device-side")]
/// Device side of security 1, configured with its PoP (empty = `no_pop`).
pub struct Sec1Device {
    pop: SecretString,
    fixed: Option<FixedDeviceSecrets>,
    state: DeviceState,
}

#[cfg(feature = "device-side")]
impl Sec1Device {
    /// A device expecting `pop` (empty for `no_pop`), drawing keys from the OS generator.
    pub fn new(pop: SecretString) -> Self {
        Self { pop, fixed: None, state: DeviceState::AwaitingCommand0 }
    }

    /// A device with a fixed X25519 private key and `device_random`, for reproducible
    /// tests only.
    pub fn with_fixed_secrets(
        pop: SecretString,
        private_key: [u8; KEY_LEN],
        device_random: [u8; RANDOM_LEN],
    ) -> Self {
        Self {
            pop,
            fixed: Some(FixedDeviceSecrets { private_key: Zeroizing::new(private_key), device_random }),
            state: DeviceState::AwaitingCommand0,
        }
    }

    fn on_command0(&mut self, command: SessionCmd0) -> Result<Vec<u8>, SecurityError> {
        let client_public = parse_public_key(&command.client_pubkey, "client's")?;
        let (private_key, device_random) = match &self.fixed {
            Some(fixed) => (StaticSecret::from(*fixed.private_key), fixed.device_random),
            None => (StaticSecret::from(*random_bytes::<KEY_LEN>()?), *random_bytes::<RANDOM_LEN>()?),
        };
        let device_public = PublicKey::from(&private_key).to_bytes();
        let key = session_key(&private_key, client_public, &self.pop)?;
        self.state = DeviceState::AwaitingCommand1 {
            cipher: Sec1Cipher::new(&key, &device_random),
            device_public,
            client_public,
        };
        Ok(encode(
            Sec1MsgType::SessionResponse0,
            sec1_payload::Payload::Sr0(SessionResp0 {
                status: Status::Success.into(),
                device_pubkey: device_public.to_vec(),
                device_random: device_random.to_vec(),
            }),
        ))
    }
}

#[cfg(feature = "device-side")]
fn on_command1(
    mut cipher: Sec1Cipher,
    device_public: [u8; KEY_LEN],
    client_public: [u8; KEY_LEN],
    command: SessionCmd1,
) -> Result<(Sec1Cipher, Vec<u8>), SecurityError> {
    let encrypted: [u8; KEY_LEN] = envelope::exact(&command.client_verify_data, "client_verify_data")?;
    let decrypted = cipher.apply(&encrypted)?;
    if !bool::from(decrypted.ct_eq(&device_public)) {
        return Err(SecurityError::ProofMismatch);
    }
    let device_verify_data = cipher.apply(&client_public)?;
    let reply = encode(
        Sec1MsgType::SessionResponse1,
        sec1_payload::Payload::Sr1(SessionResp1 { status: Status::Success.into(), device_verify_data }),
    );
    Ok((cipher, reply))
}

#[cfg(feature = "device-side")]
impl DeviceSecurity for Sec1Device {
    fn on_session_request(&mut self, request: &[u8]) -> Result<Vec<u8>, SecurityError> {
        // Any failure closes the session, as the firmware's transport does.
        let state = std::mem::replace(&mut self.state, DeviceState::AwaitingCommand0);
        let (msg, payload) = decode(request)?;
        match (payload, state) {
            // A new command 0 restarts the handshake from any state.
            (Some(sec1_payload::Payload::Sc0(command)), _)
                if msg == i32::from(Sec1MsgType::SessionCommand0) =>
            {
                self.on_command0(command)
            }
            (
                Some(sec1_payload::Payload::Sc1(command)),
                DeviceState::AwaitingCommand1 { cipher, device_public, client_public },
            ) if msg == i32::from(Sec1MsgType::SessionCommand1) => {
                let (cipher, reply) = on_command1(cipher, device_public, client_public, command)?;
                self.state = DeviceState::Established(cipher);
                Ok(reply)
            }
            (Some(sec1_payload::Payload::Sc1(_)), _) if msg == i32::from(Sec1MsgType::SessionCommand1) => {
                Err(SecurityError::UnexpectedMessage(
                    "session command 1 without a preceding command 0".into(),
                ))
            }
            _ => Err(envelope::unexpected_step(msg, "a session command")),
        }
    }

    fn cipher(&mut self) -> Option<&mut dyn SessionCipher> {
        match &mut self.state {
            DeviceState::Established(cipher) => Some(cipher),
            _ => None,
        }
    }
}

#[cfg(feature = "device-side")]
impl fmt::Debug for Sec1Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.state {
            DeviceState::AwaitingCommand0 => "awaiting command 0",
            DeviceState::AwaitingCommand1 { .. } => "awaiting command 1",
            DeviceState::Established(_) => "established",
        };
        f.debug_struct("Sec1Device").field("pop", &self.pop).field("step", &step).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn client_private() -> [u8; 32] {
        std::array::from_fn(|i| i as u8 + 0x01)
    }
    fn device_private() -> [u8; 32] {
        std::array::from_fn(|i| i as u8 + 0x21)
    }
    fn device_random() -> [u8; 16] {
        std::array::from_fn(|i| i as u8)
    }
    fn pop() -> SecretString {
        SecretString::new("abcd1234")
    }

    const CLIENT_PUB: &str = "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c";
    const DEVICE_PUB: &str = "5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b";
    const CLIENT_VERIFY: &str = "ce6096fef8de28d2e24098904ad16b30483db15d1e6ba6f936881e45aa043493";
    const DEVICE_VERIFY: &str = "8e887a715e350c6b2c04edef13efe19b88e36f379279a204989b964bc27d738d";
    const SET_CONFIG: &str = "080262140a066d7973736964120a6d7970617373776f7264";
    const RESP_SET_CONFIG: &str = "08036a00";

    fn sec1_payload_of(bytes: &[u8]) -> sec1_payload::Payload {
        let Some(Proto::Sec1(payload)) = crate::proto::SessionData::decode(bytes).unwrap().proto else {
            panic!("not a security 1 message");
        };
        payload.payload.unwrap()
    }

    fn established(step: HandshakeStep) -> Box<dyn SessionCipher> {
        match step {
            HandshakeStep::Established(cipher) => cipher,
            HandshakeStep::Send(_) => panic!("the handshake should be complete"),
        }
    }

    fn sent(step: HandshakeStep) -> Vec<u8> {
        match step {
            HandshakeStep::Send(bytes) => bytes,
            HandshakeStep::Established(_) => panic!("the handshake should continue"),
        }
    }

    #[test]
    fn key_derivation_matches_the_reference() {
        let client = StaticSecret::from(client_private());
        let device = StaticSecret::from(device_private());
        assert_eq!(hex::encode(PublicKey::from(&client).as_bytes()), CLIENT_PUB);
        assert_eq!(hex::encode(PublicKey::from(&device).as_bytes()), DEVICE_PUB);
        let shared = client.diffie_hellman(&PublicKey::from(&device));
        assert_eq!(
            hex::encode(shared.as_bytes()),
            "a84dc7c3c8f058b1b2dc4cd1e9b5dc0a7987f88b6a9564cde3391fc421159e77"
        );
        assert_eq!(
            hex::encode(Sha256::digest(b"abcd1234")),
            "e9cee71ab932fde863338d08be4de9dfe39ea049bdafb342ce659ec5450b69ae"
        );
        let key = session_key(&client, PublicKey::from(&device).to_bytes(), &pop()).unwrap();
        assert_eq!(hex::encode(*key), "418320d971c2a559d1efc1d957f835d59a1958c2d73ad78f2d5c8101641ef7d9");
    }

    #[test]
    fn reproduces_the_reference_handshake_and_messages() {
        let mut client = Sec1Client::with_private_key(pop(), client_private());
        let mut device = Sec1Device::with_fixed_secrets(pop(), device_private(), device_random());

        let cmd0 = client.start().unwrap();
        assert_eq!(hex::encode(&cmd0), format!("10015a25a201220a20{CLIENT_PUB}"));

        let resp0 = device.on_session_request(&cmd0).unwrap();
        let sec1_payload::Payload::Sr0(sr0) = sec1_payload_of(&resp0) else {
            panic!("response 0 expected");
        };
        assert_eq!(hex::encode(&sr0.device_pubkey), DEVICE_PUB);
        assert_eq!(sr0.device_random, device_random());

        let cmd1 = sent(client.on_reply(&resp0).unwrap());
        assert_eq!(hex::encode(&cmd1), format!("10015a270802b201221220{CLIENT_VERIFY}"));

        let resp1 = device.on_session_request(&cmd1).unwrap();
        let sec1_payload::Payload::Sr1(sr1) = sec1_payload_of(&resp1) else {
            panic!("response 1 expected");
        };
        assert_eq!(hex::encode(&sr1.device_verify_data), DEVICE_VERIFY);

        let mut cipher = established(client.on_reply(&resp1).unwrap());
        let request = cipher.encrypt(&hex::decode(SET_CONFIG).unwrap()).unwrap();
        assert_eq!(hex::encode(&request), "6731132f52466463a38efcba2d1a8af49c3c1d65fc4c3827");
        let device_cipher = device.cipher().unwrap();
        assert_eq!(hex::encode(device_cipher.decrypt(&request).unwrap()), SET_CONFIG);
        let reply = device_cipher.encrypt(&hex::decode(RESP_SET_CONFIG).unwrap()).unwrap();
        assert_eq!(hex::encode(&reply), "36921953");
        assert_eq!(hex::encode(cipher.decrypt(&reply).unwrap()), RESP_SET_CONFIG);
        assert_eq!(cipher.overhead(), 0);
    }

    fn handshake(
        client: &mut Sec1Client,
        device: &mut Sec1Device,
    ) -> Result<Box<dyn SessionCipher>, SecurityError> {
        let resp0 = device.on_session_request(&client.start()?)?;
        let cmd1 = sent(client.on_reply(&resp0)?);
        let resp1 = device.on_session_request(&cmd1)?;
        Ok(established(client.on_reply(&resp1)?))
    }

    #[test]
    fn random_keys_round_trip_with_and_without_pop() {
        for pop in ["", "abcd1234", "a much longer proof of possession"] {
            let mut client = Sec1Client::new(SecretString::new(pop));
            let mut device = Sec1Device::new(SecretString::new(pop));
            let mut cipher = handshake(&mut client, &mut device).unwrap();
            for round in 0..3u8 {
                let request = cipher.encrypt(&[round; 40]).unwrap();
                let device_cipher = device.cipher().unwrap();
                assert_eq!(device_cipher.decrypt(&request).unwrap(), [round; 40]);
                let reply = device_cipher.encrypt(&[round + 1; 7]).unwrap();
                assert_eq!(cipher.decrypt(&reply).unwrap(), [round + 1; 7]);
            }
        }
    }

    #[test]
    fn wrong_pop_is_detected_by_the_device() {
        let mut client = Sec1Client::new(SecretString::new("abcd1234"));
        let mut device = Sec1Device::new(SecretString::new("abcd1235"));
        assert!(matches!(handshake(&mut client, &mut device), Err(SecurityError::ProofMismatch)));
        assert!(device.cipher().is_none());
        // A PoP on one side only is a mismatch too.
        let mut client = Sec1Client::new(SecretString::new(""));
        let mut device = Sec1Device::new(SecretString::new("abcd1234"));
        assert!(matches!(handshake(&mut client, &mut device), Err(SecurityError::ProofMismatch)));
    }

    #[test]
    fn wrong_device_verify_data_is_detected_by_the_client() {
        let mut client = Sec1Client::with_private_key(pop(), client_private());
        let mut device = Sec1Device::with_fixed_secrets(pop(), device_private(), device_random());
        let resp0 = device.on_session_request(&client.start().unwrap()).unwrap();
        sent(client.on_reply(&resp0).unwrap());
        let forged = encode(
            Sec1MsgType::SessionResponse1,
            sec1_payload::Payload::Sr1(SessionResp1 {
                status: Status::Success.into(),
                device_verify_data: vec![0; 32],
            }),
        );
        assert!(matches!(client.on_reply(&forged), Err(SecurityError::ProofMismatch)));
    }

    #[test]
    fn bad_lengths_are_typed_errors() {
        let mut device = Sec1Device::new(pop());
        let short_key = encode(
            Sec1MsgType::SessionCommand0,
            sec1_payload::Payload::Sc0(SessionCmd0 { client_pubkey: vec![9; 31] }),
        );
        assert!(matches!(device.on_session_request(&short_key), Err(SecurityError::InvalidPublicKey(_))));

        let mut client = Sec1Client::new(pop());
        client.start().unwrap();
        let bad_random = encode(
            Sec1MsgType::SessionResponse0,
            sec1_payload::Payload::Sr0(SessionResp0 {
                status: 0,
                device_pubkey: hex::decode(DEVICE_PUB).unwrap(),
                device_random: vec![0; 15],
            }),
        );
        assert!(matches!(client.on_reply(&bad_random), Err(SecurityError::Malformed(_))));

        client.start().unwrap();
        let bad_key = encode(
            Sec1MsgType::SessionResponse0,
            sec1_payload::Payload::Sr0(SessionResp0 {
                status: 0,
                device_pubkey: vec![1; 33],
                device_random: vec![0; 16],
            }),
        );
        assert!(matches!(client.on_reply(&bad_key), Err(SecurityError::InvalidPublicKey(_))));

        client.start().unwrap();
        let low_order = encode(
            Sec1MsgType::SessionResponse0,
            sec1_payload::Payload::Sr0(SessionResp0 {
                status: 0,
                device_pubkey: vec![0; 32],
                device_random: vec![0; 16],
            }),
        );
        assert!(matches!(client.on_reply(&low_order), Err(SecurityError::InvalidPublicKey(_))));
    }

    #[test]
    fn message_types_and_order_are_checked() {
        let mut device = Sec1Device::new(pop());
        let early_cmd1 = encode(
            Sec1MsgType::SessionCommand1,
            sec1_payload::Payload::Sc1(SessionCmd1 { client_verify_data: vec![0; 32] }),
        );
        assert!(matches!(device.on_session_request(&early_cmd1), Err(SecurityError::UnexpectedMessage(_))));
        let mismatched = encode(
            Sec1MsgType::SessionCommand1,
            sec1_payload::Payload::Sc0(SessionCmd0 { client_pubkey: hex::decode(CLIENT_PUB).unwrap() }),
        );
        assert!(matches!(device.on_session_request(&mismatched), Err(SecurityError::UnexpectedMessage(_))));
        let sec0 = hex::decode("5203a20100").unwrap();
        assert!(matches!(device.on_session_request(&sec0), Err(SecurityError::UnexpectedMessage(_))));

        let mut client = Sec1Client::new(pop());
        assert!(matches!(client.on_reply(&[]), Err(SecurityError::UnexpectedMessage(_))));
        client.start().unwrap();
        let refused = encode(
            Sec1MsgType::SessionResponse0,
            sec1_payload::Payload::Sr0(SessionResp0 {
                status: Status::InvalidProto.into(),
                ..Default::default()
            }),
        );
        assert!(matches!(client.on_reply(&refused), Err(SecurityError::Status(_))));
    }

    #[test]
    fn a_new_command0_restarts_the_session() {
        let mut client = Sec1Client::new(pop());
        let mut device = Sec1Device::new(pop());
        handshake(&mut client, &mut device).unwrap();
        let mut cipher = handshake(&mut client, &mut device).unwrap();
        let request = cipher.encrypt(b"after restart").unwrap();
        assert_eq!(device.cipher().unwrap().decrypt(&request).unwrap(), b"after restart");
    }

    #[test]
    fn debug_is_redacted() {
        let client = Sec1Client::with_private_key(pop(), client_private());
        let device = Sec1Device::with_fixed_secrets(pop(), device_private(), device_random());
        for text in [format!("{client:?}"), format!("{device:?}")] {
            assert!(!text.contains("abcd1234"), "{text}");
            assert!(text.contains("redacted"), "{text}");
        }
    }
}
