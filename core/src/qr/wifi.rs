//! Wi-Fi network codes: `WIFI:T:WPA;S:<ssid>;P:<password>;H:true;;`.
//!
//! Two dialects are read. The common (ZXing) form uses backslash escapes (`\;` `\,` `\"` `\:`
//! `\\`), may wrap hex-looking values in double quotes to keep them text, and adds `E:` (EAP
//! method), `A:` (anonymous identity), `I:` (identity), `PH2:` (phase 2) for enterprise networks,
//! with a non-boolean `H:` read as the legacy phase-2 field. The WPA3 specification form adds
//! `R:` (transition disable, hex), `I:` (SAE password identifier) and `K:` (SAE-PK public key,
//! base64 DER) and percent-encodes values instead. A code carrying `R:` or `K:` is taken to be
//! the WPA3 form, so its values are also percent-decoded.
//!
//! Codes are written in the backslash form that phones accept; a code that carries `R:` or
//! `K:` additionally writes `%` as `%25`, so WPA3 readers decode it correctly.

use super::{PayloadKind, QrError, fields, public_key};
use crate::secret::SecretString;

/// Scheme prefix of Wi-Fi codes.
pub(crate) const PREFIX: &str = "WIFI:";
const KIND: PayloadKind = PayloadKind::WifiNetwork;

/// The `T:` field: how the network authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WifiSecurity {
    /// `nopass`: an open network.
    Open,
    /// `WEP`.
    Wep,
    /// `WPA`: WPA, WPA2 or WPA3 personal (`WPA2` and `WPA3` are read as this too).
    WpaPersonal,
    /// `SAE`: WPA3 personal only.
    Sae,
    /// `WPA2-EAP` (or `WPA-EAP`): enterprise.
    WpaEnterprise,
    /// Any other value, kept as written.
    Other(String),
}

impl WifiSecurity {
    fn from_code(text: &str) -> Self {
        match text.to_ascii_uppercase().as_str() {
            "" | "NOPASS" => Self::Open,
            "WEP" => Self::Wep,
            "WPA" | "WPA2" | "WPA3" => Self::WpaPersonal,
            "SAE" => Self::Sae,
            "WPA2-EAP" | "WPA-EAP" => Self::WpaEnterprise,
            _ => Self::Other(text.to_owned()),
        }
    }

    fn code(&self) -> &str {
        match self {
            Self::Open => "nopass",
            Self::Wep => "WEP",
            Self::WpaPersonal => "WPA",
            Self::Sae => "SAE",
            Self::WpaEnterprise => "WPA2-EAP",
            Self::Other(text) => text,
        }
    }
}

/// A decoded Wi-Fi network code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WifiNetworkCode {
    /// `S:` the network name.
    pub ssid: String,
    /// `T:` the security type. Absent `T:` reads as [`WifiSecurity::WpaPersonal`] when a
    /// password is present, else [`WifiSecurity::Open`].
    pub security: WifiSecurity,
    /// `P:` the password or passphrase.
    pub password: Option<SecretString>,
    /// `H:true`: the network does not broadcast its name.
    pub hidden: bool,
    /// `E:` the EAP method (enterprise).
    pub eap_method: Option<String>,
    /// `A:` the anonymous outer identity (enterprise).
    pub anonymous_identity: Option<String>,
    /// `I:` the identity (enterprise) or the SAE password identifier (WPA3 personal).
    pub identity: Option<String>,
    /// `PH2:` (or legacy non-boolean `H:`) the phase-2 method (enterprise).
    pub phase2: Option<String>,
    /// `R:` the WPA3 transition-disable bitmap.
    pub transition_disable: Option<u8>,
    /// `K:` the SAE-PK public key (DER SubjectPublicKeyInfo).
    pub sae_public_key: Option<Vec<u8>>,
}

impl WifiNetworkCode {
    /// A network with just a name, security type and password; other fields empty.
    pub fn new(ssid: impl Into<String>, security: WifiSecurity, password: Option<SecretString>) -> Self {
        Self {
            ssid: ssid.into(),
            security,
            password,
            hidden: false,
            eap_method: None,
            anonymous_identity: None,
            identity: None,
            phase2: None,
            transition_disable: None,
            sae_public_key: None,
        }
    }

    /// Reads a `WIFI:` code in either dialect. Fields may come in any order; unknown fields are
    /// ignored; the final `;;` may be missing.
    pub fn parse(text: &str) -> Result<Self, QrError> {
        let body = super::strip_prefix(text.trim(), PREFIX).ok_or(QrError::Unrecognized)?;
        let mut fields = fields::split(body, KIND)?;
        let percent = fields.iter().any(|field| field.key == "R" || field.key == "K");
        let mut take = |key: &str, name: &'static str| -> Result<Option<String>, QrError> {
            match fields::take(&mut fields, key) {
                Some(value) if percent => percent_decode(&value, name).map(Some),
                other => Ok(other),
            }
        };

        let ssid = take("S", "S (network name)")?
            .filter(|ssid| !ssid.is_empty())
            .ok_or(QrError::MissingField { kind: KIND, field: "S (network name)" })?;
        let password = take("P", "P (password)")?.map(SecretString::new);
        let security = match take("T", "T (security type)")? {
            Some(code) => WifiSecurity::from_code(&code),
            None if password.as_ref().is_some_and(|p| !p.is_empty()) => WifiSecurity::WpaPersonal,
            None => WifiSecurity::Open,
        };
        let legacy_h = take("H", "H (hidden)")?;
        let hidden = legacy_h.as_deref().is_some_and(|h| h.eq_ignore_ascii_case("true"));
        let legacy_phase2 =
            legacy_h.filter(|h| !h.eq_ignore_ascii_case("true") && !h.eq_ignore_ascii_case("false"));
        let eap_method = take("E", "E (EAP method)")?;
        let anonymous_identity = take("A", "A (anonymous identity)")?;
        let identity = take("I", "I (identity)")?;
        let phase2 = take("PH2", "PH2 (phase 2 method)")?.or(legacy_phase2);
        let transition_disable = take("R", "R (transition disable)")?
            .map(|r| {
                u8::from_str_radix(&r, 16).map_err(|_| QrError::InvalidField {
                    kind: KIND,
                    field: "R (transition disable)",
                    reason: "must be a hex number from 0 to FF".into(),
                })
            })
            .transpose()?;
        let sae_public_key = take("K", "K (SAE-PK public key)")?.map(|k| decode_key(&k)).transpose()?;
        Ok(Self {
            ssid,
            security,
            password,
            hidden,
            eap_method,
            anonymous_identity,
            identity,
            phase2,
            transition_disable,
            sae_public_key,
        })
    }

    /// Writes the code in the backslash-escaped form (fields `T S P H E A I PH2 R K`, absent
    /// ones omitted, ending in `;;`). The text holds the password, hence a [`SecretString`].
    pub fn to_qr_text(&self) -> Result<SecretString, QrError> {
        if self.ssid.is_empty() {
            return Err(QrError::MissingField { kind: KIND, field: "S (network name)" });
        }
        let transition_disable = self.transition_disable.map(|r| format!("{r:X}"));
        let public_key = self.sae_public_key.as_deref().map(public_key::encode);
        let percent = transition_disable.is_some() || public_key.is_some();
        let password = self.password.as_ref().map(SecretString::expose);
        let hidden = self.hidden.then_some("true");
        let entries: [(&str, Option<&str>, bool); 10] = [
            ("T", Some(self.security.code()), false),
            ("S", Some(&self.ssid), true),
            ("P", password, true),
            ("H", hidden, false),
            ("E", self.eap_method.as_deref(), false),
            ("A", self.anonymous_identity.as_deref(), false),
            ("I", self.identity.as_deref(), false),
            ("PH2", self.phase2.as_deref(), false),
            ("R", transition_disable.as_deref(), false),
            ("K", public_key.as_deref(), false),
        ];
        let present =
            || entries.iter().filter_map(|&(key, value, quote)| value.map(|value| (key, value, quote)));
        let capacity: usize = present().map(|(key, value, _)| fields::capacity_for(key, value)).sum();
        let mut out = String::with_capacity(PREFIX.len() + capacity + 1);
        out.push_str(PREFIX);
        for (key, value, quote_hex) in present() {
            fields::push_field(&mut out, key, value, quote_hex, percent);
        }
        out.push(';');
        Ok(SecretString::new(out))
    }
}

/// Decodes `%XX` sequences; the result must be UTF-8.
fn percent_decode(value: &str, field: &'static str) -> Result<String, QrError> {
    let broken = || QrError::InvalidPercentEncoding { kind: KIND, field };
    let mut bytes = Vec::with_capacity(value.len());
    let mut input = value.bytes();
    while let Some(byte) = input.next() {
        if byte != b'%' {
            bytes.push(byte);
            continue;
        }
        let high = input.next().and_then(hex_digit).ok_or_else(broken)?;
        let low = input.next().and_then(hex_digit).ok_or_else(broken)?;
        bytes.push(high << 4 | low);
    }
    String::from_utf8(bytes).map_err(|_| broken())
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).and_then(|digit| u8::try_from(digit).ok())
}

fn decode_key(text: &str) -> Result<Vec<u8>, QrError> {
    public_key::decode(text).ok_or(QrError::InvalidField {
        kind: KIND,
        field: "K (SAE-PK public key)",
        reason: "must be a base64 public key".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WPA3 specification's example SAE-PK key (compressed P-256 SubjectPublicKeyInfo).
    const SAE_PK: &str = "MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADURzxmttZoIRIPWGoQMV00XHWCAQIhXruVWOz0NjlkIA=";

    fn password(network: &WifiNetworkCode) -> Option<&str> {
        network.password.as_ref().map(SecretString::expose)
    }

    #[test]
    fn reads_the_common_form() {
        let network = WifiNetworkCode::parse("WIFI:T:WPA;S:mynetwork;P:mypass;;").unwrap();
        assert_eq!(
            network,
            WifiNetworkCode::new("mynetwork", WifiSecurity::WpaPersonal, Some("mypass".into()))
        );
    }

    #[test]
    fn reads_fields_in_any_order_with_escapes_and_quotes() {
        let network =
            WifiNetworkCode::parse(r#"WIFI:H:true;P:"ABCDEF0123";S:my\;net\\wo\,rk\:\";T:WEP;;"#).unwrap();
        assert_eq!(network.ssid, r#"my;net\wo,rk:""#);
        assert_eq!(password(&network), Some("ABCDEF0123"));
        assert_eq!(network.security, WifiSecurity::Wep);
        assert!(network.hidden);
    }

    #[test]
    fn reads_enterprise_fields_and_legacy_phase2() {
        let network =
            WifiNetworkCode::parse("WIFI:T:WPA2-EAP;S:corp;E:PEAP;A:anon;I:alice;PH2:MSCHAPV2;P:pw;;")
                .unwrap();
        assert_eq!(network.security, WifiSecurity::WpaEnterprise);
        assert_eq!(network.eap_method.as_deref(), Some("PEAP"));
        assert_eq!(network.anonymous_identity.as_deref(), Some("anon"));
        assert_eq!(network.identity.as_deref(), Some("alice"));
        assert_eq!(network.phase2.as_deref(), Some("MSCHAPV2"));

        let legacy = WifiNetworkCode::parse("WIFI:T:WPA2-EAP;S:corp;E:TTLS;H:PAP;I:bob;;").unwrap();
        assert_eq!(legacy.phase2.as_deref(), Some("PAP"));
        assert!(!legacy.hidden);
    }

    #[test]
    fn reads_the_wpa3_uri_form() {
        let text = format!("WIFI:T:WPA;S:MyNet;P:MyPassword;R:1;K:{SAE_PK};;");
        let network = WifiNetworkCode::parse(&text).unwrap();
        assert_eq!(network.transition_disable, Some(1));
        let key = network.sae_public_key.as_deref().unwrap();
        assert_eq!((key.len(), key.first()), (59, Some(&0x30)));

        let encoded = WifiNetworkCode::parse("WIFI:T:SAE;S:caf%C3%A9%3Bbar;P:p%25w;I:id;R:A;;").unwrap();
        assert_eq!(encoded.ssid, "café;bar");
        assert_eq!(password(&encoded), Some("p%w"));
        assert_eq!(encoded.security, WifiSecurity::Sae);
        assert_eq!(encoded.transition_disable, Some(10));

        // Without R or K, '%' is literal text.
        let literal = WifiNetworkCode::parse("WIFI:S:50%off;P:x%41;;").unwrap();
        assert_eq!((literal.ssid.as_str(), password(&literal)), ("50%off", Some("x%41")));
    }

    #[test]
    fn infers_security_when_t_is_absent() {
        let with_password = WifiNetworkCode::parse("WIFI:S:n;P:secret;;").unwrap();
        assert_eq!(with_password.security, WifiSecurity::WpaPersonal);
        let open = WifiNetworkCode::parse("WIFI:S:n").unwrap();
        assert_eq!((open.security, open.password), (WifiSecurity::Open, None));
        let other = WifiNetworkCode::parse("WIFI:T:OWE;S:n;;").unwrap();
        assert_eq!(other.security, WifiSecurity::Other("OWE".into()));
    }

    #[test]
    fn rejects_malformed_codes() {
        let broken_percent = QrError::InvalidPercentEncoding { kind: KIND, field: "S (network name)" };
        let cases = [
            ("WIFI:T:WPA;P:x;;", QrError::MissingField { kind: KIND, field: "S (network name)" }),
            ("WIFI:S:;;", QrError::MissingField { kind: KIND, field: "S (network name)" }),
            ("WIFI:S:a;P:pass\\", QrError::UnterminatedEscape { kind: KIND }),
            ("WIFI:S:a;P:pa;ss;;", QrError::MalformedField { kind: KIND, index: 3 }),
            ("WIFI:S:a%zz;R:1;;", broken_percent.clone()),
            ("WIFI:S:a%F;R:1;;", broken_percent.clone()),
            ("WIFI:S:a%FF;R:1;;", broken_percent),
            (
                "WIFI:S:a;R:1FF;;",
                QrError::InvalidField {
                    kind: KIND,
                    field: "R (transition disable)",
                    reason: "must be a hex number from 0 to FF".into(),
                },
            ),
            (
                "WIFI:S:a;K:not base64!;;",
                QrError::InvalidField {
                    kind: KIND,
                    field: "K (SAE-PK public key)",
                    reason: "must be a base64 public key".into(),
                },
            ),
            ("DPP:K:abc;;", QrError::Unrecognized),
        ];
        for (text, expected) in cases {
            assert_eq!(WifiNetworkCode::parse(text), Err(expected), "{text}");
        }
    }

    #[test]
    fn writes_the_backslash_form() {
        let mut network = WifiNetworkCode::new(r#"my;net"#, WifiSecurity::WpaPersonal, Some("ABC123".into()));
        assert_eq!(network.to_qr_text().unwrap().expose(), r#"WIFI:T:WPA;S:my\;net;P:"ABC123";;"#);
        network.hidden = true;
        network.password = Some("5%:off".into());
        network.transition_disable = Some(1);
        network.sae_public_key = public_key::decode(SAE_PK);
        assert_eq!(
            network.to_qr_text().unwrap().expose(),
            format!(r#"WIFI:T:WPA;S:my\;net;P:5%25\:off;H:true;R:1;K:{SAE_PK};;"#)
        );
        let open = WifiNetworkCode::new("cafe", WifiSecurity::Open, None);
        assert_eq!(open.to_qr_text().unwrap().expose(), r#"WIFI:T:nopass;S:"cafe";;"#);
        let unnamed = WifiNetworkCode::new("", WifiSecurity::Open, None);
        assert!(matches!(unnamed.to_qr_text(), Err(QrError::MissingField { .. })));
    }

    #[test]
    fn debug_redacts_the_password() {
        let network = WifiNetworkCode::parse("WIFI:S:n;P:hunter2secret;;").unwrap();
        assert!(!format!("{network:?}").contains("hunter2secret"));
    }
}
