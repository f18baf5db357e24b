//! A flat, printable view of any payload — labelled fields in a fixed order plus a note for the
//! person — for the CLI, logs and the phone shells. Secrets are redacted unless asked for.

use serde::Serialize;

use super::{MatterCode, OnboardingPayload, PayloadKind};
use crate::secret::SecretString;

/// What a payload says, field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayloadSummary {
    /// The kind of payload (`espressif`, `wifi`, `matter`, `dpp`, `unbox`).
    pub kind: String,
    /// Labelled values in display order.
    pub fields: Vec<(String, String)>,
    /// What the person should know or do with it, if anything.
    pub note: Option<String>,
}

const REDACTED: &str = "[redacted]";

struct Fields {
    reveal_secrets: bool,
    fields: Vec<(String, String)>,
}

impl Fields {
    fn add(&mut self, label: &str, value: impl ToString) {
        self.fields.push((label.to_owned(), value.to_string()));
    }

    fn add_opt(&mut self, label: &str, value: Option<impl ToString>) {
        if let Some(value) = value {
            self.add(label, value);
        }
    }

    fn secret(&mut self, label: &str, value: &SecretString) {
        let shown = if self.reveal_secrets { value.expose() } else { REDACTED };
        self.add(label, shown);
    }
}

impl OnboardingPayload {
    /// The payload as labelled fields. Passphrases, PoPs, claim tokens and Matter passcodes
    /// show as `[redacted]` unless `reveal_secrets`.
    pub fn summary(&self, reveal_secrets: bool) -> PayloadSummary {
        let mut f = Fields { reveal_secrets, fields: Vec::new() };
        let note = match self {
            Self::Espressif(qr) => {
                f.add("name", &qr.name);
                f.add_opt("transport", qr.transport.map(|t| format!("{t:?}").to_lowercase()));
                f.add("security", format!("{:?}", qr.security_level()));
                f.add_opt("username", qr.username.as_ref());
                f.secret("pop", &qr.pop);
                if let Some(password) = &qr.softap_password {
                    f.secret("softap_password", password);
                }
                f.add_opt("network", qr.network.map(|n| format!("{n:?}").to_lowercase()));
                None
            }
            Self::WifiNetwork(network) => {
                f.add("ssid", &network.ssid);
                f.add("security", format!("{:?}", network.security));
                if let Some(password) = &network.password {
                    f.secret("password", password);
                }
                f.add("hidden", network.hidden);
                f.add_opt("eap_method", network.eap_method.as_ref());
                f.add_opt("identity", network.identity.as_ref());
                None
            }
            Self::Matter(code) => {
                match code {
                    MatterCode::QrCode(payloads) => {
                        for (index, payload) in payloads.iter().enumerate() {
                            let prefix =
                                if payloads.len() > 1 { format!("{}.", index + 1) } else { String::new() };
                            f.add(&format!("{prefix}vendor_id"), format!("0x{:04X}", payload.vendor_id));
                            f.add(&format!("{prefix}product_id"), format!("0x{:04X}", payload.product_id));
                            f.add(&format!("{prefix}flow"), format!("{:?}", payload.flow));
                            f.add(
                                &format!("{prefix}discovery"),
                                format!("0x{:02X}", payload.discovery.bits()),
                            );
                            f.add(&format!("{prefix}discriminator"), payload.discriminator);
                            let passcode = SecretString::new(payload.passcode.value().to_string());
                            f.secret(&format!("{prefix}passcode"), &passcode);
                        }
                    }
                    MatterCode::ManualCode(manual) => {
                        f.add("short_discriminator", manual.short_discriminator);
                        if let Some((vendor, product)) = manual.vendor_product {
                            f.add("vendor_id", format!("0x{vendor:04X}"));
                            f.add("product_id", format!("0x{product:04X}"));
                        }
                        f.secret("passcode", &SecretString::new(manual.passcode.value().to_string()));
                    }
                }
                Some(code.user_message().to_owned())
            }
            Self::Dpp(dpp) => {
                f.add_opt("mac", dpp.mac.map(hex::encode));
                f.add_opt("info", dpp.info.as_ref());
                f.add_opt("version", dpp.version);
                f.add("public_key_bytes", dpp.public_key.len());
                Some("A Wi-Fi Easy Connect (DPP) code: hand it to the phone's Wi-Fi settings to configure the device.".into())
            }
            Self::Unbox(payload) => {
                f.add("ssid", &payload.ssid);
                f.secret("passphrase", &payload.passphrase);
                f.secret("claim_token", &payload.claim_token);
                f.add_opt("backend_url", payload.backend_url.as_ref());
                None
            }
        };
        let kind = match self.kind() {
            PayloadKind::Espressif => "espressif",
            PayloadKind::WifiNetwork => "wifi",
            PayloadKind::Matter => "matter",
            PayloadKind::Dpp => "dpp",
            PayloadKind::Unbox => "unbox",
        };
        PayloadSummary { kind: kind.to_owned(), fields: f.fields, note }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    #[test]
    fn redacts_secrets_unless_asked() {
        let payload =
            parse(r#"{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"ble"}"#).unwrap();
        let hidden = payload.summary(false);
        assert_eq!(hidden.kind, "espressif");
        assert!(hidden.fields.contains(&("pop".into(), "[redacted]".into())));
        assert!(payload.summary(true).fields.contains(&("pop".into(), "abcd1234".into())));
    }

    #[test]
    fn matter_codes_carry_the_note_and_decoded_values() {
        let summary = parse("MT:Y.K9042C00KA0648G00").unwrap().summary(false);
        assert!(summary.fields.contains(&("vendor_id".into(), "0xFFF1".into())));
        assert!(summary.fields.contains(&("discriminator".into(), "3840".into())));
        assert!(summary.note.unwrap().contains("Matter"));
    }
}
