//! Security 2's session cipher: AES-256-GCM keyed with K[0..32], 16-byte tag appended, no
//! associated data. How the IV evolves depends on the device's `sec_patch_ver`.

use std::fmt;

use aes::Aes256;
use aes_gcm::aead::Aead;
use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::{AesGcm, KeyInit};

use super::{SecurityError, SessionCipher};

/// Length of the GCM tag appended to every message.
const TAG_LEN: usize = 16;

/// Revision of security 2's session cipher, announced as `sec_patch_ver` in the device's
/// version info (absent means 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sec2PatchVersion {
    /// `sec_patch_ver` 0 (ESP-IDF up to about 5.4.0): the device nonce is the IV of every
    /// message in both directions. Such firmware sends a 16-byte nonce (12 is accepted too).
    StaticNonce,
    /// `sec_patch_ver` 1: the IV is 8 random bytes ‖ a big-endian 32-bit counter starting at
    /// 1, incremented after every encryption and decryption on both sides.
    NonceCounter,
}

impl Sec2PatchVersion {
    /// Reads the `sec_patch_ver` number; versions newer than 1 are not supported.
    pub fn from_sec_patch_ver(version: u32) -> Result<Self, SecurityError> {
        match version {
            0 => Ok(Self::StaticNonce),
            1 => Ok(Self::NonceCounter),
            other => Err(SecurityError::Unsupported(format!("security 2 patch version {other}"))),
        }
    }

    /// The `sec_patch_ver` number a device announces for this revision.
    pub fn sec_patch_ver(self) -> u32 {
        match self {
            Self::StaticNonce => 0,
            Self::NonceCounter => 1,
        }
    }
}

/// How the IV of each message is chosen.
enum IvSchedule {
    /// Patch 0 with a 12-byte device nonce.
    Static12 { aead: AesGcm<Aes256, U12>, iv: Array<u8, U12> },
    /// Patch 0 with the 16-byte device nonce of pre-patch firmware (GHASH-derived counter).
    Static16 { aead: AesGcm<Aes256, U16>, iv: Array<u8, U16> },
    /// Patch 1: `prefix ‖ BE32(counter)`; counter 0 (after a wrap) is refused.
    Counter { aead: AesGcm<Aes256, U12>, prefix: [u8; 8], counter: u32 },
}

/// The AES-256-GCM cipher of a security 2 session; both roles use it the same way.
pub(crate) struct Sec2Cipher {
    schedule: IvSchedule,
}

impl Sec2Cipher {
    /// Keys the cipher with the first 32 bytes of K and the device nonce from `SessionResp1`.
    pub(crate) fn new(
        key: &[u8; 32],
        device_nonce: &[u8],
        patch: Sec2PatchVersion,
    ) -> Result<Self, SecurityError> {
        let bad_nonce = |expected: &str| {
            SecurityError::Malformed(format!(
                "the device nonce is {} bytes instead of {expected}",
                device_nonce.len()
            ))
        };
        let schedule = match (patch, device_nonce.len()) {
            (Sec2PatchVersion::StaticNonce, 12) => IvSchedule::Static12 {
                aead: AesGcm::new(key.into()),
                iv: Array::try_from(device_nonce).map_err(|_| bad_nonce("12"))?,
            },
            (Sec2PatchVersion::StaticNonce, 16) => IvSchedule::Static16 {
                aead: AesGcm::new(key.into()),
                iv: Array::try_from(device_nonce).map_err(|_| bad_nonce("16"))?,
            },
            (Sec2PatchVersion::StaticNonce, _) => return Err(bad_nonce("12 or 16")),
            (Sec2PatchVersion::NonceCounter, _) => {
                let nonce: [u8; 12] = device_nonce.try_into().map_err(|_| bad_nonce("12"))?;
                let [p0, p1, p2, p3, p4, p5, p6, p7, c0, c1, c2, c3] = nonce;
                IvSchedule::Counter {
                    aead: AesGcm::new(key.into()),
                    prefix: [p0, p1, p2, p3, p4, p5, p6, p7],
                    counter: u32::from_be_bytes([c0, c1, c2, c3]),
                }
            }
        };
        Ok(Self { schedule })
    }

    /// Encrypts (`seal`) or decrypts one message with the current IV, then advances it.
    fn process(
        &mut self,
        input: &[u8],
        seal: bool,
        failure: SecurityError,
    ) -> Result<Vec<u8>, SecurityError> {
        fn run<A: Aead>(
            aead: &A,
            iv: &aes_gcm::aead::Nonce<A>,
            input: &[u8],
            seal: bool,
        ) -> Result<Vec<u8>, aes_gcm::Error> {
            if seal { aead.encrypt(iv, input) } else { aead.decrypt(iv, input) }
        }
        match &mut self.schedule {
            IvSchedule::Static12 { aead, iv } => run(aead, iv, input, seal).map_err(|_| failure),
            IvSchedule::Static16 { aead, iv } => run(aead, iv, input, seal).map_err(|_| failure),
            IvSchedule::Counter { aead, prefix, counter } => {
                if *counter == 0 {
                    return Err(SecurityError::NonceExhausted);
                }
                let mut iv = Array::<u8, U12>::default();
                let (iv_prefix, iv_counter) = iv.split_at_mut(8);
                iv_prefix.copy_from_slice(prefix);
                iv_counter.copy_from_slice(&counter.to_be_bytes());
                let output = run(aead, &iv, input, seal).map_err(|_| failure)?;
                *counter = counter.wrapping_add(1);
                Ok(output)
            }
        }
    }
}

impl SessionCipher for Sec2Cipher {
    fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, SecurityError> {
        // GCM only refuses plaintexts beyond 2^36 bytes, where one IV's block counter runs out.
        self.process(plaintext, true, SecurityError::NonceExhausted)
    }

    fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, SecurityError> {
        if ciphertext.len() < TAG_LEN {
            return Err(SecurityError::Decrypt);
        }
        self.process(ciphertext, false, SecurityError::Decrypt)
    }

    fn overhead(&self) -> usize {
        TAG_LEN
    }
}

impl fmt::Debug for Sec2Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sec2Cipher([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [0x5a; 32];

    #[test]
    fn patch_versions_map_both_ways() {
        for version in [0, 1] {
            let patch = Sec2PatchVersion::from_sec_patch_ver(version).unwrap();
            assert_eq!(patch.sec_patch_ver(), version);
        }
        assert!(matches!(Sec2PatchVersion::from_sec_patch_ver(2), Err(SecurityError::Unsupported(_))));
    }

    #[test]
    fn static_nonce_reuses_the_iv_for_every_message() {
        for nonce_len in [12, 16] {
            let nonce = vec![3u8; nonce_len];
            let mut client = Sec2Cipher::new(&KEY, &nonce, Sec2PatchVersion::StaticNonce).unwrap();
            let mut device = Sec2Cipher::new(&KEY, &nonce, Sec2PatchVersion::StaticNonce).unwrap();
            let first = client.encrypt(b"same").unwrap();
            let second = client.encrypt(b"same").unwrap();
            assert_eq!(first, second);
            assert_eq!(first.len(), 4 + TAG_LEN);
            assert_eq!(device.decrypt(&first).unwrap(), b"same");
            let reply = device.encrypt(b"reply").unwrap();
            assert_eq!(client.decrypt(&reply).unwrap(), b"reply");
        }
    }

    #[test]
    fn counter_advances_after_every_message_on_both_sides() {
        let nonce = hex::decode("010203040506070800000001").unwrap();
        let mut client = Sec2Cipher::new(&KEY, &nonce, Sec2PatchVersion::NonceCounter).unwrap();
        let mut device = Sec2Cipher::new(&KEY, &nonce, Sec2PatchVersion::NonceCounter).unwrap();
        let first = client.encrypt(b"same").unwrap();
        assert_eq!(device.decrypt(&first).unwrap(), b"same");
        let reply = device.encrypt(b"reply").unwrap();
        assert_eq!(client.decrypt(&reply).unwrap(), b"reply");
        let second = client.encrypt(b"same").unwrap();
        assert_ne!(first, second);
        assert_eq!(device.decrypt(&second).unwrap(), b"same");
    }

    #[test]
    fn counter_wrap_is_refused() {
        let nonce = hex::decode("0102030405060708ffffffff").unwrap();
        let mut cipher = Sec2Cipher::new(&KEY, &nonce, Sec2PatchVersion::NonceCounter).unwrap();
        cipher.encrypt(b"last").unwrap();
        assert!(matches!(cipher.encrypt(b"wrapped"), Err(SecurityError::NonceExhausted)));
        assert!(matches!(cipher.decrypt(&[0; 20]), Err(SecurityError::NonceExhausted)));
    }

    #[test]
    fn tampering_and_truncation_fail_to_decrypt() {
        let nonce = [1u8; 12];
        let mut sender = Sec2Cipher::new(&KEY, &nonce, Sec2PatchVersion::StaticNonce).unwrap();
        let mut receiver = Sec2Cipher::new(&KEY, &nonce, Sec2PatchVersion::StaticNonce).unwrap();
        let mut message = sender.encrypt(b"payload").unwrap();
        message[0] ^= 1;
        assert!(matches!(receiver.decrypt(&message), Err(SecurityError::Decrypt)));
        assert!(matches!(receiver.decrypt(&[0; TAG_LEN - 1]), Err(SecurityError::Decrypt)));
    }

    #[test]
    fn bad_nonce_lengths_are_rejected() {
        assert!(Sec2Cipher::new(&KEY, &[0; 16], Sec2PatchVersion::NonceCounter).is_err());
        assert!(Sec2Cipher::new(&KEY, &[0; 13], Sec2PatchVersion::StaticNonce).is_err());
        assert!(Sec2Cipher::new(&KEY, &[], Sec2PatchVersion::StaticNonce).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let cipher = Sec2Cipher::new(&KEY, &[0; 12], Sec2PatchVersion::StaticNonce).unwrap();
        assert_eq!(format!("{cipher:?}"), "Sec2Cipher([redacted])");
    }
}
