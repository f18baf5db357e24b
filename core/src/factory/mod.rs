//! Factory provisioning (behind the `factory` feature; not in the phones' library): what the
//! factory writes into each device of a batch and prints on its label, and the file that tells
//! the backend about the batch.
//!
//! Each [`DeviceRecord`] holds a device id, the service name the device advertises, its setup
//! code (the security 1 PoP or the security 2 password, printed on the label), the security 2
//! salt and verifier derived from that password off the device, and the HMAC device secret of
//! `docs/binding-api.yaml`. The record writes itself as the NVS partition generator CSV that is
//! flashed into the device ([`DeviceRecord::nvs_csv`]), as the Espressif QR payload of its
//! label ([`DeviceRecord::setup_code`]), and as a row of the factory line's CSV
//! ([`line_csv`]); [`backend_import`] writes the backend's import file and
//! [`parse_backend_import`] reads it back. `docs/factory.md` documents every format.

mod csv;
mod import;
mod nvs;

use std::collections::HashSet;

use crate::binding::{DeviceCredential, DeviceId};
use crate::qr::EspressifQr;
use crate::secret::{SecretBytes, SecretString};
use crate::security::{Sec2Verifier, SecurityLevel};
use crate::transport::TransportKind;

pub use import::{IMPORT_FORMAT, IMPORT_VERSION, backend_import, parse_backend_import};
pub use nvs::{NVS_KEYS, NVS_NAMESPACE};

/// Length of every generated device secret (the binding API allows 16 to 64 bytes).
pub const DEVICE_SECRET_LEN: usize = 32;
/// Length of every generated security 2 salt. Always exactly 16 bytes, leading zero bytes
/// included: ESP-IDF's own `esp_srp_gen_salt_verifier()` loses a leading `0x00` byte.
pub const SALT_LEN: usize = 16;
/// Symbols of generated setup codes: Crockford's base 32 (digits and capitals without I, L, O,
/// U), 5 bits per symbol, easy to read off a label and to type.
pub const SETUP_CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Shortest setup code accepted (40 bits).
pub const MIN_SETUP_CODE_LEN: usize = 8;
/// Longest setup code accepted.
pub const MAX_SETUP_CODE_LEN: usize = 32;
/// Random bytes in a generated device id, written as twice as many hex digits.
const DEVICE_ID_RANDOM_BYTES: usize = 8;
/// Hex digits of the device id that end the service name.
const SERVICE_NAME_SUFFIX_LEN: usize = 6;
/// Longest service name: what fits a BLE scan response (31 bytes less the 2-byte header).
pub const MAX_SERVICE_NAME_LEN: usize = 29;

/// The security scheme a batch is provisioned for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorySecurity {
    /// Security 1: X25519 and the setup code as proof of possession.
    Sec1,
    /// Security 2: SRP-6a; the device holds a salt and verifier for `username` and the setup
    /// code, never the code itself.
    Sec2 {
        /// The SRP username (ESP-IDF's examples use `wifiprov`).
        username: String,
    },
}

/// What every device of a batch shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSpec {
    /// Start of every device id, e.g. `acme-lamp-`; 16 random hex digits follow.
    pub id_prefix: String,
    /// Start of every service name (BLE name / SoftAP SSID), e.g. `PROV_`; the last 6 hex
    /// digits of the device id follow.
    pub name_prefix: String,
    /// The security scheme.
    pub security: FactorySecurity,
    /// How phones reach the device in setup mode (stated in the QR code).
    pub transport: TransportKind,
    /// Symbols in each setup code.
    pub code_length: usize,
}

/// A batch specification or factory file that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactoryError {
    /// A setting of the batch is out of range.
    #[error("{0}")]
    InvalidSpec(String),
    /// The operating system's random number generator failed.
    #[error("the random number generator failed: {0}")]
    Randomness(String),
    /// The backend import file is malformed.
    #[error("the device import file is not usable: {0}")]
    InvalidImport(String),
}

impl BatchSpec {
    /// Checks every setting before any device is generated.
    pub fn check(&self) -> Result<(), FactoryError> {
        let invalid = |message: String| Err(FactoryError::InvalidSpec(message));
        let sample_id = format!("{}{}", self.id_prefix, "0".repeat(2 * DEVICE_ID_RANDOM_BYTES));
        if let Err(error) = DeviceId::new(sample_id) {
            return invalid(format!(
                "the device id prefix `{}` gives an invalid id: {error}",
                self.id_prefix
            ));
        }
        let name_len = self.name_prefix.len() + SERVICE_NAME_SUFFIX_LEN;
        if name_len > MAX_SERVICE_NAME_LEN {
            return invalid(format!(
                "the service name prefix is {} bytes; with the 6-digit suffix a name must fit {MAX_SERVICE_NAME_LEN}",
                self.name_prefix.len()
            ));
        }
        if !self.name_prefix.bytes().all(is_label_safe) {
            return invalid(format!(
                "the service name prefix `{}` may hold only A-Z 0-9 _ - (it is printed on the label)",
                self.name_prefix
            ));
        }
        if !(MIN_SETUP_CODE_LEN..=MAX_SETUP_CODE_LEN).contains(&self.code_length) {
            return invalid(format!(
                "a setup code of {} symbols is out of range: use {MIN_SETUP_CODE_LEN} to {MAX_SETUP_CODE_LEN}",
                self.code_length
            ));
        }
        if let FactorySecurity::Sec2 { username } = &self.security
            && (username.is_empty() || username.len() > 64 || !username.bytes().all(|b| b.is_ascii_graphic()))
        {
            return invalid(format!(
                "the security 2 username `{username}` must be 1 to 64 printable ASCII characters without spaces"
            ));
        }
        Ok(())
    }
}

/// Characters allowed in service names: the label's font has them, and every BLE stack and
/// SoftAP SSID accepts them.
fn is_label_safe(byte: u8) -> bool {
    byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'_' || byte == b'-'
}

/// Security 2 material of one device.
#[derive(Debug, Clone)]
struct Sec2Material {
    username: String,
    verifier: Sec2Verifier,
}

/// Everything the factory writes into one device and prints on its label. Debug output
/// redacts the secrets.
#[derive(Debug, Clone)]
pub struct DeviceRecord {
    device_id: DeviceId,
    service_name: String,
    transport: TransportKind,
    setup_code: SecretString,
    sec2: Option<Sec2Material>,
    device_secret: SecretBytes,
}

impl DeviceRecord {
    /// A new device of `spec` with fresh random id, setup code, salt and device secret.
    pub fn generate(spec: &BatchSpec) -> Result<Self, FactoryError> {
        spec.check()?;
        let id_bytes = random::<DEVICE_ID_RANDOM_BYTES>()?;
        let code = random_setup_code(spec.code_length)?;
        let salt = random::<SALT_LEN>()?;
        let secret = random::<DEVICE_SECRET_LEN>()?;
        Self::from_parts(spec, id_bytes.as_slice(), code, &salt, SecretBytes::new(secret.to_vec()))
    }

    /// The record from given randomness (the tests force salts with a leading zero byte).
    fn from_parts(
        spec: &BatchSpec,
        id_bytes: &[u8],
        setup_code: SecretString,
        salt: &[u8; SALT_LEN],
        device_secret: SecretBytes,
    ) -> Result<Self, FactoryError> {
        let hex_id = hex::encode_upper(id_bytes);
        let device_id = DeviceId::new(format!("{}{hex_id}", spec.id_prefix))
            .map_err(|error| FactoryError::InvalidSpec(error.to_string()))?;
        let service_name =
            format!("{}{}", spec.name_prefix, &hex_id[hex_id.len() - SERVICE_NAME_SUFFIX_LEN..]);
        let sec2 = match &spec.security {
            FactorySecurity::Sec1 => None,
            FactorySecurity::Sec2 { username } => Some(Sec2Material {
                username: username.clone(),
                verifier: Sec2Verifier::derive(username, &setup_code, salt.to_vec()),
            }),
        };
        Ok(Self { device_id, service_name, transport: spec.transport, setup_code, sec2, device_secret })
    }

    /// The device's id at the backend.
    pub fn device_id(&self) -> &DeviceId {
        &self.device_id
    }

    /// The BLE name / SoftAP SSID the device advertises in setup mode.
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// The security scheme the device runs.
    pub fn security_level(&self) -> SecurityLevel {
        if self.sec2.is_some() { SecurityLevel::Sec2 } else { SecurityLevel::Sec1 }
    }

    /// The security 2 username, for a security 2 device.
    pub fn username(&self) -> Option<&str> {
        self.sec2.as_ref().map(|sec2| sec2.username.as_str())
    }

    /// The human-readable setup code printed under the QR code: the PoP (security 1) or the
    /// password (security 2).
    pub fn setup_secret(&self) -> &SecretString {
        &self.setup_code
    }

    /// The security 2 salt and verifier written into the device.
    pub fn verifier(&self) -> Option<&Sec2Verifier> {
        self.sec2.as_ref().map(|sec2| &sec2.verifier)
    }

    /// The HMAC secret the device signs its redemptions with.
    pub fn device_secret(&self) -> &SecretBytes {
        &self.device_secret
    }

    /// The device's credential as the backend holds it.
    pub fn credential(&self) -> DeviceCredential {
        DeviceCredential::new(self.device_id.clone(), self.device_secret.clone())
            .expect("generated device secrets are 32 bytes")
    }

    /// The Espressif QR code of the label (`{"ver":"v1","name":...,"pop":...}`), which
    /// `qr::parse` reads back.
    pub fn setup_code(&self) -> EspressifQr {
        EspressifQr {
            name: self.service_name.clone(),
            pop: self.setup_code.clone(),
            transport: Some(self.transport),
            security: Some(self.security_level()),
            username: self.username().map(str::to_owned),
            softap_password: None,
            network: None,
        }
    }
}

/// Generates `count` devices of `spec`, with distinct device ids.
pub fn generate_batch(spec: &BatchSpec, count: usize) -> Result<Vec<DeviceRecord>, FactoryError> {
    spec.check()?;
    let mut seen = HashSet::with_capacity(count);
    let mut records = Vec::with_capacity(count);
    while records.len() < count {
        let record = DeviceRecord::generate(spec)?;
        if seen.insert(record.device_id.clone()) {
            records.push(record);
        }
    }
    Ok(records)
}

/// Where the factory files of a batch go, relative to its output folder.
pub mod layout {
    /// The factory line's CSV.
    pub const LINE_CSV: &str = "devices.csv";
    /// The backend's import file.
    pub const BACKEND_IMPORT: &str = "backend-import.json";
    /// Folder of the per-device NVS partition generator CSVs.
    pub const NVS_DIR: &str = "nvs";
    /// Folder of the labels.
    pub const LABEL_DIR: &str = "labels";

    /// The NVS CSV of a device, `nvs/<device id>.csv`.
    pub fn nvs_csv(device_id: &str) -> String {
        format!("{NVS_DIR}/{device_id}.csv")
    }

    /// A label of a device, `labels/<device id>.<extension>`.
    pub fn label(device_id: &str, extension: &str) -> String {
        format!("{LABEL_DIR}/{device_id}.{extension}")
    }
}

/// The factory line's CSV: one row per device with its id, service name, security, the setup
/// code printed on the label, the QR payload, and the files to flash and print. It holds the
/// setup codes: keep it private.
pub fn line_csv(records: &[DeviceRecord]) -> Result<SecretString, FactoryError> {
    let mut out = String::from(
        "device_id,service_name,transport,security,username,setup_code,qr_payload,nvs_csv,label_svg,label_png\n",
    );
    for record in records {
        let payload =
            record.setup_code().to_qr_text().map_err(|error| FactoryError::InvalidSpec(error.to_string()))?;
        let id = record.device_id.as_str();
        let transport = record.transport.to_string();
        let security = match record.security_level() {
            SecurityLevel::Sec2 => "2",
            _ => "1",
        };
        let fields = [
            id,
            &record.service_name,
            &transport,
            security,
            record.username().unwrap_or(""),
            record.setup_code.expose(),
            payload.expose(),
            &layout::nvs_csv(id),
            &layout::label(id, "svg"),
            &layout::label(id, "png"),
        ];
        csv::push_row(&mut out, &fields);
    }
    Ok(SecretString::new(out))
}

/// `N` bytes from the operating system's generator.
fn random<const N: usize>() -> Result<zeroize::Zeroizing<[u8; N]>, FactoryError> {
    crate::security::random_bytes::<N>().map_err(|error| FactoryError::Randomness(error.to_string()))
}

/// A setup code of `length` symbols of [`SETUP_CODE_ALPHABET`], 5 random bits each.
fn random_setup_code(length: usize) -> Result<SecretString, FactoryError> {
    let bytes = random::<MAX_SETUP_CODE_LEN>()?;
    let code: String = bytes[..length]
        .iter()
        .map(|byte| char::from(SETUP_CODE_ALPHABET[usize::from(byte & 0x1f)]))
        .collect();
    Ok(SecretString::new(code))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::security::{
        ClientHandshake, DeviceSecurity, HandshakeStep, Sec1Client, Sec1Device, Sec2Client, Sec2Device,
        Sec2PatchVersion,
    };

    pub(crate) fn spec(security: FactorySecurity) -> BatchSpec {
        BatchSpec {
            id_prefix: "acme-".into(),
            name_prefix: "PROV_".into(),
            security,
            transport: TransportKind::Ble,
            code_length: 10,
        }
    }

    pub(crate) fn sec2() -> FactorySecurity {
        FactorySecurity::Sec2 { username: "wifiprov".into() }
    }

    /// A security 2 record whose salt starts with `0x00`, the case ESP-IDF's generator breaks.
    pub(crate) fn zero_salt_record() -> DeviceRecord {
        let mut salt = [0x5a; SALT_LEN];
        salt[0] = 0x00;
        salt[1] = 0x00;
        DeviceRecord::from_parts(
            &spec(sec2()),
            &[0xab; DEVICE_ID_RANDOM_BYTES],
            SecretString::new("K7QM4XR9TW"),
            &salt,
            SecretBytes::new(vec![7; DEVICE_SECRET_LEN]),
        )
        .unwrap()
    }

    /// Runs a handshake of `client` against `device` to the end.
    pub(crate) fn handshake(
        client: &mut dyn ClientHandshake,
        device: &mut dyn DeviceSecurity,
    ) -> Result<(), crate::security::SecurityError> {
        let mut request = client.start()?;
        loop {
            let reply = device.on_session_request(&request)?;
            match client.on_reply(&reply)? {
                HandshakeStep::Send(next) => request = next,
                HandshakeStep::Established(_) => return Ok(()),
            }
        }
    }

    #[test]
    fn records_have_the_documented_shape() {
        let record = DeviceRecord::generate(&spec(sec2())).unwrap();
        let id = record.device_id().as_str();
        assert!(id.starts_with("acme-") && id.len() == 5 + 16, "{id}");
        assert_eq!(record.service_name(), format!("PROV_{}", &id[id.len() - 6..]));
        let code = record.setup_secret().expose();
        assert_eq!(code.len(), 10);
        assert!(code.bytes().all(|b| SETUP_CODE_ALPHABET.contains(&b)), "{code}");
        assert_eq!(record.device_secret().len(), DEVICE_SECRET_LEN);
        let verifier = record.verifier().unwrap();
        assert_eq!(verifier.salt().len(), SALT_LEN);
        assert!(verifier.verifier().len() <= 384);
        assert_eq!(record.security_level(), SecurityLevel::Sec2);
        let sec1 = DeviceRecord::generate(&spec(FactorySecurity::Sec1)).unwrap();
        assert!(sec1.verifier().is_none() && sec1.username().is_none());
        assert_eq!(sec1.security_level(), SecurityLevel::Sec1);
    }

    #[test]
    fn a_batch_has_distinct_ids_codes_salts_and_secrets() {
        let batch = generate_batch(&spec(sec2()), 40).unwrap();
        assert_eq!(batch.len(), 40);
        let distinct =
            |f: &dyn Fn(&DeviceRecord) -> Vec<u8>| batch.iter().map(f).collect::<HashSet<_>>().len();
        assert_eq!(distinct(&|r| r.device_id().as_str().as_bytes().to_vec()), 40);
        assert_eq!(distinct(&|r| r.setup_secret().expose().as_bytes().to_vec()), 40);
        assert_eq!(distinct(&|r| r.verifier().unwrap().salt().to_vec()), 40);
        assert_eq!(distinct(&|r| r.device_secret().expose().to_vec()), 40);
        // Every symbol of the alphabet turns up across 400 symbols (5 random bits each).
        let symbols: HashSet<u8> =
            batch.iter().flat_map(|r| r.setup_secret().expose().bytes().collect::<Vec<_>>()).collect();
        assert!(symbols.len() > 24, "only {} distinct symbols", symbols.len());
    }

    #[test]
    fn generated_salts_and_verifiers_let_a_client_log_in() {
        // Espressif's tools and firmware hold a salt and verifier; the simulated device and
        // ESP-IDF's security2.c both take the salt verbatim (components/protocomm/src/security/
        // security2.c, esp_srp_set_salt_verifier in src/crypto/srp6a/esp_srp.c).
        for record in [DeviceRecord::generate(&spec(sec2())).unwrap(), zero_salt_record()] {
            let verifier = record.verifier().unwrap().clone();
            assert_eq!(verifier.salt().len(), SALT_LEN);
            for patch in [Sec2PatchVersion::NonceCounter, Sec2PatchVersion::StaticNonce] {
                let mut client =
                    Sec2Client::new("wifiprov".into(), record.setup_secret().clone(), patch.sec_patch_ver());
                let mut device = Sec2Device::new(verifier.clone(), patch);
                handshake(&mut client, &mut device).unwrap();
            }
            let mut wrong = Sec2Client::new("wifiprov".into(), SecretString::new("0000000000"), 1);
            let mut device = Sec2Device::new(verifier, Sec2PatchVersion::NonceCounter);
            assert!(handshake(&mut wrong, &mut device).is_err());
        }
    }

    #[test]
    fn a_leading_zero_salt_stays_16_bytes() {
        let record = zero_salt_record();
        let salt = record.verifier().unwrap().salt();
        assert_eq!(salt.len(), SALT_LEN);
        assert_eq!(&salt[..2], &[0, 0]);
        // The 15-byte salt ESP-IDF's generator would store locks the client out.
        let truncated =
            Sec2Verifier::new(salt[1..].to_vec(), record.verifier().unwrap().verifier().expose().to_vec());
        let mut client = Sec2Client::new("wifiprov".into(), record.setup_secret().clone(), 1);
        let mut device = Sec2Device::new(truncated, Sec2PatchVersion::NonceCounter);
        assert!(handshake(&mut client, &mut device).is_err());
    }

    #[test]
    fn a_security_1_setup_code_is_the_pop() {
        let record = DeviceRecord::generate(&spec(FactorySecurity::Sec1)).unwrap();
        let mut client = Sec1Client::new(record.setup_secret().clone());
        let mut device = Sec1Device::new(record.setup_secret().clone());
        handshake(&mut client, &mut device).unwrap();
    }

    #[test]
    fn the_qr_payload_parses_back_to_the_same_values() {
        for security in [sec2(), FactorySecurity::Sec1] {
            for transport in [TransportKind::Ble, TransportKind::SoftAp] {
                let record =
                    DeviceRecord::generate(&BatchSpec { transport, ..spec(security.clone()) }).unwrap();
                let text = record.setup_code().to_qr_text().unwrap();
                let crate::qr::OnboardingPayload::Espressif(code) = crate::qr::parse(text.expose()).unwrap()
                else {
                    panic!("not an Espressif code");
                };
                assert_eq!(code, record.setup_code());
                assert_eq!(code.name, record.service_name());
                assert_eq!(code.pop.expose(), record.setup_secret().expose());
                assert_eq!(code.security_level(), record.security_level());
                assert_eq!(code.transport, Some(transport));
                assert_eq!(code.username.as_deref(), record.username());
            }
        }
    }

    #[test]
    fn bad_specs_are_refused_with_a_reason() {
        let cases = [
            BatchSpec { id_prefix: "bad id ".into(), ..spec(sec2()) },
            BatchSpec { id_prefix: "x".repeat(60), ..spec(sec2()) },
            BatchSpec { name_prefix: "prov_".into(), ..spec(sec2()) },
            BatchSpec { name_prefix: "P".repeat(24), ..spec(sec2()) },
            BatchSpec { code_length: 7, ..spec(sec2()) },
            BatchSpec { code_length: 33, ..spec(sec2()) },
            spec(FactorySecurity::Sec2 { username: String::new() }),
            spec(FactorySecurity::Sec2 { username: "two words".into() }),
        ];
        for bad in cases {
            assert!(matches!(generate_batch(&bad, 1), Err(FactoryError::InvalidSpec(_))), "{bad:?}");
        }
    }

    #[test]
    fn the_line_csv_has_one_row_per_device() {
        let batch = generate_batch(&spec(sec2()), 3).unwrap();
        let csv = line_csv(&batch).unwrap();
        let lines: Vec<&str> = csv.expose().lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("device_id,service_name,"));
        let id = batch[1].device_id().as_str();
        assert!(
            lines[2].starts_with(&format!("{id},{},ble,2,wifiprov,", batch[1].service_name())),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with(&format!("nvs/{id}.csv,labels/{id}.svg,labels/{id}.png")), "{}", lines[2]);
        // The JSON payload is quoted, its quotes doubled.
        assert!(lines[2].contains(r#","{""ver"":""v1"","#), "{}", lines[2]);
    }

    #[test]
    fn debug_redacts_the_secrets() {
        let record = zero_salt_record();
        let text = format!("{record:?}");
        assert!(!text.contains("K7QM4XR9TW"), "{text}");
        assert!(!text.contains("[7, 7"), "{text}");
    }
}
