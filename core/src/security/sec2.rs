//! Security 2: SRP-6a (see [`super::srp`]) then AES-256-GCM (reference §4):
//!
//! 1. Cmd0 {username (1..65535 B), A (384 B)} → Resp0 {B, salt}
//! 2. Cmd1 {M (64 B)} → Resp1 {HAMK (64 B), device nonce}
//! 3. The client verifies HAMK; both sides key AES-256-GCM with K[0..32] and the nonce.

use std::fmt;

use zeroize::Zeroizing;

use super::envelope;
use super::gcm_cipher::{Sec2Cipher, Sec2PatchVersion};
use super::random::random_bytes;
use super::srp::{ClientKeyPair, ClientSession};
use super::{ClientHandshake, HandshakeStep, SecurityError};
use crate::proto::session_data::Proto;
use crate::proto::{
    S2SessionCmd0, S2SessionCmd1, S2SessionResp0, S2SessionResp1, Sec2MsgType, Sec2Payload, SecSchemeVersion,
    sec2_payload,
};
use crate::secret::SecretString;
#[cfg(feature = "device-side")]
use {
    super::srp::{DeviceSession, HASH_LEN, Sec2Verifier},
    super::{DeviceSecurity, SessionCipher},
    crate::proto::Status,
};

const SCHEME: SecSchemeVersion = SecSchemeVersion::SecScheme2;
const SECRET_LEN: usize = 32;
const MAX_USERNAME_LEN: usize = u16::MAX as usize;
/// Draws of `a` before giving up; each is refused with probability 1/256.
const MAX_SECRET_DRAWS: usize = 64;

/// Wraps a security 2 payload in the session envelope.
fn encode(msg: Sec2MsgType, payload: sec2_payload::Payload) -> Vec<u8> {
    envelope::encode(SCHEME, Proto::Sec2(Sec2Payload { msg: msg.into(), payload: Some(payload) }))
}

/// Unwraps a security 2 payload, returning its `msg` type and content.
fn decode(bytes: &[u8]) -> Result<(i32, Option<sec2_payload::Payload>), SecurityError> {
    match envelope::decode(bytes, SCHEME)? {
        Proto::Sec2(payload) => Ok((payload.msg, payload.payload)),
        other => Err(envelope::wrong_scheme(&other)),
    }
}

/// Where a security 2 client is in its handshake.
enum ClientState {
    Idle,
    AwaitingResponse0 { keys: Box<ClientKeyPair>, patch: Sec2PatchVersion },
    AwaitingResponse1 { session: ClientSession, patch: Sec2PatchVersion },
}

/// Client side of security 2.
pub struct Sec2Client {
    username: String,
    password: SecretString,
    patch_version: u32,
    fixed_secret: Option<Zeroizing<[u8; SECRET_LEN]>>,
    state: ClientState,
}

impl Sec2Client {
    /// A client logging in as `username` with `password`, for a device announcing
    /// `sec_patch_ver` = `patch_version`; its SRP secret comes from the OS generator.
    pub fn new(username: String, password: SecretString, patch_version: u32) -> Self {
        Self { username, password, patch_version, fixed_secret: None, state: ClientState::Idle }
    }

    /// A client with a fixed SRP secret `a` (its top bit is forced on), for reproducible
    /// tests only. `start` fails if this `a` gives an A shorter than 384 bytes.
    pub fn with_fixed_secret(
        username: String,
        password: SecretString,
        patch_version: u32,
        client_secret: [u8; SECRET_LEN],
    ) -> Self {
        Self {
            fixed_secret: Some(Zeroizing::new(client_secret)),
            ..Self::new(username, password, patch_version)
        }
    }

    fn key_pair(&self) -> Result<ClientKeyPair, SecurityError> {
        if let Some(secret) = &self.fixed_secret {
            return ClientKeyPair::from_secret(secret).ok_or_else(|| {
                SecurityError::InvalidCredentials(
                    "the fixed client secret gives an A shorter than 384 bytes".into(),
                )
            });
        }
        for _ in 0..MAX_SECRET_DRAWS {
            if let Some(keys) = ClientKeyPair::from_secret(&*random_bytes::<SECRET_LEN>()?) {
                return Ok(keys);
            }
        }
        Err(SecurityError::Randomness(format!(
            "{MAX_SECRET_DRAWS} random SRP secrets in a row gave a short public value"
        )))
    }

    fn on_response0(
        &mut self,
        keys: Box<ClientKeyPair>,
        patch: Sec2PatchVersion,
        response: S2SessionResp0,
    ) -> Result<HandshakeStep, SecurityError> {
        envelope::check_status(response.status)?;
        if response.device_salt.is_empty() {
            return Err(SecurityError::Malformed("the device sent no salt".into()));
        }
        let session = keys.respond(
            self.username.as_bytes(),
            &self.password,
            &response.device_salt,
            &response.device_pubkey,
        )?;
        let client_proof = session.proof().to_vec();
        self.state = ClientState::AwaitingResponse1 { session, patch };
        Ok(HandshakeStep::Send(encode(
            Sec2MsgType::S2SessionCommand1,
            sec2_payload::Payload::Sc1(S2SessionCmd1 { client_proof }),
        )))
    }
}

fn on_response1(
    session: ClientSession,
    patch: Sec2PatchVersion,
    response: S2SessionResp1,
) -> Result<HandshakeStep, SecurityError> {
    envelope::check_status(response.status)?;
    session.verify_device(&response.device_proof)?;
    let cipher = Sec2Cipher::new(&session.cipher_key(), &response.device_nonce, patch)?;
    Ok(HandshakeStep::Established(Box::new(cipher)))
}

impl ClientHandshake for Sec2Client {
    fn start(&mut self) -> Result<Vec<u8>, SecurityError> {
        self.state = ClientState::Idle;
        let patch = Sec2PatchVersion::from_sec_patch_ver(self.patch_version)?;
        if !(1..=MAX_USERNAME_LEN).contains(&self.username.len()) {
            return Err(SecurityError::InvalidCredentials(format!(
                "the username is {} bytes; it must be 1 to {MAX_USERNAME_LEN}",
                self.username.len()
            )));
        }
        let keys = self.key_pair()?;
        let command = encode(
            Sec2MsgType::S2SessionCommand0,
            sec2_payload::Payload::Sc0(S2SessionCmd0 {
                client_username: self.username.as_bytes().to_vec(),
                client_pubkey: keys.public().to_vec(),
            }),
        );
        self.state = ClientState::AwaitingResponse0 { keys: Box::new(keys), patch };
        Ok(command)
    }

    fn on_reply(&mut self, reply: &[u8]) -> Result<HandshakeStep, SecurityError> {
        let state = std::mem::replace(&mut self.state, ClientState::Idle);
        let (msg, payload) = decode(reply)?;
        match (state, payload) {
            (ClientState::AwaitingResponse0 { keys, patch }, Some(sec2_payload::Payload::Sr0(response)))
                if msg == i32::from(Sec2MsgType::S2SessionResponse0) =>
            {
                self.on_response0(keys, patch, response)
            }
            (
                ClientState::AwaitingResponse1 { session, patch },
                Some(sec2_payload::Payload::Sr1(response)),
            ) if msg == i32::from(Sec2MsgType::S2SessionResponse1) => on_response1(session, patch, response),
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

impl fmt::Debug for Sec2Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.state {
            ClientState::Idle => "idle",
            ClientState::AwaitingResponse0 { .. } => "awaiting response 0",
            ClientState::AwaitingResponse1 { .. } => "awaiting response 1",
        };
        f.debug_struct("Sec2Client")
            .field("username", &self.username)
            .field("password", &self.password)
            .field("patch_version", &self.patch_version)
            .field("step", &step)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "device-side")]
/// Fixed device randomness for reproducible tests.
struct FixedDeviceSecrets {
    secret: Zeroizing<[u8; SECRET_LEN]>,
    nonce: Vec<u8>,
}

#[cfg(feature = "device-side")]
/// Where a security 2 device is in its handshake.
enum DeviceState {
    AwaitingCommand0,
    AwaitingCommand1 { username: Vec<u8>, session: Box<DeviceSession> },
    Established(Box<Sec2Cipher>),
}

#[cfg(feature = "device-side")]
/// Device side of security 2, holding a salt and verifier instead of the password.
pub struct Sec2Device {
    verifier: Sec2Verifier,
    patch: Sec2PatchVersion,
    fixed: Option<FixedDeviceSecrets>,
    state: DeviceState,
}

#[cfg(feature = "device-side")]
impl Sec2Device {
    /// A device with `verifier` running cipher revision `patch`; its SRP secret and nonce
    /// come from the OS generator (patch 0 sends a 16-byte nonce like pre-patch firmware,
    /// patch 1 sends 8 random bytes ‖ 00 00 00 01).
    pub fn new(verifier: Sec2Verifier, patch: Sec2PatchVersion) -> Self {
        Self { verifier, patch, fixed: None, state: DeviceState::AwaitingCommand0 }
    }

    /// A device with a fixed SRP secret `b` and device nonce (sent verbatim), for
    /// reproducible tests only.
    pub fn with_fixed_secrets(
        verifier: Sec2Verifier,
        patch: Sec2PatchVersion,
        device_secret: [u8; SECRET_LEN],
        device_nonce: Vec<u8>,
    ) -> Self {
        Self {
            fixed: Some(FixedDeviceSecrets { secret: Zeroizing::new(device_secret), nonce: device_nonce }),
            ..Self::new(verifier, patch)
        }
    }

    fn on_command0(&mut self, command: S2SessionCmd0) -> Result<Vec<u8>, SecurityError> {
        if !(1..=MAX_USERNAME_LEN).contains(&command.client_username.len()) {
            return Err(SecurityError::Malformed(format!(
                "the username is {} bytes; it must be 1 to {MAX_USERNAME_LEN}",
                command.client_username.len()
            )));
        }
        let secret = match &self.fixed {
            Some(fixed) => fixed.secret.clone(),
            None => random_bytes::<SECRET_LEN>()?,
        };
        let session = DeviceSession::new(&self.verifier, &secret, &command.client_pubkey)?;
        let reply = encode(
            Sec2MsgType::S2SessionResponse0,
            sec2_payload::Payload::Sr0(S2SessionResp0 {
                status: Status::Success.into(),
                device_pubkey: session.device_public().to_vec(),
                device_salt: self.verifier.salt().to_vec(),
            }),
        );
        self.state =
            DeviceState::AwaitingCommand1 { username: command.client_username, session: Box::new(session) };
        Ok(reply)
    }

    fn on_command1(
        &mut self,
        username: &[u8],
        session: &DeviceSession,
        command: &S2SessionCmd1,
    ) -> Result<Vec<u8>, SecurityError> {
        if command.client_proof.len() != HASH_LEN {
            return Err(SecurityError::Malformed(format!(
                "the client proof is {} bytes instead of {HASH_LEN}",
                command.client_proof.len()
            )));
        }
        let device_proof = session.verify_client(username, self.verifier.salt(), &command.client_proof)?;
        let device_nonce = self.device_nonce()?;
        let cipher = Sec2Cipher::new(&session.cipher_key(), &device_nonce, self.patch)?;
        self.state = DeviceState::Established(Box::new(cipher));
        Ok(encode(
            Sec2MsgType::S2SessionResponse1,
            sec2_payload::Payload::Sr1(S2SessionResp1 {
                status: Status::Success.into(),
                device_proof: device_proof.to_vec(),
                device_nonce,
            }),
        ))
    }

    fn device_nonce(&self) -> Result<Vec<u8>, SecurityError> {
        if let Some(fixed) = &self.fixed {
            return Ok(fixed.nonce.clone());
        }
        match self.patch {
            Sec2PatchVersion::StaticNonce => Ok(random_bytes::<16>()?.to_vec()),
            Sec2PatchVersion::NonceCounter => {
                let mut nonce = random_bytes::<8>()?.to_vec();
                nonce.extend_from_slice(&1u32.to_be_bytes());
                Ok(nonce)
            }
        }
    }
}

#[cfg(feature = "device-side")]
impl DeviceSecurity for Sec2Device {
    fn on_session_request(&mut self, request: &[u8]) -> Result<Vec<u8>, SecurityError> {
        // Any failure closes the session, as the firmware's transport does.
        let state = std::mem::replace(&mut self.state, DeviceState::AwaitingCommand0);
        let (msg, payload) = decode(request)?;
        match (payload, state) {
            // A new command 0 restarts the handshake from any state.
            (Some(sec2_payload::Payload::Sc0(command)), _)
                if msg == i32::from(Sec2MsgType::S2SessionCommand0) =>
            {
                self.on_command0(command)
            }
            (
                Some(sec2_payload::Payload::Sc1(command)),
                DeviceState::AwaitingCommand1 { username, session },
            ) if msg == i32::from(Sec2MsgType::S2SessionCommand1) => {
                self.on_command1(&username, &session, &command)
            }
            (Some(sec2_payload::Payload::Sc1(_)), _) if msg == i32::from(Sec2MsgType::S2SessionCommand1) => {
                Err(SecurityError::UnexpectedMessage(
                    "session command 1 without a preceding command 0".into(),
                ))
            }
            _ => Err(envelope::unexpected_step(msg, "a session command")),
        }
    }

    fn cipher(&mut self) -> Option<&mut dyn SessionCipher> {
        match &mut self.state {
            DeviceState::Established(cipher) => Some(cipher.as_mut()),
            _ => None,
        }
    }
}

#[cfg(feature = "device-side")]
impl fmt::Debug for Sec2Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.state {
            DeviceState::AwaitingCommand0 => "awaiting command 0",
            DeviceState::AwaitingCommand1 { .. } => "awaiting command 1",
            DeviceState::Established(_) => "established",
        };
        f.debug_struct("Sec2Device")
            .field("verifier", &self.verifier)
            .field("patch", &self.patch)
            .field("step", &step)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::srp::tests::{OFFICIAL_SALT, client_secret, device_secret, official_verifier};

    const SET_CONFIG: &str = "080262140a066d7973736964120a6d7970617373776f7264";
    const RESP_SET_CONFIG: &str = "08036a00";
    const NONCE: &str = "010203040506070800000001";

    fn password() -> SecretString {
        SecretString::new("abcd1234")
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

    fn handshake(
        client: &mut Sec2Client,
        device: &mut Sec2Device,
    ) -> Result<Box<dyn SessionCipher>, SecurityError> {
        let resp0 = device.on_session_request(&client.start()?)?;
        let cmd1 = sent(client.on_reply(&resp0)?);
        let resp1 = device.on_session_request(&cmd1)?;
        Ok(established(client.on_reply(&resp1)?))
    }

    fn exchange(client: &mut dyn SessionCipher, device: &mut Sec2Device, round: u8) {
        let request = client.encrypt(&[round; 33]).unwrap();
        assert_eq!(request.len(), 33 + client.overhead());
        let device_cipher = device.cipher().unwrap();
        assert_eq!(device_cipher.decrypt(&request).unwrap(), [round; 33]);
        let reply = device_cipher.encrypt(&[round ^ 0xff; 5]).unwrap();
        assert_eq!(client.decrypt(&reply).unwrap(), [round ^ 0xff; 5]);
    }

    #[test]
    fn reproduces_the_reference_wire_bytes_and_messages() {
        let mut client = Sec2Client::with_fixed_secret("wifiprov".into(), password(), 1, client_secret());
        let mut device = Sec2Device::with_fixed_secrets(
            official_verifier(),
            Sec2PatchVersion::NonceCounter,
            device_secret(),
            hex::decode(NONCE).unwrap(),
        );

        let cmd0 = client.start().unwrap();
        assert_eq!(cmd0.len(), 406);
        let prefix = format!("1002629103a2018d030a08{}128003", hex::encode("wifiprov"));
        assert_eq!(hex::encode(&cmd0[..prefix.len() / 2]), prefix);
        assert_eq!(hex::encode(&cmd0[prefix.len() / 2..][..8]), "233519ad6f9af465");

        let resp0 = device.on_session_request(&cmd0).unwrap();
        assert!(hex::encode(&resp0).contains(OFFICIAL_SALT));
        let cmd1 = sent(client.on_reply(&resp0).unwrap());
        assert!(hex::encode(&cmd1).contains("ded835d3e7eedcce8be99d5318f04417"));
        let resp1 = device.on_session_request(&cmd1).unwrap();
        assert!(hex::encode(&resp1).contains("ad8e9c8385cbd913d3f176faf6d2a50c"));
        assert!(hex::encode(&resp1).contains(NONCE));
        let mut cipher = established(client.on_reply(&resp1).unwrap());

        let request = cipher.encrypt(&hex::decode(SET_CONFIG).unwrap()).unwrap();
        assert_eq!(
            hex::encode(&request),
            "68edd36908c8209cc6ce9565563ea592af52532019fe023a1a7634c33c196a959edc90ac9d4dc28c"
        );
        let device_cipher = device.cipher().unwrap();
        assert_eq!(hex::encode(device_cipher.decrypt(&request).unwrap()), SET_CONFIG);
        let reply = device_cipher.encrypt(&hex::decode(RESP_SET_CONFIG).unwrap()).unwrap();
        assert_eq!(hex::encode(&reply), "4ed3a8b3f24ef0fa8bb35a30f3350910f6858bf6");
        assert_eq!(hex::encode(cipher.decrypt(&reply).unwrap()), RESP_SET_CONFIG);
        assert_eq!(cipher.overhead(), 16);
    }

    #[test]
    fn random_handshakes_round_trip_for_both_patch_versions() {
        let verifier = Sec2Verifier::generate("wifiprov", &password()).unwrap();
        for patch in [Sec2PatchVersion::StaticNonce, Sec2PatchVersion::NonceCounter] {
            let mut client = Sec2Client::new("wifiprov".into(), password(), patch.sec_patch_ver());
            let mut device = Sec2Device::new(verifier.clone(), patch);
            let mut cipher = handshake(&mut client, &mut device).unwrap();
            for round in 0..4 {
                exchange(cipher.as_mut(), &mut device, round);
            }
        }
    }

    #[test]
    fn a_mismatched_patch_version_fails_to_decrypt() {
        let verifier = Sec2Verifier::generate("wifiprov", &password()).unwrap();
        let mut client = Sec2Client::new("wifiprov".into(), password(), 0);
        let mut device = Sec2Device::with_fixed_secrets(
            verifier,
            Sec2PatchVersion::NonceCounter,
            device_secret(),
            hex::decode(NONCE).unwrap(),
        );
        let mut cipher = handshake(&mut client, &mut device).unwrap();
        let first = cipher.encrypt(b"first").unwrap();
        let second = cipher.encrypt(b"second").unwrap();
        let device_cipher = device.cipher().unwrap();
        assert_eq!(device_cipher.decrypt(&first).unwrap(), b"first");
        // The device's counter moved on; the client's IV did not.
        assert!(matches!(device_cipher.decrypt(&second), Err(SecurityError::Decrypt)));
    }

    #[test]
    fn tampered_ciphertext_fails_to_decrypt() {
        let verifier = Sec2Verifier::generate("wifiprov", &password()).unwrap();
        let mut client = Sec2Client::new("wifiprov".into(), password(), 1);
        let mut device = Sec2Device::new(verifier, Sec2PatchVersion::NonceCounter);
        let mut cipher = handshake(&mut client, &mut device).unwrap();
        let mut request = cipher.encrypt(b"wifi credentials").unwrap();
        let last = request.len() - 1;
        request[last] ^= 0x80;
        assert!(matches!(device.cipher().unwrap().decrypt(&request), Err(SecurityError::Decrypt)));
    }

    #[test]
    fn wrong_password_or_username_is_refused_by_the_device() {
        let verifier = Sec2Verifier::generate("wifiprov", &password()).unwrap();
        for (username, password) in [("wifiprov", "abcd1235"), ("wifiprow", "abcd1234")] {
            let mut client = Sec2Client::new(username.into(), SecretString::new(password), 1);
            let mut device = Sec2Device::new(verifier.clone(), Sec2PatchVersion::NonceCounter);
            assert!(matches!(handshake(&mut client, &mut device), Err(SecurityError::ProofMismatch)));
            assert!(device.cipher().is_none());
        }
    }

    #[test]
    fn a_device_without_the_verifier_is_detected_by_the_client() {
        let mut client = Sec2Client::new("wifiprov".into(), password(), 1);
        let mut device = Sec2Device::new(official_verifier(), Sec2PatchVersion::NonceCounter);
        let resp0 = device.on_session_request(&client.start().unwrap()).unwrap();
        sent(client.on_reply(&resp0).unwrap());
        let forged = encode(
            Sec2MsgType::S2SessionResponse1,
            sec2_payload::Payload::Sr1(S2SessionResp1 {
                status: 0,
                device_proof: vec![7; HASH_LEN],
                device_nonce: hex::decode(NONCE).unwrap(),
            }),
        );
        assert!(matches!(client.on_reply(&forged), Err(SecurityError::ProofMismatch)));
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let mut empty_user = Sec2Client::new(String::new(), password(), 1);
        assert!(matches!(empty_user.start(), Err(SecurityError::InvalidCredentials(_))));
        let mut long_user = Sec2Client::new("u".repeat(65536), password(), 1);
        assert!(matches!(long_user.start(), Err(SecurityError::InvalidCredentials(_))));
        let mut future_patch = Sec2Client::new("wifiprov".into(), password(), 2);
        assert!(matches!(future_patch.start(), Err(SecurityError::Unsupported(_))));

        let mut device = Sec2Device::new(official_verifier(), Sec2PatchVersion::NonceCounter);
        let no_user = encode(
            Sec2MsgType::S2SessionCommand0,
            sec2_payload::Payload::Sc0(S2SessionCmd0 {
                client_username: Vec::new(),
                client_pubkey: vec![1; 384],
            }),
        );
        assert!(matches!(device.on_session_request(&no_user), Err(SecurityError::Malformed(_))));
        let short_a = encode(
            Sec2MsgType::S2SessionCommand0,
            sec2_payload::Payload::Sc0(S2SessionCmd0 {
                client_username: b"wifiprov".to_vec(),
                client_pubkey: vec![1; 383],
            }),
        );
        assert!(matches!(device.on_session_request(&short_a), Err(SecurityError::InvalidPublicKey(_))));

        let mut client = Sec2Client::new("wifiprov".into(), password(), 1);
        let resp0 = device.on_session_request(&client.start().unwrap()).unwrap();
        sent(client.on_reply(&resp0).unwrap());
        let short_proof = encode(
            Sec2MsgType::S2SessionCommand1,
            sec2_payload::Payload::Sc1(S2SessionCmd1 { client_proof: vec![0; 63] }),
        );
        assert!(matches!(device.on_session_request(&short_proof), Err(SecurityError::Malformed(_))));

        let mut client = Sec2Client::new("wifiprov".into(), password(), 1);
        client.start().unwrap();
        let no_salt = encode(
            Sec2MsgType::S2SessionResponse0,
            sec2_payload::Payload::Sr0(S2SessionResp0 {
                status: 0,
                device_pubkey: vec![2; 384],
                device_salt: Vec::new(),
            }),
        );
        assert!(matches!(client.on_reply(&no_salt), Err(SecurityError::Malformed(_))));
        client.start().unwrap();
        let zero_b = encode(
            Sec2MsgType::S2SessionResponse0,
            sec2_payload::Payload::Sr0(S2SessionResp0 {
                status: 0,
                device_pubkey: vec![0; 384],
                device_salt: vec![1; 16],
            }),
        );
        assert!(matches!(client.on_reply(&zero_b), Err(SecurityError::InvalidPublicKey(_))));
    }

    #[test]
    fn bad_nonce_from_the_device_is_rejected() {
        let verifier = Sec2Verifier::generate("wifiprov", &password()).unwrap();
        let mut client = Sec2Client::new("wifiprov".into(), password(), 1);
        let mut device = Sec2Device::with_fixed_secrets(
            verifier,
            Sec2PatchVersion::StaticNonce,
            device_secret(),
            vec![1; 16],
        );
        assert!(matches!(handshake(&mut client, &mut device), Err(SecurityError::Malformed(_))));
    }

    #[test]
    fn message_types_and_order_are_checked() {
        let mut device = Sec2Device::new(official_verifier(), Sec2PatchVersion::NonceCounter);
        let early_cmd1 = encode(
            Sec2MsgType::S2SessionCommand1,
            sec2_payload::Payload::Sc1(S2SessionCmd1 { client_proof: vec![0; 64] }),
        );
        assert!(matches!(device.on_session_request(&early_cmd1), Err(SecurityError::UnexpectedMessage(_))));
        let mismatched = encode(
            Sec2MsgType::S2SessionCommand0,
            sec2_payload::Payload::Sc1(S2SessionCmd1 { client_proof: vec![0; 64] }),
        );
        assert!(matches!(device.on_session_request(&mismatched), Err(SecurityError::UnexpectedMessage(_))));
        let sec1 = hex::decode("10015a00").unwrap();
        assert!(matches!(device.on_session_request(&sec1), Err(SecurityError::UnexpectedMessage(_))));

        let mut client = Sec2Client::new("wifiprov".into(), password(), 1);
        let cmd0 = client.start().unwrap();
        assert!(matches!(client.on_reply(&cmd0), Err(SecurityError::UnexpectedMessage(_))));
        client.start().unwrap();
        let refused = encode(
            Sec2MsgType::S2SessionResponse0,
            sec2_payload::Payload::Sr0(S2SessionResp0 {
                status: Status::CryptoError.into(),
                ..Default::default()
            }),
        );
        assert!(matches!(client.on_reply(&refused), Err(SecurityError::Status(_))));
    }

    #[test]
    fn a_new_command0_restarts_the_session() {
        let verifier = Sec2Verifier::generate("wifiprov", &password()).unwrap();
        let mut device = Sec2Device::new(verifier, Sec2PatchVersion::NonceCounter);
        let mut first = Sec2Client::new("wifiprov".into(), password(), 1);
        handshake(&mut first, &mut device).unwrap();
        let mut second = Sec2Client::new("wifiprov".into(), password(), 1);
        let mut cipher = handshake(&mut second, &mut device).unwrap();
        exchange(cipher.as_mut(), &mut device, 9);
    }

    /// Handshakes with random secrets and salts, spread over the available cores: every one
    /// must succeed (A is always 384 bytes; leading zeros of B, S and K are handled).
    fn run_random_handshakes(count: usize) {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::thread::scope(|scope| {
            for worker in 0..workers {
                scope.spawn(move || {
                    for round in (worker..count).step_by(workers) {
                        let verifier = Sec2Verifier::generate("wifiprov", &password()).unwrap();
                        let patch = if round % 2 == 0 {
                            Sec2PatchVersion::NonceCounter
                        } else {
                            Sec2PatchVersion::StaticNonce
                        };
                        let mut client =
                            Sec2Client::new("wifiprov".into(), password(), patch.sec_patch_ver());
                        let mut device = Sec2Device::new(verifier, patch);
                        let mut cipher = handshake(&mut client, &mut device)
                            .unwrap_or_else(|error| panic!("handshake {round} failed: {error}"));
                        exchange(cipher.as_mut(), &mut device, round as u8);
                    }
                });
            }
        });
    }

    #[test]
    fn hundreds_of_random_handshakes_succeed() {
        run_random_handshakes(256);
    }

    #[test]
    #[ignore = "slow: 10,000 handshakes; run with --ignored in release"]
    fn ten_thousand_random_handshakes_succeed() {
        run_random_handshakes(10_000);
    }

    #[test]
    fn debug_is_redacted() {
        let client = Sec2Client::new("wifiprov".into(), password(), 1);
        let device = Sec2Device::new(official_verifier(), Sec2PatchVersion::NonceCounter);
        for text in [format!("{client:?}"), format!("{device:?}")] {
            assert!(!text.contains("abcd1234"), "{text}");
            assert!(!text.contains("7c7c8547"), "{text}");
            assert!(text.contains("redacted"), "{text}");
        }
    }
}
