//! The CSV of ESP-IDF's NVS partition generator (`nvs_partition_gen.py generate`), one per
//! device: a `key,type,encoding,value` header, a `namespace` row, then one `data` row per
//! value. `string` values are read back with `nvs_get_str`, `u8` with `nvs_get_u8`, and
//! `hex2bin` / `base64` values become blobs read with `nvs_get_blob` (ESP-IDF's
//! "NVS Partition Generator Utility" documentation).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{DeviceRecord, csv};
use crate::secret::SecretString;

/// The NVS namespace the factory writes (at most 15 characters, as every NVS key).
pub const NVS_NAMESPACE: &str = "unbox";

/// Every key the factory may write in [`NVS_NAMESPACE`], with its NVS encoding.
pub const NVS_KEYS: &[(&str, &str)] = &[
    ("device_id", "string"),
    ("device_secret", "base64"),
    ("svc_name", "string"),
    ("sec_ver", "u8"),
    ("sec1_pop", "string"),
    ("sec2_username", "string"),
    ("sec2_salt", "hex2bin"),
    ("sec2_verifier", "hex2bin"),
];

impl DeviceRecord {
    /// The NVS partition generator CSV of this device: its id, HMAC secret (base64), service
    /// name, security scheme, and the PoP (security 1) or the username, salt and verifier
    /// (security 2, hex; the salt always 16 bytes, the verifier in the minimal big-endian form
    /// `esp_srp_set_salt_verifier` reads). Secret: write it to a private file.
    pub fn nvs_csv(&self) -> SecretString {
        let secret = zeroize::Zeroizing::new(STANDARD.encode(self.device_secret.expose()));
        let mut rows: Vec<(&str, String)> = vec![
            ("device_id", self.device_id.as_str().to_owned()),
            ("device_secret", secret.to_string()),
            ("svc_name", self.service_name.clone()),
        ];
        match &self.sec2 {
            None => {
                rows.push(("sec_ver", "1".into()));
                rows.push(("sec1_pop", self.setup_code.expose().to_owned()));
            }
            Some(sec2) => {
                rows.push(("sec_ver", "2".into()));
                rows.push(("sec2_username", sec2.username.clone()));
                rows.push(("sec2_salt", hex::encode(sec2.verifier.salt())));
                rows.push(("sec2_verifier", hex::encode(sec2.verifier.verifier().expose())));
            }
        }
        let mut out = String::from("key,type,encoding,value\n");
        csv::push_row(&mut out, &[NVS_NAMESPACE, "namespace", "", ""]);
        for (key, value) in &rows {
            let encoding = NVS_KEYS
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, encoding)| *encoding)
                .unwrap_or("string");
            csv::push_row(&mut out, &[key, "data", encoding, value]);
        }
        for (_, value) in &mut rows {
            zeroize::Zeroize::zeroize(value);
        }
        SecretString::new(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::factory::tests::{handshake, spec, zero_salt_record};
    use crate::factory::{FactorySecurity, SALT_LEN};
    use crate::secret::SecretBytes;
    use crate::security::{Sec2Client, Sec2Device, Sec2PatchVersion, Sec2Verifier};

    /// Reads a generator CSV back as the tool does: key → (type, encoding, value).
    fn read(csv: &str) -> HashMap<String, (String, String, String)> {
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("key,type,encoding,value"));
        lines
            .map(|line| {
                let fields: Vec<&str> = line.splitn(4, ',').collect();
                assert_eq!(fields.len(), 4, "{line}");
                (fields[0].to_owned(), (fields[1].to_owned(), fields[2].to_owned(), fields[3].to_owned()))
            })
            .collect()
    }

    #[test]
    fn keys_and_namespace_fit_nvs_limits() {
        assert!(NVS_NAMESPACE.len() <= 15);
        assert!(NVS_KEYS.iter().all(|(key, _)| key.len() <= 15));
    }

    #[test]
    fn a_security_2_csv_logs_in_with_a_leading_zero_salt() {
        let record = zero_salt_record();
        let rows = read(record.nvs_csv().expose());
        assert_eq!(rows["unbox"], ("namespace".into(), String::new(), String::new()));
        assert_eq!(rows["device_id"].2, record.device_id().as_str());
        assert_eq!(rows["svc_name"].2, record.service_name());
        assert_eq!(rows["sec_ver"], ("data".into(), "u8".into(), "2".into()));
        assert_eq!(rows["sec2_username"].2, "wifiprov");
        assert!(!rows.contains_key("sec1_pop"));
        let secret = STANDARD.decode(&rows["device_secret"].2).unwrap();
        assert_eq!(rows["device_secret"].1, "base64");
        assert_eq!(SecretBytes::new(secret), *record.device_secret());
        // What the firmware reads from NVS is what a client logs in against.
        let salt = hex::decode(&rows["sec2_salt"].2).unwrap();
        assert_eq!(salt.len(), SALT_LEN);
        assert_eq!(salt[0], 0);
        let verifier = hex::decode(&rows["sec2_verifier"].2).unwrap();
        assert!(verifier.len() <= 384);
        let mut client = Sec2Client::new("wifiprov".into(), record.setup_secret().clone(), 1);
        let mut device = Sec2Device::new(Sec2Verifier::new(salt, verifier), Sec2PatchVersion::NonceCounter);
        handshake(&mut client, &mut device).unwrap();
    }

    #[test]
    fn a_security_1_csv_holds_the_pop() {
        let record = crate::factory::DeviceRecord::generate(&spec(FactorySecurity::Sec1)).unwrap();
        let rows = read(record.nvs_csv().expose());
        assert_eq!(rows["sec_ver"].2, "1");
        assert_eq!(
            rows["sec1_pop"],
            ("data".into(), "string".into(), record.setup_secret().expose().to_owned())
        );
        assert!(!rows.contains_key("sec2_salt") && !rows.contains_key("sec2_verifier"));
    }
}
