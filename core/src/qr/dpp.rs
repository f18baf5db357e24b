//! Wi-Fi Easy Connect (DPP) bootstrapping URIs:
//! `DPP:[C:<class>/<channel>,...;][M:<mac>;][I:<info>;][V:<version>;][H:<host>;]K:<key>;;`.
//!
//! Such a code authenticates the device's public key but binds no account. Unbox recognises it
//! and hands [`DppUri::uri`] to the platform's configurator where one exists (Android 10+:
//! `Settings.ACTION_PROCESS_WIFI_EASY_CONNECT_URI`). Fields carry no escapes; unknown fields are
//! ignored.

use super::{PayloadKind, QrError, public_key};

/// Scheme prefix of DPP URIs.
pub(crate) const PREFIX: &str = "DPP:";
const KIND: PayloadKind = PayloadKind::Dpp;

/// A decoded Wi-Fi Easy Connect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DppUri {
    /// The URI as scanned (surrounding whitespace removed), to hand to the platform unchanged.
    pub uri: String,
    /// `C:` global operating class and channel pairs the device listens on.
    pub channels: Vec<(u8, u8)>,
    /// `M:` the device's MAC address.
    pub mac: Option<[u8; 6]>,
    /// `I:` free-form device information.
    pub info: Option<String>,
    /// `V:` the DPP protocol version.
    pub version: Option<u8>,
    /// `H:` the host (DPP over TCP).
    pub host: Option<String>,
    /// `K:` the device's bootstrapping public key (DER SubjectPublicKeyInfo).
    pub public_key: Vec<u8>,
}

impl DppUri {
    /// Reads a `DPP:` URI. `K` is required; the final `;;` may be missing.
    pub fn parse(text: &str) -> Result<Self, QrError> {
        let uri = text.trim();
        let body = super::strip_prefix(uri, PREFIX).ok_or(QrError::Unrecognized)?;
        let mut parsed = Self {
            uri: uri.to_owned(),
            channels: Vec::new(),
            mac: None,
            info: None,
            version: None,
            host: None,
            public_key: Vec::new(),
        };
        let mut seen: Vec<String> = Vec::new();
        for (index, part) in body.split(';').enumerate() {
            if part.is_empty() {
                continue;
            }
            let (key, value) =
                part.split_once(':').ok_or(QrError::MalformedField { kind: KIND, index: index + 1 })?;
            let key = key.to_ascii_uppercase();
            if seen.contains(&key) {
                return Err(QrError::DuplicateField { kind: KIND, field: key });
            }
            match key.as_str() {
                "C" => parsed.channels = parse_channels(value)?,
                "M" => parsed.mac = Some(parse_mac(value)?),
                "I" => parsed.info = Some(value.to_owned()),
                "V" => {
                    parsed.version = Some(value.parse().map_err(|_| QrError::InvalidField {
                        kind: KIND,
                        field: "V (version)",
                        reason: "must be a number from 0 to 255".into(),
                    })?);
                }
                "H" => parsed.host = Some(value.to_owned()),
                "K" => {
                    parsed.public_key = public_key::decode(value).ok_or(QrError::InvalidField {
                        kind: KIND,
                        field: "K (public key)",
                        reason: "must be a base64 public key".into(),
                    })?;
                }
                _ => {}
            }
            seen.push(key);
        }
        if parsed.public_key.is_empty() {
            return Err(QrError::MissingField { kind: KIND, field: "K (public key)" });
        }
        Ok(parsed)
    }
}

fn parse_channels(value: &str) -> Result<Vec<(u8, u8)>, QrError> {
    value
        .split(',')
        .map(|pair| {
            let (class, channel) = pair.split_once('/')?;
            Some((class.parse().ok()?, channel.parse().ok()?))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or(QrError::InvalidField {
            kind: KIND,
            field: "C (channel list)",
            reason: "must be class/channel pairs such as 81/1,115/36".into(),
        })
}

fn parse_mac(value: &str) -> Result<[u8; 6], QrError> {
    if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(QrError::InvalidMac);
    }
    let mut mac = [0u8; 6];
    for (byte, index) in mac.iter_mut().zip((0..12).step_by(2)) {
        let pair = value.get(index..index + 2).ok_or(QrError::InvalidMac)?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| QrError::InvalidMac)?;
    }
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Example bootstrapping key from the Wi-Fi Easy Connect specification's examples.
    const KEY: &str = "MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADM2206avxHJaHXgLMkq/24e0rsrfMP9K1Tm8gx+ovP0I=";

    #[test]
    fn reads_every_field() {
        let text = format!("DPP:C:81/1,115/36;M:5254005828e5;I:SN=4774LH2b4044;V:2;H:10.0.0.1;K:{KEY};;");
        let uri = DppUri::parse(&format!(" {text}\n")).unwrap();
        assert_eq!(uri.uri, text);
        assert_eq!(uri.channels, vec![(81, 1), (115, 36)]);
        assert_eq!(uri.mac, Some([0x52, 0x54, 0x00, 0x58, 0x28, 0xe5]));
        assert_eq!(uri.info.as_deref(), Some("SN=4774LH2b4044"));
        assert_eq!(uri.version, Some(2));
        assert_eq!(uri.host.as_deref(), Some("10.0.0.1"));
        assert_eq!((uri.public_key.len(), uri.public_key.first()), (59, Some(&0x30)));
    }

    #[test]
    fn needs_only_the_key() {
        let uri = DppUri::parse(&format!("dpp:K:{KEY};;")).unwrap();
        assert!(uri.channels.is_empty() && uri.mac.is_none() && uri.version.is_none());
    }

    #[test]
    fn rejects_malformed_uris() {
        let missing_key = QrError::MissingField { kind: KIND, field: "K (public key)" };
        let cases = [
            ("DPP:;;".to_owned(), missing_key.clone()),
            ("DPP:C:81/1;;".to_owned(), missing_key),
            (format!("DPP:M:5254005828;K:{KEY};;"), QrError::InvalidMac),
            (format!("DPP:M:52:54:00:58:28:e5;K:{KEY};;"), QrError::InvalidMac),
            (format!("DPP:M:5254005828zz;K:{KEY};;"), QrError::InvalidMac),
            (format!("DPP:M:525400é828e;K:{KEY};;"), QrError::InvalidMac),
            (
                format!("DPP:C:81;K:{KEY};;"),
                QrError::InvalidField {
                    kind: KIND,
                    field: "C (channel list)",
                    reason: "must be class/channel pairs such as 81/1,115/36".into(),
                },
            ),
            (
                format!("DPP:V:x;K:{KEY};;"),
                QrError::InvalidField {
                    kind: KIND,
                    field: "V (version)",
                    reason: "must be a number from 0 to 255".into(),
                },
            ),
            (
                "DPP:K:@@@;;".to_owned(),
                QrError::InvalidField {
                    kind: KIND,
                    field: "K (public key)",
                    reason: "must be a base64 public key".into(),
                },
            ),
            (format!("DPP:K:{KEY};k:{KEY};;"), QrError::DuplicateField { kind: KIND, field: "K".into() }),
            (format!("DPP:oops;K:{KEY};;"), QrError::MalformedField { kind: KIND, index: 1 }),
        ];
        for (text, expected) in cases {
            assert_eq!(DppUri::parse(&text), Err(expected), "{text}");
        }
    }
}
