//! Security 1's session cipher: AES-256-CTR with ONE keystream for the whole session, shared
//! by both directions and consumed in message order (handshake verify data first, then every
//! request and reply). No authentication; lengths are preserved.

use std::fmt;

use aes::Aes256;
use ctr::Ctr128BE;
use ctr::cipher::{KeyIvInit, StreamCipher};

use super::{SecurityError, SessionCipher};

/// The shared AES-256-CTR keystream of a security 1 session.
pub(crate) struct Sec1Cipher {
    keystream: Ctr128BE<Aes256>,
}

impl Sec1Cipher {
    /// Starts the keystream at counter block `device_random` (128-bit big-endian increment).
    pub(crate) fn new(key: &[u8; 32], device_random: &[u8; 16]) -> Self {
        Self { keystream: Ctr128BE::<Aes256>::new(key.into(), device_random.into()) }
    }

    /// XORs the next `data.len()` keystream bytes into a copy of `data`.
    pub(crate) fn apply(&mut self, data: &[u8]) -> Result<Vec<u8>, SecurityError> {
        let mut output = data.to_vec();
        self.keystream.try_apply_keystream(&mut output).map_err(|_| SecurityError::NonceExhausted)?;
        Ok(output)
    }
}

impl SessionCipher for Sec1Cipher {
    fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, SecurityError> {
        self.apply(plaintext)
    }

    fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, SecurityError> {
        self.apply(ciphertext)
    }

    fn overhead(&self) -> usize {
        0
    }
}

impl fmt::Debug for Sec1Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sec1Cipher([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_share_one_keystream() {
        let key = [7u8; 32];
        let iv = [9u8; 16];
        let mut sender = Sec1Cipher::new(&key, &iv);
        let mut receiver = Sec1Cipher::new(&key, &iv);
        let request = sender.encrypt(b"request").unwrap();
        assert_eq!(receiver.decrypt(&request).unwrap(), b"request");
        let reply = receiver.encrypt(b"a longer reply").unwrap();
        assert_eq!(sender.decrypt(&reply).unwrap(), b"a longer reply");

        // A fresh keystream skipped by the request's length yields the same reply bytes.
        let mut reference = Sec1Cipher::new(&key, &iv);
        reference.apply(&[0; 7]).unwrap();
        assert_eq!(reference.apply(b"a longer reply").unwrap(), reply);
    }

    #[test]
    fn debug_is_redacted() {
        let cipher = Sec1Cipher::new(&[0x42; 32], &[0; 16]);
        assert_eq!(format!("{cipher:?}"), "Sec1Cipher([redacted])");
    }
}
