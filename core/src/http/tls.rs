//! Unbox's TLS profile for the identity provider and the binding backend: rustls on *ring* with
//! bundled web roots (no platform verifier, which would need JNI initialisation on Android).
//!
//! The provider is assembled here rather than taken whole from rustls, to carry only what a
//! phone app talking to web servers uses; everything left out stays out of the shells' library:
//! - cipher suites: AES-GCM only, for TLS 1.3 and TLS 1.2 (servers offering ChaCha20 offer
//!   AES-GCM too; phones without AES instructions, such as older 32-bit ARM ones, pay a little
//!   CPU time for a few kilobytes per sign-in, not a failure);
//! - no client certificates, so no signing code;
//! - certificate verification: everything webpki verifies with *ring* (ECDSA P-256/P-384,
//!   Ed25519, RSA PKCS#1 and PSS), the same table as rustls's own *ring* provider.

use std::sync::Arc;

use rand::TryRngCore;
use rand::rngs::OsRng;
use rustls::SignatureScheme;
use rustls::crypto::ring::{cipher_suite, kx_group};
use rustls::crypto::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use webpki::ring as algorithm;

/// The client configuration every internet HTTP client uses.
pub(super) fn client_config() -> rustls::ClientConfig {
    client_config_trusting(rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() })
}

pub(super) fn client_config_trusting(roots: rustls::RootCertStore) -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .expect("the provider has suites for TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The crypto provider of the profile described in the module documentation.
fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        signature_verification_algorithms: VERIFICATION_ALGORITHMS,
        secure_random: &OsRandom,
        key_provider: &NoClientKeys,
    }
}

static VERIFICATION_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        algorithm::ECDSA_P256_SHA256,
        algorithm::ECDSA_P256_SHA384,
        algorithm::ECDSA_P384_SHA256,
        algorithm::ECDSA_P384_SHA384,
        algorithm::ED25519,
        algorithm::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algorithm::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algorithm::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        algorithm::RSA_PKCS1_2048_8192_SHA256,
        algorithm::RSA_PKCS1_2048_8192_SHA384,
        algorithm::RSA_PKCS1_2048_8192_SHA512,
        algorithm::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        algorithm::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        algorithm::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        // TLS 1.2 does not tie the ECDSA scheme to a curve; TLS 1.3 does.
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[algorithm::ECDSA_P384_SHA384, algorithm::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[algorithm::ECDSA_P256_SHA256, algorithm::ECDSA_P384_SHA256],
        ),
        (SignatureScheme::ED25519, &[algorithm::ED25519]),
        (SignatureScheme::RSA_PSS_SHA512, &[algorithm::RSA_PSS_2048_8192_SHA512_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA384, &[algorithm::RSA_PSS_2048_8192_SHA384_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA256, &[algorithm::RSA_PSS_2048_8192_SHA256_LEGACY_KEY]),
        (SignatureScheme::RSA_PKCS1_SHA512, &[algorithm::RSA_PKCS1_2048_8192_SHA512]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[algorithm::RSA_PKCS1_2048_8192_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[algorithm::RSA_PKCS1_2048_8192_SHA256]),
    ],
};

/// Randomness for TLS from the operating system.
#[derive(Debug)]
struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        OsRng.try_fill_bytes(buf).map_err(|_| GetRandomFailed)
    }
}

/// Unbox never presents a client certificate.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(&self, _key: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General("Unbox does not use TLS client certificates".into()))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::{ClientConnection, ProtocolVersion, ServerConfig, ServerConnection, SupportedCipherSuite};

    use super::*;

    /// A server certificate for `device.test` and the store that trusts it.
    fn server_identity() -> (CertificateDer<'static>, PrivateKeyDer<'static>, rustls::RootCertStore) {
        let certified = rcgen::generate_simple_self_signed(vec!["device.test".to_owned()]).unwrap();
        let cert = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.clone()).unwrap();
        (cert, key, roots)
    }

    /// A *ring* server presenting `cert`.
    fn server_config(
        provider: CryptoProvider,
        cert: CertificateDer<'static>,
        key: PrivateKeyDer<'static>,
    ) -> ServerConfig {
        ServerConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap()
    }

    /// Runs a handshake between the profile's client and a *ring* server offering `suites`, then
    /// sends one message; returns what was negotiated or the client's error.
    fn handshake(
        suites: &[SupportedCipherSuite],
    ) -> Result<(ProtocolVersion, SupportedCipherSuite), rustls::Error> {
        let (cert, key, roots) = server_identity();
        let server_provider =
            CryptoProvider { cipher_suites: suites.to_vec(), ..rustls::crypto::ring::default_provider() };
        let server_config = server_config(server_provider, cert, key);
        let name = ServerName::try_from("device.test").unwrap();
        let mut client = ClientConnection::new(Arc::new(client_config_trusting(roots)), name).unwrap();
        let mut server = ServerConnection::new(Arc::new(server_config)).unwrap();
        while client.is_handshaking() || server.is_handshaking() {
            let mut wire = Vec::new();
            client.write_tls(&mut wire).unwrap();
            server.read_tls(&mut wire.as_slice()).unwrap();
            if let Err(server_error) = server.process_new_packets() {
                // The server's alert reaches the client, which then reports its own view.
                let mut alert = Vec::new();
                server.write_tls(&mut alert).unwrap();
                client.read_tls(&mut alert.as_slice()).unwrap();
                return Err(client.process_new_packets().err().unwrap_or(server_error));
            }
            let mut wire = Vec::new();
            server.write_tls(&mut wire).unwrap();
            client.read_tls(&mut wire.as_slice()).unwrap();
            client.process_new_packets()?;
        }
        client.writer().write_all(b"hello").unwrap();
        let mut wire = Vec::new();
        client.write_tls(&mut wire).unwrap();
        server.read_tls(&mut wire.as_slice()).unwrap();
        server.process_new_packets().unwrap();
        let mut received = [0u8; 5];
        server.reader().read_exact(&mut received).unwrap();
        assert_eq!(&received, b"hello");
        Ok((client.protocol_version().unwrap(), client.negotiated_cipher_suite().unwrap()))
    }

    #[test]
    fn speaks_tls13_with_aes_gcm() {
        let (version, suite) = handshake(&[cipher_suite::TLS13_AES_256_GCM_SHA384]).unwrap();
        assert_eq!(version, ProtocolVersion::TLSv1_3);
        assert_eq!(suite.suite(), cipher_suite::TLS13_AES_256_GCM_SHA384.suite());
    }

    #[test]
    fn speaks_tls12_with_ecdhe_aes_gcm() {
        // rcgen's default key is ECDSA P-256.
        let (version, suite) = handshake(&[cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]).unwrap();
        assert_eq!(version, ProtocolVersion::TLSv1_2);
        assert_eq!(suite.suite(), cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.suite());
    }

    #[test]
    fn refuses_a_server_offering_only_chacha20() {
        let error = handshake(&[cipher_suite::TLS13_CHACHA20_POLY1305_SHA256]).unwrap_err();
        assert!(
            error.to_string().contains("HandshakeFailure") || error.to_string().contains("handshake"),
            "{error}"
        );
    }

    #[test]
    fn rejects_a_certificate_for_another_name() {
        let (cert, _, roots) = server_identity();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(provider()),
        )
        .build()
        .unwrap();
        let name = ServerName::try_from("elsewhere.test").unwrap();
        let now = rustls::pki_types::UnixTime::now();
        let error = verifier.verify_server_cert(&cert, &[], &name, &[], now).unwrap_err();
        assert!(
            matches!(
                error,
                rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext { .. })
            ),
            "{error:?}"
        );
    }

    #[test]
    fn never_loads_client_keys() {
        let (_, key, _) = server_identity();
        assert!(provider().key_provider.load_private_key(key).is_err());
    }

    #[test]
    fn the_internet_profile_refuses_a_certificate_from_outside_the_web_roots() {
        // The self-signed server of the handshake tests, met with the bundled web roots only.
        let (cert, key, _) = server_identity();
        let server_config = server_config(rustls::crypto::ring::default_provider(), cert, key);
        let name = ServerName::try_from("device.test").unwrap();
        let mut client = ClientConnection::new(Arc::new(client_config()), name).unwrap();
        let mut server = ServerConnection::new(Arc::new(server_config)).unwrap();
        let mut wire = Vec::new();
        client.write_tls(&mut wire).unwrap();
        server.read_tls(&mut wire.as_slice()).unwrap();
        server.process_new_packets().unwrap();
        wire.clear();
        server.write_tls(&mut wire).unwrap();
        client.read_tls(&mut wire.as_slice()).unwrap();
        let error = client.process_new_packets().unwrap_err();
        assert!(
            matches!(error, rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)),
            "{error:?}"
        );
    }
}
