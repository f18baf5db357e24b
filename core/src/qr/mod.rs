//! Onboarding codes: the QR codes and typed codes that start a device setup.
//!
//! [`parse`] recognises every format Unbox reads and returns one [`OnboardingPayload`]:
//! - Espressif provisioning JSON (`{"ver":"v1",...}`), see [`EspressifQr`];
//! - Wi-Fi network codes (`WIFI:...;;`, ZXing and WPA3 forms), see [`WifiNetworkCode`];
//! - Matter codes (`MT:` QR codes and 11/21-digit manual pairing codes), see [`MatterCode`];
//! - Wi-Fi Easy Connect URIs (`DPP:...;;`), see [`DppUri`];
//! - Unbox's own code shown by the phone to camera-type devices (`UNBOX:1;...;;`), see
//!   [`UnboxPayload`].
//!
//! Each payload type also writes its text form (`to_qr_text`), and [`QrImage`] turns any text
//! into an SVG, a module matrix for the phone shells, or a terminal rendering for the CLI.
//! Parsers never panic and report every malformed input as a [`QrError`].

mod base38;
mod dpp;
mod error;
mod espressif;
mod fields;
mod matter;
mod public_key;
mod render;
mod summary;
mod unbox;
mod verhoeff;
mod wifi;

use std::fmt;

use crate::security::ClientCredentials;
use crate::transport::TransportKind;

pub use dpp::DppUri;
pub use error::QrError;
pub use espressif::{DEFAULT_SEC2_USERNAME, DEFAULT_SECURITY, EspNetwork, EspressifQr};
pub use matter::{
    CommissioningFlow, DiscoveryCapabilities, ManualPairingCode, MatterCode, MatterSetupPayload,
    SetupPasscode,
};
pub use render::{QUIET_ZONE_MODULES, QrImage, TerminalBackground};
pub use summary::PayloadSummary;
pub use unbox::UnboxPayload;
pub use wifi::{WifiNetworkCode, WifiSecurity};

/// The kinds of onboarding code Unbox recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PayloadKind {
    /// Espressif unified-provisioning JSON: a device Unbox can onboard.
    Espressif,
    /// A Wi-Fi network code (`WIFI:...;;`).
    WifiNetwork,
    /// A Matter QR code or manual pairing code (Unbox cannot commission Matter devices).
    Matter,
    /// A Wi-Fi Easy Connect (DPP) URI, for the platform's Wi-Fi configurator.
    Dpp,
    /// Unbox's own phone-to-device code.
    Unbox,
}

impl fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Espressif => "Espressif provisioning",
            Self::WifiNetwork => "Wi-Fi network",
            Self::Matter => "Matter",
            Self::Dpp => "Wi-Fi Easy Connect (DPP)",
            Self::Unbox => "Unbox",
        })
    }
}

/// A recognised onboarding code.
#[derive(Debug, Clone, PartialEq)]
pub enum OnboardingPayload {
    /// An ESP device in provisioning mode: Unbox can onboard it.
    Espressif(EspressifQr),
    /// Credentials of a Wi-Fi network (e.g. to offer as the network for the device).
    WifiNetwork(WifiNetworkCode),
    /// A Matter device: Unbox cannot commission it; see [`MatterCode::user_message`].
    Matter(MatterCode),
    /// A Wi-Fi Easy Connect device key: hand it to the platform's Wi-Fi configurator.
    Dpp(DppUri),
    /// Unbox's own code, as read by a camera-type device.
    Unbox(UnboxPayload),
}

impl OnboardingPayload {
    /// The credentials an ESP device's setup code gives for its security session. The patch
    /// version of security 2 is left at 0: the device's version info supplies it when the
    /// session opens. Any other kind of code is [`QrError::NotADeviceCode`].
    pub fn device_credentials(&self) -> Result<ClientCredentials, QrError> {
        match self {
            Self::Espressif(code) => Ok(code.client_credentials()),
            other => Err(QrError::NotADeviceCode { kind: other.kind() }),
        }
    }

    /// The service name (BLE name or SoftAP SSID) of the device a setup code is for.
    pub fn device_name(&self) -> Option<&str> {
        match self {
            Self::Espressif(code) => Some(&code.name),
            _ => None,
        }
    }

    /// The transport a device's setup code announces (`None` when it states none or is not a
    /// device's).
    pub fn transport(&self) -> Option<TransportKind> {
        match self {
            Self::Espressif(code) => code.transport,
            _ => None,
        }
    }

    /// Which format the code was in.
    pub fn kind(&self) -> PayloadKind {
        match self {
            Self::Espressif(_) => PayloadKind::Espressif,
            Self::WifiNetwork(_) => PayloadKind::WifiNetwork,
            Self::Matter(_) => PayloadKind::Matter,
            Self::Dpp(_) => PayloadKind::Dpp,
            Self::Unbox(_) => PayloadKind::Unbox,
        }
    }
}

/// Reads a scanned QR code or a typed code. Surrounding whitespace is ignored; scheme prefixes
/// (`WIFI:`, `MT:`, `DPP:`, `UNBOX:`) are matched case-insensitively.
pub fn parse(text: &str) -> Result<OnboardingPayload, QrError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(QrError::Empty);
    }
    if text.starts_with('{') {
        return EspressifQr::parse(text).map(OnboardingPayload::Espressif);
    }
    if has_prefix(text, wifi::PREFIX) {
        return WifiNetworkCode::parse(text).map(OnboardingPayload::WifiNetwork);
    }
    if has_prefix(text, dpp::PREFIX) {
        return DppUri::parse(text).map(OnboardingPayload::Dpp);
    }
    if has_prefix(text, unbox::PREFIX) {
        return UnboxPayload::parse(text).map(OnboardingPayload::Unbox);
    }
    if has_prefix(text, matter::QR_PREFIX) || matter::looks_like_manual_code(text) {
        return MatterCode::parse(text).map(OnboardingPayload::Matter);
    }
    Err(QrError::Unrecognized)
}

/// Whether `text` starts with `prefix`, ignoring ASCII case.
fn has_prefix(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// `text` without `prefix` (matched ignoring ASCII case), or `None` when it does not start so.
fn strip_prefix<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    if has_prefix(text, prefix) { text.get(prefix.len()..) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_device_codes_give_credentials_and_a_name() {
        let device = parse(
            r#"{"ver":"v1","name":"PROV_1A2B3C","username":"maker","pop":"abcd1234","transport":"softap"}"#,
        )
        .unwrap();
        assert_eq!(device.device_name(), Some("PROV_1A2B3C"));
        match device.device_credentials().unwrap() {
            ClientCredentials::Sec2 { username, password } => {
                assert_eq!((username.as_str(), password.expose()), ("maker", "abcd1234"));
            }
            other => panic!("expected security 2 credentials, got {other:?}"),
        }
        let network = parse("WIFI:T:WPA;S:home;P:secret12;;").unwrap();
        assert_eq!(network.device_name(), None);
        let error = network.device_credentials().unwrap_err();
        assert_eq!(error, QrError::NotADeviceCode { kind: PayloadKind::WifiNetwork });
        assert!(error.to_string().starts_with("a Wi-Fi network code does not set up a device"), "{error}");
    }

    #[test]
    fn dispatches_each_format() {
        let cases = [
            (
                r#"{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"ble"}"#,
                PayloadKind::Espressif,
            ),
            ("WIFI:T:WPA;S:home;P:secret12;;", PayloadKind::WifiNetwork),
            ("wifi:S:home;;", PayloadKind::WifiNetwork),
            ("MT:Y.K9042C00KA0648G00", PayloadKind::Matter),
            ("34970112332", PayloadKind::Matter),
            ("3497-011-2332", PayloadKind::Matter),
            (
                "DPP:K:MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADURzxmttZoIRIPWGoQMV00XHWCAQIhXruVWOz0NjlkIA=;;",
                PayloadKind::Dpp,
            ),
            ("UNBOX:1;S:home;P:secret12;C:tok;;", PayloadKind::Unbox),
        ];
        for (text, kind) in cases {
            let parsed = parse(&format!("  {text}\n")).unwrap();
            assert_eq!(parsed.kind(), kind, "{text}");
        }
    }

    #[test]
    fn rejects_empty_and_foreign_text() {
        assert_eq!(parse(" \n"), Err(QrError::Empty));
        assert_eq!(parse("https://example.com/"), Err(QrError::Unrecognized));
        assert_eq!(parse("MÉ"), Err(QrError::Unrecognized));
    }

    #[test]
    fn prefix_matching_is_char_boundary_safe() {
        assert!(!has_prefix("é", "MT:"));
        assert_eq!(strip_prefix("mt:ABC", "MT:"), Some("ABC"));
        assert_eq!(strip_prefix("ABC", "MT:"), None);
    }
}
