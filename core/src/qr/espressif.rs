//! Espressif's provisioning QR code: a JSON object such as
//! `{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"ble"}`, printed by ESP-IDF
//! firmware and read by Espressif's phone SDKs.
//!
//! Keys: `ver` ("v1", required), `name` (BLE name or SoftAP SSID, required), `pop` (security 1
//! proof of possession or security 2 password; absent means empty), `transport` ("ble" or
//! "softap"), `security` (0, 1 or 2; absent means 2, see [`DEFAULT_SECURITY`]), `username`
//! (security 2), `password` (SoftAP passphrase) and `network` ("wifi" or "thread"). Unknown keys
//! are ignored.

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{PayloadKind, QrError};
use crate::secret::SecretString;
use crate::security::{ClientCredentials, SecurityLevel};
use crate::transport::TransportKind;

const KIND: PayloadKind = PayloadKind::Espressif;
const VERSION: &str = "v1";

/// Security assumed when the code has no `security` key: current Espressif SDKs assume 2
/// (older Android SDK documentation said 1). The device's version info has the final say.
pub const DEFAULT_SECURITY: SecurityLevel = SecurityLevel::Sec2;

/// Security 2 username used when the code names none (ESP-IDF examples and RainMaker).
pub const DEFAULT_SEC2_USERNAME: &str = "wifiprov";

/// The network the device will be provisioned onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EspNetwork {
    /// Wi-Fi.
    Wifi,
    /// Thread (network_provisioning firmware).
    Thread,
}

/// A decoded Espressif provisioning QR code.
#[derive(Debug, Clone, PartialEq)]
pub struct EspressifQr {
    /// BLE device name or SoftAP SSID, e.g. `PROV_1A2B3C`.
    pub name: String,
    /// Security 1 proof of possession or security 2 password; empty when absent.
    pub pop: SecretString,
    /// The transport, when the code states it.
    pub transport: Option<TransportKind>,
    /// The security scheme, when the code states it (see [`EspressifQr::security_level`]).
    pub security: Option<SecurityLevel>,
    /// Security 2 username, when the code states it.
    pub username: Option<String>,
    /// Passphrase of the device's SoftAP, when it has one.
    pub softap_password: Option<SecretString>,
    /// The network to provision, when the code states it (absent means Wi-Fi).
    pub network: Option<EspNetwork>,
}

impl EspressifQr {
    /// Reads the JSON text of an Espressif QR code.
    pub fn parse(text: &str) -> Result<Self, QrError> {
        let value: Value = serde_json::from_str(text.trim()).map_err(|error| QrError::InvalidJson {
            kind: KIND,
            detail: format!("line {} column {}", error.line(), error.column()),
        })?;
        let Value::Object(object) = value else {
            return Err(QrError::InvalidJson { kind: KIND, detail: "not a JSON object".into() });
        };
        let version = text_field(&object, "ver", "ver (format version)")?
            .ok_or(QrError::MissingField { kind: KIND, field: "ver (format version)" })?;
        if version != VERSION {
            return Err(QrError::UnsupportedVersion { kind: KIND, version: version.to_owned() });
        }
        let name = text_field(&object, "name", "name (device name)")?
            .filter(|name| !name.is_empty())
            .ok_or(QrError::MissingField { kind: KIND, field: "name (device name)" })?
            .to_owned();
        let pop = text_field(&object, "pop", "pop (proof of possession)")?.unwrap_or_default();
        let transport = match text_field(&object, "transport", "transport")? {
            None => None,
            Some("ble") => Some(TransportKind::Ble),
            Some("softap") => Some(TransportKind::SoftAp),
            Some(other) => {
                return Err(invalid("transport", format!("\"{other}\" is neither \"ble\" nor \"softap\"")));
            }
        };
        let security = match object.get("security") {
            None | Some(Value::Null) => None,
            Some(value) => Some(match value.as_u64() {
                Some(0) => SecurityLevel::Sec0,
                Some(1) => SecurityLevel::Sec1,
                Some(2) => SecurityLevel::Sec2,
                _ => return Err(invalid("security scheme", "must be 0, 1 or 2".into())),
            }),
        };
        let username = text_field(&object, "username", "username")?.map(str::to_owned);
        let softap_password =
            text_field(&object, "password", "password (SoftAP passphrase)")?.map(SecretString::from);
        let network = match text_field(&object, "network", "network")? {
            None => None,
            Some("wifi") => Some(EspNetwork::Wifi),
            Some("thread") => Some(EspNetwork::Thread),
            Some(other) => {
                return Err(invalid("network", format!("\"{other}\" is neither \"wifi\" nor \"thread\"")));
            }
        };
        Ok(Self {
            name,
            pop: SecretString::from(pop),
            transport,
            security,
            username,
            softap_password,
            network,
        })
    }

    /// Writes the code as Espressif's JSON, keys in Espressif's order, absent options omitted.
    /// The text holds the PoP, hence a [`SecretString`].
    pub fn to_qr_text(&self) -> Result<SecretString, QrError> {
        if self.name.is_empty() {
            return Err(QrError::MissingField { kind: KIND, field: "name (device name)" });
        }
        let mut entries = vec![("ver", json_text(VERSION)), ("name", json_text(&self.name))];
        if !self.pop.is_empty() {
            entries.push(("pop", json_text(self.pop.expose())));
        }
        if let Some(transport) = self.transport {
            let transport = match transport {
                TransportKind::Ble => "ble",
                TransportKind::SoftAp => "softap",
            };
            entries.push(("transport", json_text(transport)));
        }
        if let Some(security) = self.security {
            let number = match security {
                SecurityLevel::Sec0 => "0",
                SecurityLevel::Sec1 => "1",
                SecurityLevel::Sec2 => "2",
            };
            entries.push(("security", Zeroizing::new(number.to_owned())));
        }
        if let Some(username) = &self.username {
            entries.push(("username", json_text(username)));
        }
        if let Some(password) = &self.softap_password {
            entries.push(("password", json_text(password.expose())));
        }
        if let Some(network) = self.network {
            let network = match network {
                EspNetwork::Wifi => "wifi",
                EspNetwork::Thread => "thread",
            };
            entries.push(("network", json_text(network)));
        }
        // One exact allocation, so no reallocated copy of the PoP is left behind.
        let length: usize = entries.iter().map(|(key, value)| key.len() + value.len() + 4).sum();
        let mut out = String::with_capacity(length + 2);
        out.push('{');
        for (index, (key, value)) in entries.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(key);
            out.push_str("\":");
            out.push_str(value);
        }
        out.push('}');
        Ok(SecretString::new(out))
    }

    /// The security scheme to expect: the stated one, else [`DEFAULT_SECURITY`].
    pub fn security_level(&self) -> SecurityLevel {
        self.security.unwrap_or(DEFAULT_SECURITY)
    }

    /// Credentials for [`EspressifQr::security_level`]; see [`EspressifQr::credentials_for`].
    pub fn client_credentials(&self) -> ClientCredentials {
        self.credentials_for(self.security_level())
    }

    /// Credentials for the scheme the device actually announced (its version info wins over
    /// the code): the PoP for security 1; for security 2 the username (else
    /// [`DEFAULT_SEC2_USERNAME`]) and the PoP as password.
    pub fn credentials_for(&self, level: SecurityLevel) -> ClientCredentials {
        match level {
            SecurityLevel::Sec0 => ClientCredentials::Sec0,
            SecurityLevel::Sec1 => ClientCredentials::Sec1 { pop: self.pop.clone() },
            SecurityLevel::Sec2 => ClientCredentials::Sec2 {
                username: self
                    .username
                    .clone()
                    .filter(|name| !name.is_empty())
                    .unwrap_or_else(|| DEFAULT_SEC2_USERNAME.to_owned()),
                password: self.pop.clone(),
            },
        }
    }
}

/// A JSON string literal (infallible, unlike `serde_json::to_string`), zeroized on drop.
fn json_text(text: &str) -> Zeroizing<String> {
    Zeroizing::new(Value::from(text).to_string())
}

/// An optional text field; a value of another type is an error naming the field, never quoting
/// the value (it may be a secret).
fn text_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<&'a str>, QrError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid(field, "must be text".into())),
    }
}

fn invalid(field: &'static str, reason: String) -> QrError {
    QrError::InvalidField { kind: KIND, field, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_idf_example_with_defaults() {
        let qr =
            EspressifQr::parse(r#"{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"ble"}"#)
                .unwrap();
        assert_eq!(qr.name, "PROV_1A2B3C");
        assert_eq!(qr.pop.expose(), "abcd1234");
        assert_eq!(qr.transport, Some(TransportKind::Ble));
        assert_eq!(qr.security, None);
        assert_eq!(qr.security_level(), SecurityLevel::Sec2);
        match qr.client_credentials() {
            ClientCredentials::Sec2 { username, password } => {
                assert_eq!(username, "wifiprov");
                assert_eq!(password.expose(), "abcd1234");
            }
            other => panic!("expected sec2 credentials, got {other:?}"),
        }
    }

    #[test]
    fn reads_every_key() {
        let qr = EspressifQr::parse(
            r#"{"ver":"v1","name":"PROV_x","transport":"softap","security":1,"username":"u",
                "password":"apsecret","network":"thread","extra":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(qr.pop.expose(), "");
        assert_eq!(qr.transport, Some(TransportKind::SoftAp));
        assert_eq!(qr.security, Some(SecurityLevel::Sec1));
        assert_eq!(qr.username.as_deref(), Some("u"));
        assert_eq!(qr.softap_password.as_ref().map(|p| p.expose()), Some("apsecret"));
        assert_eq!(qr.network, Some(EspNetwork::Thread));
        assert!(matches!(
            qr.client_credentials(),
            ClientCredentials::Sec1 { pop } if pop.is_empty()
        ));
        assert!(matches!(qr.credentials_for(SecurityLevel::Sec0), ClientCredentials::Sec0));
    }

    #[test]
    fn writes_espressif_key_order() {
        let qr =
            EspressifQr::parse(r#"{"transport":"ble","pop":"a\"b","name":"PROV_1","security":2,"ver":"v1"}"#)
                .unwrap();
        assert_eq!(
            qr.to_qr_text().unwrap().expose(),
            r#"{"ver":"v1","name":"PROV_1","pop":"a\"b","transport":"ble","security":2}"#
        );
    }

    #[test]
    fn rejects_malformed_codes_without_quoting_secrets() {
        let cases: [(&str, QrError); 8] = [
            ("{\"ver\":", QrError::InvalidJson { kind: KIND, detail: "line 1 column 7".into() }),
            ("[1]", QrError::InvalidJson { kind: KIND, detail: "not a JSON object".into() }),
            (r#"{"name":"P"}"#, QrError::MissingField { kind: KIND, field: "ver (format version)" }),
            (r#"{"ver":"v2","name":"P"}"#, QrError::UnsupportedVersion { kind: KIND, version: "v2".into() }),
            (r#"{"ver":"v1","name":""}"#, QrError::MissingField { kind: KIND, field: "name (device name)" }),
            (
                r#"{"ver":"v1","name":"P","security":3}"#,
                invalid("security scheme", "must be 0, 1 or 2".into()),
            ),
            (
                r#"{"ver":"v1","name":"P","transport":"usb"}"#,
                invalid("transport", "\"usb\" is neither \"ble\" nor \"softap\"".into()),
            ),
            (
                r#"{"ver":"v1","name":"P","pop":12345678}"#,
                invalid("pop (proof of possession)", "must be text".into()),
            ),
        ];
        for (text, expected) in cases {
            let error = EspressifQr::parse(text).unwrap_err();
            assert!(!error.to_string().contains("12345678"));
            assert_eq!(error, expected, "{text}");
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let qr =
            EspressifQr::parse(r#"{"ver":"v1","name":"P","pop":"popsecret","password":"apsecret"}"#).unwrap();
        let debug = format!("{qr:?}");
        assert!(!debug.contains("popsecret") && !debug.contains("apsecret"));
    }
}
