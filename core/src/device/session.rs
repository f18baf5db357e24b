//! A secure protocomm session with one device: version info, security policy, handshake, and
//! encrypted request/reply on any endpoint.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::DeviceError;
use super::info::{DeviceInfo, VERSION_ENDPOINT, VERSION_REQUEST};
use crate::security::{
    ClientCredentials, ClientHandshake, HandshakeStep, SecurityLevel, SessionCipher, client_handshake,
};
use crate::transport::Transport;

/// The endpoint that carries the security handshake.
pub const SESSION_ENDPOINT: &str = "prov-session";

/// Which weak device-channel modes the caller accepts. All are refused by default: security 0
/// sends the Wi-Fi passphrase in clear, security 1 without a PoP lets anyone in radio range
/// impersonate the device, and security 2 patch version 0 encrypts every message of both
/// directions under one AES-GCM nonce, so a passive listener recovers the passphrase and the
/// claim token from known plaintext.
///
/// Whatever the policy, a device never gets weaker security than the caller's credentials are
/// for: credentials for security 1 or 2 (from a QR code or typed) against a device answering a
/// lower level is a credentials mismatch. `allow_unencrypted` covers only codes that themselves
/// say security 0.
///
/// Protocols without any encryption (Improv, captive portals) are accepted by default, since
/// that is how they work, with a warning; `allow_cleartext_protocols` lets an app refuse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityPolicy {
    /// Accept ESP devices running security 0 (no encryption at all).
    pub allow_unencrypted: bool,
    /// Accept security 1 devices that have no proof of possession.
    pub allow_sec1_without_pop: bool,
    /// Accept security 2 devices on patch version 0 (one static nonce for every message).
    pub allow_sec2_static_nonce: bool,
    /// Accept devices whose protocol has no encryption at all (Improv, captive portals).
    pub allow_cleartext_protocols: bool,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self {
            allow_unencrypted: false,
            allow_sec1_without_pop: false,
            allow_sec2_static_nonce: false,
            allow_cleartext_protocols: true,
        }
    }
}

/// A weak device-channel mode the [`SecurityPolicy`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    /// The device runs security 0.
    #[error(
        "the device runs security 0, which sends your Wi-Fi password unencrypted; \
         refusing unless unencrypted devices are explicitly allowed"
    )]
    Unencrypted,
    /// The device runs security 1 without a proof of possession, or none was given.
    #[error(
        "the device runs security 1 without a proof of possession, so its identity cannot be \
         checked; refusing unless such devices are explicitly allowed"
    )]
    Sec1WithoutPop,
    /// The device runs security 2 with patch version 0.
    #[error(
        "the device's firmware encrypts with a fixed nonce (security 2 patch version 0), which lets \
         anyone nearby read the Wi-Fi password; the device's firmware needs an update (security 2 \
         patch version 1, in current ESP-IDF releases), or allow this older firmware explicitly"
    )]
    Sec2StaticNonce,
    /// The device's protocol has no encryption and the app refuses such protocols.
    #[error(
        "the device's setup protocol sends your Wi-Fi password unencrypted, and this app does not \
         allow such devices"
    )]
    CleartextProtocol,
}

impl SecurityPolicy {
    /// Checks a device against the credentials and the policy before any secret is sent to it.
    pub fn check(&self, info: &DeviceInfo, credentials: &ClientCredentials) -> Result<(), DeviceError> {
        let given = credentials.level();
        if info.security != given {
            return Err(DeviceError::CredentialsMismatch { device: info.security, given });
        }
        let refusal = match info.security {
            SecurityLevel::Sec0 => self.cleartext_refusal(crate::onboarding::DeviceProtocol::EspUnified),
            SecurityLevel::Sec1 if !self.allow_sec1_without_pop => {
                let empty_pop = matches!(credentials, ClientCredentials::Sec1 { pop } if pop.is_empty());
                (info.lacks_pop() || empty_pop).then_some(PolicyRefusal::Sec1WithoutPop)
            }
            SecurityLevel::Sec2 if !self.allow_sec2_static_nonce && info.security_patch == 0 => {
                Some(PolicyRefusal::Sec2StaticNonce)
            }
            _ => None,
        };
        refusal.map_or(Ok(()), |refusal| Err(DeviceError::RefusedByPolicy(refusal)))
    }
}

/// An established secure session. Every request and reply passes through the session cipher in
/// order; after a failed exchange the session is out of step and refuses further requests.
pub struct DeviceSession {
    transport: Arc<dyn Transport>,
    info: DeviceInfo,
    cipher: Mutex<Option<Box<dyn SessionCipher>>>,
}

impl std::fmt::Debug for DeviceSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceSession")
            .field("transport", &self.transport.kind())
            .field("info", &self.info)
            .finish()
    }
}

impl DeviceSession {
    /// Asks the device for its version info and capabilities (plaintext, before any handshake).
    pub async fn read_info(transport: &dyn Transport) -> Result<DeviceInfo, DeviceError> {
        let reply = transport.exchange(VERSION_ENDPOINT, VERSION_REQUEST).await?;
        Ok(DeviceInfo::parse(&reply)?)
    }

    /// Reads the device's info, checks it against `policy` and the credentials, and runs the
    /// handshake. Two exchanges for security 1 and 2, one for security 0, plus the version read.
    pub async fn open(
        transport: Arc<dyn Transport>,
        credentials: &ClientCredentials,
        policy: &SecurityPolicy,
    ) -> Result<Self, DeviceError> {
        let info = Self::read_info(transport.as_ref()).await?;
        policy.check(&info, credentials)?;
        let handshake = client_handshake(credentials, info.security_patch);
        Self::establish(transport, info, handshake).await
    }

    /// Runs a given handshake with a device whose info is already known (deterministic keys in
    /// tests, or a caller that read the info itself).
    pub async fn establish(
        transport: Arc<dyn Transport>,
        info: DeviceInfo,
        mut handshake: Box<dyn ClientHandshake>,
    ) -> Result<Self, DeviceError> {
        let mut request = handshake.start()?;
        let mut first_step = true;
        loop {
            let reply = match transport.exchange(SESSION_ENDPOINT, &request).await {
                Ok(reply) => reply,
                // The firmware fails the handler (closing the link) when the client's proof does not
                // verify, which is the second step of security 1 and 2.
                Err(source) if !first_step && source.ends_session() => {
                    return Err(DeviceError::HandshakeRejected { source });
                }
                Err(error) => return Err(error.into()),
            };
            match handshake.on_reply(&reply)? {
                HandshakeStep::Send(next) => request = next,
                HandshakeStep::Established(cipher) => {
                    tracing::debug!(security = ?info.security, "secure session established");
                    return Ok(Self { transport, info, cipher: Mutex::new(Some(cipher)) });
                }
            }
            first_step = false;
        }
    }

    /// The device's version info.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The link this session runs on.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Largest plaintext one request may carry on this link.
    pub fn max_plaintext_len(&self) -> usize {
        self.transport.max_message_len().saturating_sub(16)
    }

    /// Sends an encrypted request to `endpoint` (a standard one or an application's custom
    /// endpoint) and returns the decrypted reply.
    pub async fn request(&self, endpoint: &str, plaintext: &[u8]) -> Result<Vec<u8>, DeviceError> {
        let mut guard = self.cipher.lock().await;
        let cipher = guard.as_mut().ok_or(DeviceError::SessionBroken)?;
        let encrypted = cipher.encrypt(plaintext)?;
        let result = match self.transport.exchange(endpoint, &encrypted).await {
            Ok(reply) => cipher.decrypt(&reply).map_err(DeviceError::from),
            Err(error) => Err(error.into()),
        };
        if result.is_err() {
            // The request consumed keystream or a nonce the device may not have seen (or the
            // reply's was not consumed): the two sides are out of step for good.
            *guard = None;
        }
        result
    }

    /// Ends the session and the link.
    pub async fn close(&self) {
        self.cipher.lock().await.take();
        self.transport.close().await;
    }
}
