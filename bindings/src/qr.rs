//! Onboarding codes: reading a scanned or typed code, showing what it says, and drawing a QR code.

use std::sync::Arc;

use unbox_core::qr as core;
use unbox_core::qr::PayloadKind;
use unbox_core::transport::TransportKind;

/// One labelled value of a `PayloadSummary`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SummaryField {
    /// The field's label, e.g. `name` or `pop`.
    pub label: String,
    /// Its value, or `[redacted]` for a secret not asked for.
    pub value: String,
}

/// What an onboarding code says, field by field, for display.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PayloadSummary {
    /// The kind of payload in words.
    pub kind: String,
    /// Labelled values in display order.
    pub fields: Vec<SummaryField>,
    /// What the person should know or do with it, if anything.
    pub note: Option<String>,
}

impl From<core::PayloadSummary> for PayloadSummary {
    fn from(summary: core::PayloadSummary) -> Self {
        Self {
            kind: summary.kind,
            fields: summary.fields.into_iter().map(|(label, value)| SummaryField { label, value }).collect(),
            note: summary.note,
        }
    }
}

/// A recognised onboarding code. Its secrets (PoP, passphrases, claim token) stay inside the
/// library; pass the code on to the onboarding flow.
#[derive(Debug, PartialEq, uniffi::Object)]
pub struct OnboardingCode {
    payload: core::OnboardingPayload,
}

/// Reads a scanned QR code or a typed code (Espressif JSON, `WIFI:`, Matter `MT:` or manual
/// digits, `DPP:`, `UNBOX:`).
#[uniffi::export]
pub fn parse_onboarding_code(text: String) -> Result<Arc<OnboardingCode>, QrError> {
    let text = unbox_core::secret::SecretString::new(text);
    Ok(Arc::new(OnboardingCode { payload: core::parse(text.expose())? }))
}

#[uniffi::export]
impl OnboardingCode {
    /// Which format the code was in.
    pub fn kind(&self) -> PayloadKind {
        self.payload.kind()
    }

    /// The service name (BLE name or SoftAP SSID) of the device a setup code is for; null for
    /// codes that are not a device's.
    pub fn device_name(&self) -> Option<String> {
        self.payload.device_name().map(str::to_owned)
    }

    /// The transport a device's setup code announces; null when it states none or is not a
    /// device's.
    pub fn transport(&self) -> Option<TransportKind> {
        self.payload.transport()
    }

    /// The code's fields for display; secrets show as `[redacted]` unless `reveal_secrets`.
    pub fn summary(&self, reveal_secrets: bool) -> PayloadSummary {
        self.payload.summary(reveal_secrets).into()
    }
}

impl OnboardingCode {
    /// The core payload, for the flow.
    pub(crate) fn payload(&self) -> &core::OnboardingPayload {
        &self.payload
    }
}

impl From<core::OnboardingPayload> for OnboardingCode {
    fn from(payload: core::OnboardingPayload) -> Self {
        Self { payload }
    }
}

/// An encoded QR code (error correction level M), to draw natively or as SVG.
#[derive(Debug, uniffi::Object)]
pub struct QrImage {
    image: core::QrImage,
}

#[uniffi::export]
impl QrImage {
    /// Encodes `text` (UTF-8 bytes).
    #[uniffi::constructor]
    pub fn encode(text: String) -> Result<Arc<Self>, QrError> {
        let text = unbox_core::secret::SecretString::new(text);
        Ok(Arc::new(Self { image: core::QrImage::encode(text.expose())? }))
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> u32 {
        u32::try_from(self.image.width()).unwrap_or(u32::MAX)
    }

    /// Row-major modules, `true` for dark, `width * width` of them; leave
    /// `quietZoneModules()` light modules around when drawing.
    pub fn modules(&self) -> Vec<bool> {
        self.image.modules()
    }

    /// A standalone SVG document, quiet zone included.
    pub fn svg(&self) -> String {
        self.image.svg()
    }
}

/// Light modules to leave around a QR code when drawing it.
#[uniffi::export]
pub fn quiet_zone_modules() -> u32 {
    core::QUIET_ZONE_MODULES as u32
}

/// Why a code could not be read or drawn. Each variant's message says what a person can do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum QrError {
    /// The text is empty.
    #[error(transparent)]
    Empty(core::QrError),
    /// The text is no onboarding code Unbox reads.
    #[error(transparent)]
    Unrecognized(core::QrError),
    /// The code is readable but is not a device's setup code (or not for the link asked for).
    #[error(transparent)]
    NotADeviceCode(core::QrError),
    /// An Espressif code is not valid JSON.
    #[error(transparent)]
    InvalidJson(core::QrError),
    /// The code declares a format version this build does not know.
    #[error(transparent)]
    UnsupportedVersion(core::QrError),
    /// A field the format requires is absent.
    #[error(transparent)]
    MissingField(core::QrError),
    /// A field's value is unusable, appears twice, or is badly encoded.
    #[error(transparent)]
    InvalidField(core::QrError),
    /// A Matter code is damaged (bad characters, groups, length, passcode).
    #[error(transparent)]
    InvalidMatterCode(core::QrError),
    /// A Matter manual pairing code is mistyped (length, characters, groups, check digit).
    #[error(transparent)]
    InvalidManualCode(core::QrError),
    /// The text is too long for a QR code.
    #[error(transparent)]
    TooLongForQr(core::QrError),
}

impl From<core::QrError> for QrError {
    fn from(error: core::QrError) -> Self {
        use core::QrError as E;
        match error {
            E::Empty => Self::Empty(error),
            E::Unrecognized => Self::Unrecognized(error),
            E::NotADeviceCode { .. } | E::BluetoothOnly { .. } => Self::NotADeviceCode(error),
            E::InvalidJson { .. } => Self::InvalidJson(error),
            E::UnsupportedVersion { .. } => Self::UnsupportedVersion(error),
            E::MissingField { .. } => Self::MissingField(error),
            E::InvalidField { .. }
            | E::DuplicateField { .. }
            | E::MalformedField { .. }
            | E::UnterminatedEscape { .. }
            | E::InvalidPercentEncoding { .. }
            | E::InvalidMac => Self::InvalidField(error),
            E::InvalidBase38Char { .. }
            | E::InvalidBase38Chunk { .. }
            | E::MatterPayloadTooShort { .. }
            | E::InvalidPasscode => Self::InvalidMatterCode(error),
            E::ManualCodeLength { .. }
            | E::ManualCodeCharacter { .. }
            | E::ManualCodeFirstDigit { .. }
            | E::ManualCodeGroup
            | E::CheckDigitMismatch => Self::InvalidManualCode(error),
            E::TooLongForQr { .. } => Self::TooLongForQr(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_summarises_without_leaking_secrets() {
        let code = parse_onboarding_code(
            r#"{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"ble"}"#.into(),
        )
        .unwrap();
        assert_eq!(code.kind(), PayloadKind::Espressif);
        let summary = code.summary(false);
        assert_eq!(summary.kind, "espressif");
        assert!(summary.fields.contains(&SummaryField { label: "name".into(), value: "PROV_1A2B3C".into() }));
        assert!(summary.fields.contains(&SummaryField { label: "pop".into(), value: "[redacted]".into() }));
        assert!(!format!("{code:?}").contains("abcd1234"));
        assert!(code.summary(true).fields.iter().any(|field| field.value == "abcd1234"));
    }

    #[test]
    fn errors_keep_the_core_message_and_map_to_their_area() {
        let cases = [
            ("", "Empty"),
            ("https://example.com/", "Unrecognized"),
            ("{not json", "InvalidJson"),
            (r#"{"ver":"v9","name":"PROV_1"}"#, "UnsupportedVersion"),
            ("WIFI:T:WPA;;", "MissingField"),
            ("WIFI:S:a;S:b;;", "InvalidField"),
            ("MT:!!!!", "InvalidMatterCode"),
            ("3497-011-2333", "InvalidManualCode"),
        ];
        for (text, variant) in cases {
            let core_message = core::parse(text).unwrap_err().to_string();
            let error = parse_onboarding_code(text.into()).unwrap_err();
            assert_eq!(error.to_string(), core_message, "{text}");
            assert!(format!("{error:?}").starts_with(variant), "{text}: {error:?}");
        }
    }

    #[test]
    fn draws_qr_codes_and_refuses_oversized_text() {
        let image = QrImage::encode("WIFI:S:home;;".into()).unwrap();
        let width = image.width() as usize;
        assert_eq!(image.modules().len(), width * width);
        assert!(image.svg().starts_with("<?xml"));
        assert_eq!(quiet_zone_modules(), 4);
        assert!(matches!(QrImage::encode("x".repeat(5000)), Err(QrError::TooLongForQr(_))));
    }
}
