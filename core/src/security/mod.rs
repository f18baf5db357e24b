//! Protocomm security: the session handshake on `prov-session` and the session cipher that
//! protects every other endpoint. Security 0 (none), 1 (X25519 + PoP + AES-256-CTR) and
//! 2 (SRP-6a 3072/SHA-512 + AES-256-GCM, patch versions 0 and 1), in both roles: the client
//! used by apps and the device role used by the simulator.
//!
//! Everything here is sans-IO: handshakes consume and produce message bytes, so the same code
//! runs over SoftAP, BLE, and in benchmarks.

use crate::secret::SecretString;

/// The security scheme a device runs, as announced in its version info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
        /// The device's `sec_patch_ver` (0 when absent from its version info).
        patch_version: u32,
    },
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
}

impl SecurityError {
    /// Whether repeating the operation (with a new session) can succeed without the user
    /// changing anything. A wrong PoP or password needs the user; the rest may be transient.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::ProofMismatch | Self::Status(_))
    }
}

/// TEMPORARY until the security implementation lands.
pub fn client_handshake(_credentials: &ClientCredentials) -> Box<dyn ClientHandshake> {
    todo!()
}
