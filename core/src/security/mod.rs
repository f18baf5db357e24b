//! Protocomm security: the session handshake on `prov-session` and the session cipher that
//! protects every other endpoint. Security 0 (none), 1 (X25519 + PoP + AES-256-CTR) and
//! 2 (SRP-6a 3072/SHA-512 + AES-256-GCM, patch versions 0 and 1), in both roles: the client
//! used by apps and the device role used by the simulator (feature `device-side`).
//!
//! Everything here is sans-IO: handshakes consume and produce message bytes, so the same code
//! runs over SoftAP, BLE, and in benchmarks.

mod ctr_cipher;
mod envelope;
mod gcm_cipher;
mod modp;
mod random;
mod sec0;
mod sec1;
mod sec2;
mod srp;

pub use gcm_cipher::Sec2PatchVersion;
pub(crate) use random::random_bytes;
pub use sec0::Sec0Client;
pub use sec1::Sec1Client;
pub use sec2::Sec2Client;
#[cfg(feature = "device-side")]
pub use {sec0::Sec0Device, sec1::Sec1Device, sec2::Sec2Device, srp::Sec2Verifier};

use crate::secret::SecretString;

/// The security scheme a device runs, as announced in its version info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum SecurityLevel {
    /// No handshake, no encryption.
    Sec0,
    /// X25519 key agreement mixed with a proof of possession; AES-256-CTR.
    Sec1,
    /// SRP-6a with a username and password; AES-256-GCM.
    Sec2,
}

/// What the client knows to open a session with a device.
#[derive(Debug, Clone)]
pub enum ClientCredentials {
    /// Security 0: nothing.
    Sec0,
    /// Security 1 with the device's proof of possession (empty when the device has `no_pop`).
    Sec1 {
        /// The proof of possession printed on the device; empty for `no_pop` devices.
        pop: SecretString,
    },
    /// Security 2 with the SRP username and password (the password is the QR code's "pop").
    Sec2 {
        /// SRP username, `wifiprov` on Espressif examples.
        username: String,
        /// SRP password.
        password: SecretString,
    },
}

impl ClientCredentials {
    /// The security scheme these credentials are for.
    pub fn level(&self) -> SecurityLevel {
        match self {
            Self::Sec0 => SecurityLevel::Sec0,
            Self::Sec1 { .. } => SecurityLevel::Sec1,
            Self::Sec2 { .. } => SecurityLevel::Sec2,
        }
    }
}

#[cfg(feature = "device-side")]
/// What a (simulated) device is configured with to accept sessions.
#[derive(Debug, Clone)]
pub enum DeviceSecrets {
    /// Security 0: anyone may connect.
    Sec0,
    /// Security 1 with a proof of possession (empty means `no_pop`).
    Sec1 {
        /// The proof of possession clients must know.
        pop: SecretString,
    },
    /// Security 2 with a salt and verifier, and the cipher revision to run.
    Sec2 {
        /// Salt and verifier derived from the username and password.
        verifier: Sec2Verifier,
        /// The `sec_patch_ver` the device announces and runs.
        patch: Sec2PatchVersion,
    },
}

/// The client handshake for `creds` with a device announcing `sec_patch_ver` (security 2 only;
/// 0 when absent from its version info), drawing its secrets from the OS random generator.
pub fn client_handshake(creds: &ClientCredentials, sec_patch_ver: u32) -> Box<dyn ClientHandshake> {
    match creds {
        ClientCredentials::Sec0 => Box::new(Sec0Client::new()),
        ClientCredentials::Sec1 { pop } => Box::new(Sec1Client::new(pop.clone())),
        ClientCredentials::Sec2 { username, password } => {
            Box::new(Sec2Client::new(username.clone(), password.clone(), sec_patch_ver))
        }
    }
}

#[cfg(feature = "device-side")]
/// A fresh device-side security instance for one transport session, drawing its secrets
/// from the OS random generator.
pub fn device_security(creds: &DeviceSecrets) -> Box<dyn DeviceSecurity> {
    match creds {
        DeviceSecrets::Sec0 => Box::new(Sec0Device::new()),
        DeviceSecrets::Sec1 { pop } => Box::new(Sec1Device::new(pop.clone())),
        DeviceSecrets::Sec2 { verifier, patch } => Box::new(Sec2Device::new(verifier.clone(), *patch)),
    }
}

/// Encrypts requests and decrypts replies of an established session. Every message, in both
/// directions, must pass through it in order: CTR offsets and GCM counters are shared.
pub trait SessionCipher: Send {
    /// Encrypts one outgoing message.
    fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, SecurityError>;
    /// Decrypts one incoming message.
    fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, SecurityError>;
    /// Bytes the cipher adds to each message (16 for the GCM tag, 0 otherwise).
    fn overhead(&self) -> usize;
}

/// The next move of a client handshake after a reply.
pub enum HandshakeStep {
    /// Send these bytes to `prov-session` and feed the reply back.
    Send(Vec<u8>),
    /// The session is established; use this cipher for every other endpoint.
    Established(Box<dyn SessionCipher>),
}

/// Client side of a security handshake, driven by the caller over any transport.
pub trait ClientHandshake: Send {
    /// The first request to send to `prov-session`.
    fn start(&mut self) -> Result<Vec<u8>, SecurityError>;
    /// Consumes the device's reply to the last request.
    fn on_reply(&mut self, reply: &[u8]) -> Result<HandshakeStep, SecurityError>;
}

#[cfg(feature = "device-side")]
/// Device side of a security scheme: answers `prov-session` and then protects the
/// other endpoints. Used by the simulator.
pub trait DeviceSecurity: Send {
    /// Handles one `prov-session` request and returns the reply. An error means the firmware
    /// would fail the handler, which closes the transport session.
    fn on_session_request(&mut self, request: &[u8]) -> Result<Vec<u8>, SecurityError>;
    /// The session cipher once the handshake has completed.
    fn cipher(&mut self) -> Option<&mut dyn SessionCipher>;
}

/// Why a handshake or a session cipher failed.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// A handshake message could not be decoded or lacks a required field.
    #[error(
        "the device sent a handshake message that cannot be read ({0}); it may run incompatible firmware"
    )]
    Malformed(String),
    /// The peer answered with a message that does not belong at this step.
    #[error("the device answered with an unexpected handshake message ({0}); start a new session")]
    UnexpectedMessage(String),
    /// The peer reported a non-success status.
    #[error("the device refused the handshake with status {0}")]
    Status(String),
    /// The peer's proof did not verify: wrong PoP, wrong sec2 username or password.
    #[error("the device's proof did not verify: the proof of possession or password is wrong")]
    ProofMismatch,
    /// A public value has the wrong length or is degenerate (e.g. SRP B mod N = 0).
    #[error("the device sent an invalid public key ({0}); the session is not secure, try again")]
    InvalidPublicKey(String),
    /// A message failed authentication (GCM tag) or is too short to hold one.
    #[error("a message failed to decrypt: the session is out of sync; reconnect to the device")]
    Decrypt,
    /// The session's nonce counter is exhausted.
    #[error("the session used up its nonces; reconnect to the device")]
    NonceExhausted,
    /// An encrypted message arrived before the handshake completed.
    #[error("no secure session is established yet")]
    NoSession,
    /// The credentials given to the handshake cannot be used (e.g. an empty sec2 username).
    #[error("the security credentials cannot be used ({0}); check the username and password")]
    InvalidCredentials(String),
    /// The device asks for a security feature this version does not implement.
    #[error("the device uses an unsupported security feature ({0}); update the app")]
    Unsupported(String),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed ({0}); try again")]
    Randomness(String),
}

impl SecurityError {
    /// Whether repeating the operation (with a new session) can succeed without the user
    /// changing anything. A wrong PoP or password needs the user; the rest may be transient.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Self::ProofMismatch | Self::Status(_) | Self::InvalidCredentials(_) | Self::Unsupported(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drives `client` against `device` until the session is established.
    fn connect(
        client: &mut dyn ClientHandshake,
        device: &mut dyn DeviceSecurity,
    ) -> Result<Box<dyn SessionCipher>, SecurityError> {
        let mut request = client.start()?;
        loop {
            let reply = device.on_session_request(&request)?;
            match client.on_reply(&reply)? {
                HandshakeStep::Send(next) => request = next,
                HandshakeStep::Established(cipher) => return Ok(cipher),
            }
        }
    }

    #[test]
    fn every_level_and_patch_version_round_trips_through_the_constructors() {
        let password = SecretString::new("abcd1234");
        let verifier = Sec2Verifier::generate("wifiprov", &password).unwrap();
        let sec2 = ClientCredentials::Sec2 { username: "wifiprov".into(), password: password.clone() };
        let pairs = [
            (ClientCredentials::Sec0, 0, DeviceSecrets::Sec0),
            (
                ClientCredentials::Sec1 { pop: SecretString::new("") },
                0,
                DeviceSecrets::Sec1 { pop: SecretString::new("") },
            ),
            (
                ClientCredentials::Sec1 { pop: password.clone() },
                0,
                DeviceSecrets::Sec1 { pop: password.clone() },
            ),
            (
                sec2.clone(),
                0,
                DeviceSecrets::Sec2 { verifier: verifier.clone(), patch: Sec2PatchVersion::StaticNonce },
            ),
            (sec2, 1, DeviceSecrets::Sec2 { verifier, patch: Sec2PatchVersion::NonceCounter }),
        ];
        for (client_creds, sec_patch_ver, device_creds) in pairs {
            let mut client = client_handshake(&client_creds, sec_patch_ver);
            let mut device = device_security(&device_creds);
            let mut cipher = connect(client.as_mut(), device.as_mut()).unwrap();
            for round in 0..3u8 {
                let request = cipher.encrypt(&[round; 24]).unwrap();
                let device_cipher = device.cipher().unwrap();
                assert_eq!(device_cipher.decrypt(&request).unwrap(), [round; 24]);
                let reply = device_cipher.encrypt(&[round; 4]).unwrap();
                assert_eq!(reply.len(), 4 + cipher.overhead());
                assert_eq!(cipher.decrypt(&reply).unwrap(), [round; 4]);
            }
        }
    }

    #[test]
    fn wrong_secrets_are_detected_at_levels_1_and_2() {
        let right = SecretString::new("abcd1234");
        let wrong = SecretString::new("abcd4321");
        let mut client = client_handshake(&ClientCredentials::Sec1 { pop: wrong.clone() }, 0);
        let mut device = device_security(&DeviceSecrets::Sec1 { pop: right.clone() });
        assert!(matches!(connect(client.as_mut(), device.as_mut()), Err(SecurityError::ProofMismatch)));
        let verifier = Sec2Verifier::generate("wifiprov", &right).unwrap();
        let mut client =
            client_handshake(&ClientCredentials::Sec2 { username: "wifiprov".into(), password: wrong }, 1);
        let mut device =
            device_security(&DeviceSecrets::Sec2 { verifier, patch: Sec2PatchVersion::NonceCounter });
        assert!(matches!(connect(client.as_mut(), device.as_mut()), Err(SecurityError::ProofMismatch)));
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        assert!(!SecurityError::ProofMismatch.is_retryable());
        assert!(!SecurityError::InvalidCredentials("empty username".into()).is_retryable());
        assert!(!SecurityError::Unsupported("patch 2".into()).is_retryable());
        assert!(SecurityError::Decrypt.is_retryable());
        assert!(SecurityError::Randomness("unavailable".into()).is_retryable());
    }

    #[test]
    fn device_credentials_debug_is_redacted() {
        let password = SecretString::new("hunter22");
        let creds = [
            DeviceSecrets::Sec1 { pop: password.clone() },
            DeviceSecrets::Sec2 {
                verifier: Sec2Verifier::derive("wifiprov", &password, vec![1; 16]),
                patch: Sec2PatchVersion::NonceCounter,
            },
        ];
        for creds in creds {
            let text = format!("{creds:?}");
            assert!(!text.contains("hunter22"), "{text}");
            assert!(text.contains("redacted"), "{text}");
        }
    }
}
