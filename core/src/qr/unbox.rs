//! Unbox's own code, shown on the phone for camera-type devices (doorbells, cameras) that
//! onboard by scanning a code instead of offering BLE or SoftAP provisioning.
//!
//! # Format, version 1
//!
//! ```text
//! UNBOX:1;S:<ssid>;P:<passphrase>;C:<claim token>;B:<backend url>;;
//! ```
//!
//! - `UNBOX:` (read case-insensitively), the format version `1`, then `;`.
//! - `KEY:VALUE` fields separated by `;` and ended by `;;`, in any order. Values use the Wi-Fi
//!   code escapes: a backslash before `\` `;` `,` `"` `:`; a value wrapped in unescaped double
//!   quotes is taken without them (writers quote hex-looking `S` and `P` values, as Wi-Fi codes
//!   do, so firmware sharing a Wi-Fi code reader cannot mistake them for hex bytes).
//! - `S` (required): the Wi-Fi network name, 1 to 32 bytes of UTF-8.
//! - `P` (optional): the WPA passphrase, 8 to 63 bytes; absent or empty for an open network.
//! - `C` (required): the claim token the backend issued to the signed-in user; the device
//!   presents it to bind itself to that account. Opaque text; single use and short-lived.
//! - `B` (optional): the backend base URL (`http` or `https`); absent means the device's
//!   built-in backend.
//! - Unknown keys are ignored, so version 1 readers accept later additions; a breaking change
//!   takes a new version number, which version 1 readers reject.
//!
//! The text holds two secrets (passphrase and claim token): it is handled as a
//! [`SecretString`] and shown only while the device is scanning.

use url::Url;

use super::{PayloadKind, QrError, fields};
use crate::secret::SecretString;

/// Scheme prefix of Unbox codes.
pub(crate) const PREFIX: &str = "UNBOX:";
const KIND: PayloadKind = PayloadKind::Unbox;
const VERSION: &str = "1";
const MAX_SSID_BYTES: usize = 32;
const PASSPHRASE_BYTES: std::ops::RangeInclusive<usize> = 8..=63;

/// What a camera-type device needs to get online and bound to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnboxPayload {
    /// `S`: the Wi-Fi network name.
    pub ssid: String,
    /// `P`: the Wi-Fi passphrase; empty for an open network.
    pub passphrase: SecretString,
    /// `C`: the claim token binding the device to the user's account.
    pub claim_token: SecretString,
    /// `B`: the backend base URL, when not the device's default.
    pub backend_url: Option<Url>,
}

impl UnboxPayload {
    /// Reads an `UNBOX:` code.
    pub fn parse(text: &str) -> Result<Self, QrError> {
        let body = super::strip_prefix(text.trim(), PREFIX).ok_or(QrError::Unrecognized)?;
        let (version, rest) = body.split_once(';').unwrap_or((body, ""));
        if version != VERSION {
            // Quote the version only when it looks like one (never a field that may be secret).
            let looks_like_version = !version.is_empty()
                && version.len() <= 8
                && version.chars().all(|c| c.is_ascii_alphanumeric());
            return Err(if looks_like_version {
                QrError::UnsupportedVersion { kind: KIND, version: version.to_owned() }
            } else {
                QrError::MissingField { kind: KIND, field: "format version" }
            });
        }
        let mut fields = fields::split(rest, KIND)?;
        let backend_url = fields::take(&mut fields, "B")
            .map(|url| Url::parse(&url).map_err(|_| invalid_url()))
            .transpose()?;
        let payload = Self {
            ssid: fields::take(&mut fields, "S").unwrap_or_default(),
            passphrase: SecretString::new(fields::take(&mut fields, "P").unwrap_or_default()),
            claim_token: SecretString::new(fields::take(&mut fields, "C").unwrap_or_default()),
            backend_url,
        };
        payload.validate()?;
        Ok(payload)
    }

    /// Writes the code (fields `S P C B`, `P` omitted for open networks, `B` when set).
    pub fn to_qr_text(&self) -> Result<SecretString, QrError> {
        self.validate()?;
        let passphrase = Some(self.passphrase.expose()).filter(|p| !p.is_empty());
        let backend_url = self.backend_url.as_ref().map(Url::as_str);
        let entries = [
            ("S", Some(self.ssid.as_str()), true),
            ("P", passphrase, true),
            ("C", Some(self.claim_token.expose()), false),
            ("B", backend_url, false),
        ];
        let present =
            || entries.iter().filter_map(|&(key, value, quote)| value.map(|value| (key, value, quote)));
        let capacity: usize = present().map(|(key, value, _)| fields::capacity_for(key, value)).sum();
        let mut out = String::with_capacity(PREFIX.len() + VERSION.len() + capacity + 2);
        out.push_str(PREFIX);
        out.push_str(VERSION);
        out.push(';');
        for (key, value, quote_hex) in present() {
            fields::push_field(&mut out, key, value, quote_hex, false);
        }
        out.push(';');
        Ok(SecretString::new(out))
    }

    fn validate(&self) -> Result<(), QrError> {
        if self.ssid.is_empty() {
            return Err(QrError::MissingField { kind: KIND, field: "S (network name)" });
        }
        if self.ssid.len() > MAX_SSID_BYTES {
            return Err(QrError::InvalidField {
                kind: KIND,
                field: "S (network name)",
                reason: "is longer than 32 bytes".into(),
            });
        }
        let passphrase = self.passphrase.expose().len();
        if passphrase != 0 && !PASSPHRASE_BYTES.contains(&passphrase) {
            return Err(QrError::InvalidField {
                kind: KIND,
                field: "P (passphrase)",
                reason: "must be empty (open network) or 8 to 63 bytes".into(),
            });
        }
        if self.claim_token.is_empty() {
            return Err(QrError::MissingField { kind: KIND, field: "C (claim token)" });
        }
        match &self.backend_url {
            Some(url) if !matches!(url.scheme(), "http" | "https") => Err(invalid_url()),
            _ => Ok(()),
        }
    }
}

fn invalid_url() -> QrError {
    QrError::InvalidField {
        kind: KIND,
        field: "B (backend URL)",
        reason: "must be an http or https URL".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(ssid: &str, passphrase: &str, claim: &str, url: Option<&str>) -> UnboxPayload {
        UnboxPayload {
            ssid: ssid.into(),
            passphrase: passphrase.into(),
            claim_token: claim.into(),
            backend_url: url.map(|u| Url::parse(u).unwrap()),
        }
    }

    #[test]
    fn writes_and_reads_the_documented_form() {
        let home = payload("Home;Net", "correct horse", "clm_8f3a", Some("https://api.example.com:8443/v1/"));
        let text = home.to_qr_text().unwrap();
        assert_eq!(
            text.expose(),
            r"UNBOX:1;S:Home\;Net;P:correct horse;C:clm_8f3a;B:https\://api.example.com\:8443/v1/;;"
        );
        assert_eq!(UnboxPayload::parse(text.expose()).unwrap(), home);

        let open = payload("cafe", "", "tok", None);
        let text = open.to_qr_text().unwrap();
        assert_eq!(text.expose(), r#"UNBOX:1;S:"cafe";C:tok;;"#);
        assert_eq!(UnboxPayload::parse(text.expose()).unwrap(), open);
    }

    #[test]
    fn reads_fields_in_any_order_and_ignores_unknown_ones() {
        let parsed =
            UnboxPayload::parse("unbox:1;X:future;C:tok;P:\"12345678\";S:net;B:http://127.0.0.1:8080")
                .unwrap();
        assert_eq!(parsed, payload("net", "12345678", "tok", Some("http://127.0.0.1:8080/")));
    }

    #[test]
    fn rejects_malformed_codes() {
        let cases = [
            ("UNBOX:2;S:n;C:t;;", QrError::UnsupportedVersion { kind: KIND, version: "2".into() }),
            ("UNBOX:S:n;C:t;;", QrError::MissingField { kind: KIND, field: "format version" }),
            ("UNBOX:1;C:t;;", QrError::MissingField { kind: KIND, field: "S (network name)" }),
            ("UNBOX:1;S:n;;", QrError::MissingField { kind: KIND, field: "C (claim token)" }),
            ("UNBOX:1;S:n;C:t;B:ftp://x/;;", invalid_url()),
            ("UNBOX:1;S:n;C:t;B:not a url;;", invalid_url()),
            ("UNBOX:1;S:n;C:t\\", QrError::UnterminatedEscape { kind: KIND }),
            (
                "UNBOX:1;S:n;P:short;C:t;;",
                QrError::InvalidField {
                    kind: KIND,
                    field: "P (passphrase)",
                    reason: "must be empty (open network) or 8 to 63 bytes".into(),
                },
            ),
            (
                "UNBOX:1;S:0123456789012345678901234567890123;C:t;;",
                QrError::InvalidField {
                    kind: KIND,
                    field: "S (network name)",
                    reason: "is longer than 32 bytes".into(),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(UnboxPayload::parse(text), Err(expected), "{text}");
        }
        assert!(payload("", "", "t", None).to_qr_text().is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let parsed = UnboxPayload::parse("UNBOX:1;S:n;P:passphrase1;C:claimtoken1;;").unwrap();
        let debug = format!("{parsed:?}");
        assert!(!debug.contains("passphrase1") && !debug.contains("claimtoken1"));
    }
}
