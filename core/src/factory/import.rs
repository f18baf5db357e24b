//! The backend's import file: the device credentials of a batch, as JSON.
//!
//! ```json
//! {"format":"unbox-device-credentials","version":1,"scheme":"Unbox-HMAC-SHA256",
//!  "devices":[{"device_id":"acme-3F9A...","secret":"<standard base64, 16-64 bytes>"}]}
//! ```
//!
//! The backend stores each secret to verify the device's `Unbox-HMAC-SHA256` signatures
//! (`docs/binding-api.yaml`); the file is as secret as the devices' keys.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::{DeviceRecord, FactoryError};
use crate::binding::{DEVICE_AUTH_SCHEME, DeviceCredential, DeviceId};
use crate::secret::{SecretBytes, SecretString};

/// The `format` of an import file.
pub const IMPORT_FORMAT: &str = "unbox-device-credentials";
/// The `version` of the import file format written and read.
pub const IMPORT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ImportFile {
    format: String,
    version: u32,
    scheme: String,
    devices: Vec<ImportedDevice>,
}

#[derive(Serialize, Deserialize)]
struct ImportedDevice {
    device_id: String,
    secret: String,
}

impl Drop for ImportedDevice {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// The import file of `records` (pretty JSON). Secret: write it to a private file.
pub fn backend_import(records: &[DeviceRecord]) -> SecretString {
    let file = ImportFile {
        format: IMPORT_FORMAT.into(),
        version: IMPORT_VERSION,
        scheme: DEVICE_AUTH_SCHEME.into(),
        devices: records
            .iter()
            .map(|record| ImportedDevice {
                device_id: record.device_id().as_str().to_owned(),
                secret: STANDARD.encode(record.device_secret().expose()),
            })
            .collect(),
    };
    let mut text = Zeroizing::new(serde_json::to_string_pretty(&file).expect("the import file serialises"));
    text.push('\n');
    SecretString::new(text.as_str())
}

/// Reads an import file: every device's credential, ids distinct.
pub fn parse_backend_import(text: &str) -> Result<Vec<DeviceCredential>, FactoryError> {
    let invalid = |message: String| FactoryError::InvalidImport(message);
    let file: ImportFile = serde_json::from_str(text).map_err(|error| {
        invalid(format!("line {} column {}: not the expected JSON", error.line(), error.column()))
    })?;
    if file.format != IMPORT_FORMAT {
        return Err(invalid(format!("its format is `{}`, expected `{IMPORT_FORMAT}`", file.format)));
    }
    if file.version != IMPORT_VERSION {
        return Err(invalid(format!("version {} is not supported (only {IMPORT_VERSION})", file.version)));
    }
    if file.scheme != DEVICE_AUTH_SCHEME {
        return Err(invalid(format!(
            "scheme `{}` is not supported (only {DEVICE_AUTH_SCHEME})",
            file.scheme
        )));
    }
    let mut seen = HashSet::new();
    file.devices
        .iter()
        .enumerate()
        .map(|(index, device)| {
            let entry = format!("device {} (`{}`)", index + 1, device.device_id);
            let id = DeviceId::new(device.device_id.clone())
                .map_err(|error| invalid(format!("{entry}: {error}")))?;
            if !seen.insert(id.clone()) {
                return Err(invalid(format!("{entry} appears twice")));
            }
            // Never quote the secret in an error.
            let secret = STANDARD
                .decode(device.secret.as_bytes())
                .map_err(|_| invalid(format!("{entry}: the secret is not standard base64")))?;
            DeviceCredential::new(id, SecretBytes::new(secret))
                .map_err(|error| invalid(format!("{entry}: {error}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::factory::generate_batch;
    use crate::factory::tests::{sec2, spec};

    #[test]
    fn round_trips_every_credential() {
        let batch = generate_batch(&spec(sec2()), 3).unwrap();
        let text = backend_import(&batch);
        let credentials = parse_backend_import(text.expose()).unwrap();
        assert_eq!(credentials.len(), 3);
        for (record, credential) in batch.iter().zip(&credentials) {
            assert_eq!(credential.device_id(), record.device_id());
            let body = br#"{"claim_token":"t","device_id":"d"}"#;
            assert!(credential.verify(&record.credential().authorization(body), body));
        }
    }

    #[test]
    fn malformed_files_are_refused_without_quoting_secrets() {
        let good = |devices: &str| {
            format!(
                r#"{{"format":"{IMPORT_FORMAT}","version":1,"scheme":"Unbox-HMAC-SHA256","devices":[{devices}]}}"#
            )
        };
        let secret = STANDARD.encode([9u8; 32]);
        let cases = [
            "not json".to_owned(),
            good("").replace(IMPORT_FORMAT, "other"),
            good("").replace("\"version\":1", "\"version\":2"),
            good("").replace("Unbox-HMAC-SHA256", "Bearer"),
            good(r#"{"device_id":"a b","secret":"AAAAAAAAAAAAAAAAAAAAAA=="}"#),
            good(r#"{"device_id":"dev-1","secret":"*** not base64 ***"}"#),
            good(r#"{"device_id":"dev-1","secret":"AAAA"}"#),
            good(&format!(
                r#"{{"device_id":"dev-1","secret":"{secret}"}},{{"device_id":"dev-1","secret":"{secret}"}}"#
            )),
        ];
        for case in cases {
            let error = parse_backend_import(&case).unwrap_err();
            assert!(matches!(error, FactoryError::InvalidImport(_)), "{case}");
            assert!(!error.to_string().contains(&secret), "{error}");
            assert!(!error.to_string().contains("not base64 ***"), "{error}");
        }
        assert_eq!(parse_backend_import(&good("")).unwrap().len(), 0);
    }
}
