//! SRP-6a exactly as ESP-IDF's security 2 computes it (reference §4 and §10): H = SHA-512,
//! the 3072-bit group with g = 5, and these byte-level rules, which differ from RFC 5054:
//!
//! | value | definition |
//! |---|---|
//! | x | H(salt ‖ H(user ‖ ":" ‖ password)), salt verbatim |
//! | v | g^x mod N |
//! | k | H(N ‖ PAD(g)) |
//! | A | g^a, always exactly 384 bytes (the client regenerates `a` until it is) |
//! | B | k·v + g^b, minimal length on the wire |
//! | u | H(PAD(A) ‖ PAD(B)) |
//! | K | H(S as minimal big-endian), a fixed 64-byte string |
//! | M | H(H(N) XOR H(PAD(g)) ‖ H(user) ‖ salt ‖ A ‖ B as received ‖ K) |
//! | HAMK | H(A ‖ M ‖ K) |

use crypto_bigint::{U256, U512, U1024, U1536};
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::SecurityError;
use super::modp::{self, ELEMENT_LEN, Element, Wide};
use crate::secret::SecretString;
#[cfg(feature = "device-side")]
use {super::random::random_bytes, crate::secret::SecretBytes, std::fmt};

/// Length of every SHA-512 value: k, u, K, M and HAMK.
pub(crate) const HASH_LEN: usize = 64;

/// A SHA-512 output.
pub(crate) type Hash = [u8; HASH_LEN];

/// Length of the salt generated for new verifiers (as `esp_srp_gen_salt_verifier` does).
#[cfg(feature = "device-side")]
const SALT_LEN: usize = 16;

/// Bits of a + u·x: a < 2^256 and u·x < 2^1024.
const CLIENT_EXPONENT_BITS: u32 = 1025;

/// SHA-512 over the concatenation of `parts`.
fn hash(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha512::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// k = H(N ‖ PAD(g)).
fn multiplier() -> Hash {
    hash(&[&modp::modulus_bytes(), &modp::padded_generator()])
}

/// k as a group element.
fn multiplier_element() -> Element {
    let k = multiplier();
    modp::element(&U512::from_be_slice(&k).resize::<{ Wide::LIMBS }>())
}

/// H(N) XOR H(PAD(g)), the first input of M.
fn group_digest() -> Hash {
    let mut digest = hash(&[&modp::modulus_bytes()]);
    let generator = hash(&[&modp::padded_generator()]);
    for (byte, other) in digest.iter_mut().zip(generator) {
        *byte ^= other;
    }
    digest
}

/// x = H(salt ‖ H(user ‖ ":" ‖ password)) as an integer.
fn password_exponent(username: &[u8], password: &[u8], salt: &[u8]) -> Zeroizing<U512> {
    let inner = Zeroizing::new(hash(&[username, b":", password]));
    let outer = Zeroizing::new(hash(&[salt, inner.as_slice()]));
    Zeroizing::new(U512::from_be_slice(outer.as_slice()))
}

/// u = H(PAD(A) ‖ PAD(B)).
fn scrambler(client_public: &[u8; ELEMENT_LEN], device_public: &[u8; ELEMENT_LEN]) -> Hash {
    hash(&[client_public, device_public])
}

/// K = H(S), S in minimal big-endian form.
fn session_key(shared: &Element) -> Zeroizing<Hash> {
    let padded = Zeroizing::new(modp::to_padded(&shared.retrieve()));
    Zeroizing::new(hash(&[modp::to_minimal(&padded)]))
}

/// M = H(H(N) XOR H(PAD(g)) ‖ H(user) ‖ salt ‖ A ‖ B ‖ K), A and B in wire form.
fn client_proof(
    username: &[u8],
    salt: &[u8],
    client_public: &[u8],
    device_public: &[u8],
    key: &Hash,
) -> Hash {
    hash(&[&group_digest(), &hash(&[username]), salt, client_public, device_public, key])
}

/// HAMK = H(A ‖ M ‖ K).
fn device_proof(client_public: &[u8], client_proof: &Hash, key: &Hash) -> Hash {
    hash(&[client_public, client_proof, key])
}

#[cfg(feature = "device-side")]
/// The salt and password verifier a security 2 device holds instead of the password.
#[derive(Clone)]
pub struct Sec2Verifier {
    salt: Vec<u8>,
    verifier: SecretBytes,
}

#[cfg(feature = "device-side")]
impl Sec2Verifier {
    /// Salt and verifier as provisioned on a device (e.g. by `esp_prov --sec2_gen_cred`).
    pub fn new(salt: Vec<u8>, verifier: Vec<u8>) -> Self {
        Self { salt, verifier: SecretBytes::new(verifier) }
    }

    /// Derives a verifier for `username` and `password` with a fresh random 16-byte salt.
    pub fn generate(username: &str, password: &SecretString) -> Result<Self, SecurityError> {
        let salt = random_bytes::<SALT_LEN>()?;
        Ok(Self::derive(username, password, salt.to_vec()))
    }

    /// Derives the verifier v = g^x mod N for `username`, `password` and `salt`, in the
    /// minimal big-endian form Espressif's tools produce.
    pub fn derive(username: &str, password: &SecretString, salt: Vec<u8>) -> Self {
        let x = password_exponent(username.as_bytes(), password.expose().as_bytes(), &salt);
        let verifier = Zeroizing::new(modp::to_padded(&modp::generator_pow_512(&x).retrieve()));
        Self { salt, verifier: SecretBytes::new(modp::to_minimal(&verifier).to_vec()) }
    }

    /// The salt, sent to clients in the clear.
    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    /// The verifier bytes (password-equivalent for offline guessing; keep it private).
    pub fn verifier(&self) -> &SecretBytes {
        &self.verifier
    }
}

#[cfg(feature = "device-side")]
impl fmt::Debug for Sec2Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sec2Verifier")
            .field("salt", &hex::encode(&self.salt))
            .field("verifier", &self.verifier)
            .finish()
    }
}

/// The client's ephemeral secret `a` and its public value A.
pub(crate) struct ClientKeyPair {
    secret: Zeroizing<U256>,
    public: [u8; ELEMENT_LEN],
}

impl ClientKeyPair {
    /// Derives A from 32 secret bytes with the top bit set. `None` when A would have fewer
    /// than 384 significant bytes (the device rejects such an A; draw another secret).
    pub(crate) fn from_secret(secret: &[u8; 32]) -> Option<Self> {
        let mut bytes = Zeroizing::new(*secret);
        bytes[0] |= 0x80;
        let secret = Zeroizing::new(U256::from_be_slice(bytes.as_slice()));
        let public = modp::to_padded(&modp::generator_pow_256(&secret).retrieve());
        (public[0] != 0).then_some(Self { secret, public })
    }

    /// A, exactly 384 bytes.
    pub(crate) fn public(&self) -> &[u8; ELEMENT_LEN] {
        &self.public
    }

    /// Processes the device's salt and B: checks B and u, derives K, M and the expected HAMK.
    pub(crate) fn respond(
        &self,
        username: &[u8],
        password: &SecretString,
        salt: &[u8],
        device_public: &[u8],
    ) -> Result<ClientSession, SecurityError> {
        let b = modp::from_be(device_public).ok_or_else(|| {
            SecurityError::InvalidPublicKey(format!(
                "B is {} bytes, longer than {ELEMENT_LEN}",
                device_public.len()
            ))
        })?;
        let b_element = modp::element(&b);
        if modp::is_zero(&b_element) {
            return Err(SecurityError::InvalidPublicKey("B mod N is zero".into()));
        }
        let u_hash = scrambler(&self.public, &modp::to_padded(&b));
        if u_hash.iter().all(|&byte| byte == 0) {
            return Err(SecurityError::InvalidPublicKey("u is zero".into()));
        }
        let u = U512::from_be_slice(&u_hash);
        let x = password_exponent(username, password.expose().as_bytes(), salt);
        let v = Zeroizing::new(modp::generator_pow_512(&x));
        let base = Zeroizing::new(b_element - multiplier_element() * *v);
        let ux: Zeroizing<U1024> = Zeroizing::new(u.concatenating_mul(&*x));
        let exponent = Zeroizing::new(
            ux.resize::<{ U1536::LIMBS }>().wrapping_add(&self.secret.resize::<{ U1536::LIMBS }>()),
        );
        let shared = Zeroizing::new(base.pow_bounded_exp(&*exponent, CLIENT_EXPONENT_BITS));
        let key = session_key(&shared);
        let proof = client_proof(username, salt, &self.public, device_public, &key);
        let expected_device_proof = device_proof(&self.public, &proof, &key);
        Ok(ClientSession { key, proof, expected_device_proof })
    }
}

/// What the client derived from the device's first reply.
pub(crate) struct ClientSession {
    key: Zeroizing<Hash>,
    proof: Hash,
    expected_device_proof: Hash,
}

impl ClientSession {
    /// M, sent in `SessionCmd1`.
    pub(crate) fn proof(&self) -> &Hash {
        &self.proof
    }

    /// Checks the device's HAMK (constant time); a mismatch means the device does not hold
    /// the verifier for this username and password.
    pub(crate) fn verify_device(&self, device_proof: &[u8]) -> Result<(), SecurityError> {
        if device_proof.len() != HASH_LEN {
            return Err(SecurityError::Malformed(format!(
                "the device proof is {} bytes instead of {HASH_LEN}",
                device_proof.len()
            )));
        }
        if bool::from(self.expected_device_proof.ct_eq(device_proof)) {
            Ok(())
        } else {
            Err(SecurityError::ProofMismatch)
        }
    }

    /// The AES-256-GCM key: K[0..32].
    pub(crate) fn cipher_key(&self) -> Zeroizing<[u8; 32]> {
        cipher_key(&self.key)
    }
}

/// The first 32 bytes of K.
fn cipher_key(key: &Hash) -> Zeroizing<[u8; 32]> {
    let mut aes_key = Zeroizing::new([0u8; 32]);
    aes_key.copy_from_slice(&key[..32]);
    aes_key
}

#[cfg(feature = "device-side")]
/// The device's side of one SRP exchange, from A and the device secret `b`.
pub(crate) struct DeviceSession {
    key: Zeroizing<Hash>,
    client_public: [u8; ELEMENT_LEN],
    device_public: Vec<u8>,
}

#[cfg(feature = "device-side")]
impl DeviceSession {
    /// Checks A (exactly 384 bytes, A mod N ≠ 0), computes B = k·v + g^b and K.
    pub(crate) fn new(
        verifier: &Sec2Verifier,
        device_secret: &[u8; 32],
        client_public: &[u8],
    ) -> Result<Self, SecurityError> {
        let client_public: [u8; ELEMENT_LEN] = client_public.try_into().map_err(|_| {
            SecurityError::InvalidPublicKey(format!(
                "A is {} bytes instead of {ELEMENT_LEN}",
                client_public.len()
            ))
        })?;
        let a_element = modp::element(&Wide::from_be_slice(&client_public));
        if modp::is_zero(&a_element) {
            return Err(SecurityError::InvalidPublicKey("A mod N is zero".into()));
        }
        let v = modp::from_be(verifier.verifier.expose()).ok_or_else(|| {
            SecurityError::InvalidCredentials(format!(
                "the verifier is {} bytes, longer than {ELEMENT_LEN}",
                verifier.verifier.len()
            ))
        })?;
        let v_element = Zeroizing::new(modp::element(&v));
        let b = Zeroizing::new(U256::from_be_slice(device_secret));
        let public = multiplier_element() * *v_element + modp::generator_pow_256(&b);
        let public_padded = modp::to_padded(&public.retrieve());
        let u = U512::from_be_slice(&scrambler(&client_public, &public_padded));
        let base = Zeroizing::new(a_element * v_element.pow_bounded_exp(&u, 512));
        let shared = Zeroizing::new(base.pow_bounded_exp(&*b, 256));
        Ok(Self {
            key: session_key(&shared),
            client_public,
            device_public: modp::to_minimal(&public_padded).to_vec(),
        })
    }

    /// B in minimal big-endian form, as sent in `SessionResp0`.
    pub(crate) fn device_public(&self) -> &[u8] {
        &self.device_public
    }

    /// Checks the client's M (constant time) and returns HAMK.
    pub(crate) fn verify_client(
        &self,
        username: &[u8],
        salt: &[u8],
        proof: &[u8],
    ) -> Result<Hash, SecurityError> {
        let expected = client_proof(username, salt, &self.client_public, &self.device_public, &self.key);
        if bool::from(expected.ct_eq(proof)) {
            Ok(device_proof(&self.client_public, &expected, &self.key))
        } else {
            Err(SecurityError::ProofMismatch)
        }
    }

    /// The AES-256-GCM key: K[0..32].
    pub(crate) fn cipher_key(&self) -> Zeroizing<[u8; 32]> {
        cipher_key(&self.key)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The official salt and verifier of the IDF `wifi_prov_mgr` example (user `wifiprov`,
    /// password `abcd1234`).
    pub(crate) const OFFICIAL_SALT: &str = "036ee0c7bcb9eda84c9eac97d93decf4";
    pub(crate) const OFFICIAL_VERIFIER: &str = concat!(
        "7c7c85476508946dd636af37d7e8914378cffd616c59d2f83908127238de9e24a470261cdfa903c2b270e7b1",
        "3224da111d9718dc607208cc9ac90c4827e2ae89aa1625b804d21a9b3a8f37f6e43a712ee127866eadce28ff",
        "5446601fb99687dc5740a7d46cc97754dc1682f0ed356ac470ad3d90b5819470d7bc65b2d518e02ec3a5f968",
        "dd647bb8b73c9cfc00d8717eb79a7cb1b7c2c318342932433e0099e98294e3d82ab09629b7df0e5f08334076",
        "529132009f972c896c391ec8280544173f68028a9f4461d1f5a17e5a70d2c72381cb3868e42c20bc40577617",
        "bd08b896bc26eb32466935058c1570d91be9becca938a667f0ad5013197264bf52c234e21b11797472bd345b",
        "b1e2fd6673fe716474d04ebc51241940870e9240e621e72d4e37762f2ee268c789e8321342068484534ab30c",
        "1b4c8d1c519719abae77ffdbecf0109534336bcb3e840fb9d85fb8a0b855533e70f718f5ce7b4ebf27cecea8",
        "b3be40c5c532293e71649ede8cf675a1e6f653c831a878de5040f762de36b2ba",
    );
    /// Client secret a = a0 ‖ 31 × 11 of the self-generated vectors.
    pub(crate) fn client_secret() -> [u8; 32] {
        let mut a = [0x11; 32];
        a[0] = 0xa0;
        a
    }
    /// Device secret b = 0b ‖ 31 × 22 of the self-generated vectors.
    pub(crate) fn device_secret() -> [u8; 32] {
        let mut b = [0x22; 32];
        b[0] = 0x0b;
        b
    }

    pub(crate) fn official_verifier() -> Sec2Verifier {
        Sec2Verifier::new(hex::decode(OFFICIAL_SALT).unwrap(), hex::decode(OFFICIAL_VERIFIER).unwrap())
    }

    fn password() -> SecretString {
        SecretString::new("abcd1234")
    }

    #[test]
    fn derives_the_official_verifier() {
        let derived = Sec2Verifier::derive("wifiprov", &password(), hex::decode(OFFICIAL_SALT).unwrap());
        assert_eq!(hex::encode(derived.verifier().expose()), OFFICIAL_VERIFIER);
        assert_eq!(derived.verifier().len(), 384);
        assert_eq!(hex::encode(derived.salt()), OFFICIAL_SALT);
    }

    #[test]
    fn generated_verifiers_use_a_fresh_16_byte_salt() {
        let first = Sec2Verifier::generate("wifiprov", &password()).unwrap();
        let second = Sec2Verifier::generate("wifiprov", &password()).unwrap();
        assert_eq!(first.salt().len(), 16);
        assert_ne!(first.salt(), second.salt());
        assert_ne!(first.verifier(), second.verifier());
        let again = Sec2Verifier::derive("wifiprov", &password(), first.salt().to_vec());
        assert_eq!(again.verifier(), first.verifier());
    }

    #[test]
    fn multiplier_matches_the_reference() {
        assert_eq!(
            hex::encode(multiplier()),
            "a9c2e2559bf0ebb53f0cbbf62282906bede7f2182f00678211fbd5bde5b285033a4993503b87397f9be5ec02080fedbc0835587ad039060879b8621e8c3659e0"
        );
    }

    #[test]
    fn reproduces_every_self_generated_sec2_vector() {
        let client = ClientKeyPair::from_secret(&client_secret()).unwrap();
        let a = client.public();
        assert_eq!(a.len(), 384);
        assert_eq!(hex::encode(&a[..8]), "233519ad6f9af465");
        assert_eq!(hex::encode(&a[376..]), "5d14ed5071beaeae");

        let device = DeviceSession::new(&official_verifier(), &device_secret(), a).unwrap();
        let b = device.device_public();
        assert_eq!(b.len(), 383);
        assert_eq!(hex::encode(&b[..8]), "88d5b7a1d032b857");
        assert_eq!(hex::encode(&b[375..]), "dd86fb1cf52fd0a9");

        let u = scrambler(a, &modp::to_padded(&modp::from_be(b).unwrap()));
        assert_eq!(
            hex::encode(u),
            "9dd31a5f1ca9165d9ffb4ba6ed5f11466097b99a9f31145eac640774389c4cba8e086fb51d875efa3af0bbb27ca0e0114992644ef673d051f76bfbff7618744f"
        );

        let salt = hex::decode(OFFICIAL_SALT).unwrap();
        let session = client.respond(b"wifiprov", &password(), &salt, b).unwrap();
        let expected_key = "371a5e3325df60cd25e687e84c682b7cc19965e95c74490c3dd0e591e8164d224cd3b08c690159d4da65fb73c84c63ab21285a427c656dfcdd7e07202a68550f";
        assert_eq!(hex::encode(*session.key), expected_key);
        assert_eq!(hex::encode(*device.key), expected_key);
        assert_eq!(
            hex::encode(session.proof()),
            "ded835d3e7eedcce8be99d5318f044172616bb0b1705db7de9addfbdc7beffcdae1e072159f14b51bae462b74767341d00bd433b6dabe93aa6baad2ec3a2ebaf"
        );
        let hamk = device.verify_client(b"wifiprov", &salt, session.proof()).unwrap();
        assert_eq!(
            hex::encode(hamk),
            "ad8e9c8385cbd913d3f176faf6d2a50c14f83aa86dd43c601c079281b17ede70fac25d5a0f7eb9f24083877e11c8092442c11d868015f3a21e9cfc03473869aa"
        );
        session.verify_device(&hamk).unwrap();
        assert_eq!(*session.cipher_key(), *device.cipher_key());
    }

    #[test]
    fn wrong_password_fails_both_proofs() {
        let client = ClientKeyPair::from_secret(&client_secret()).unwrap();
        let device = DeviceSession::new(&official_verifier(), &device_secret(), client.public()).unwrap();
        let salt = hex::decode(OFFICIAL_SALT).unwrap();
        let session = client
            .respond(b"wifiprov", &SecretString::new("abcd1235"), &salt, device.device_public())
            .unwrap();
        assert!(matches!(
            device.verify_client(b"wifiprov", &salt, session.proof()),
            Err(SecurityError::ProofMismatch)
        ));
        assert!(matches!(session.verify_device(&[0; HASH_LEN]), Err(SecurityError::ProofMismatch)));
        assert!(matches!(session.verify_device(&[0; 63]), Err(SecurityError::Malformed(_))));
    }

    #[test]
    fn degenerate_public_values_are_rejected() {
        let client = ClientKeyPair::from_secret(&client_secret()).unwrap();
        let salt = [1u8; 16];
        let n = modp::modulus_bytes();
        for bad_b in [&[][..], &[0u8; 10][..], &n[..], &[0u8; 385][..]] {
            assert!(matches!(
                client.respond(b"wifiprov", &password(), &salt, bad_b),
                Err(SecurityError::InvalidPublicKey(_))
            ));
        }
        for bad_a in [&[0u8; 384][..], &n[..], &[1u8; 383][..], &[1u8; 385][..]] {
            assert!(matches!(
                DeviceSession::new(&official_verifier(), &device_secret(), bad_a),
                Err(SecurityError::InvalidPublicKey(_))
            ));
        }
    }

    #[test]
    fn secrets_giving_a_short_a_are_refused() {
        // 5^(80 00…00 44) mod N has 3063 significant bits, so A would be 383 bytes long.
        let mut secret = [0u8; 32];
        secret[0] = 0x80;
        secret[31] = 0x44;
        assert!(ClientKeyPair::from_secret(&secret).is_none());
    }

    #[test]
    fn verifier_debug_is_redacted() {
        let text = format!("{:?}", official_verifier());
        assert!(text.contains(OFFICIAL_SALT));
        assert!(!text.contains(&OFFICIAL_VERIFIER[..16]));
        assert!(text.contains("redacted"));
    }
}
