//! Matter onboarding codes: `MT:` QR codes and 11/21-digit manual pairing codes.
//!
//! A QR code is `MT:` and Base38 text of the 88-bit little-endian basic payload (from the least
//! significant bit: version 3 bits, vendor id 16, product id 16, commissioning flow 2, discovery
//! capabilities 8, discriminator 12, passcode 27, padding 4), optionally followed by TLV bytes;
//! several payloads may be joined with `*`. A manual pairing code carries the top 4
//! discriminator bits, the passcode, vendor and product ids when the flow is not standard, and a
//! Verhoeff check digit.
//!
//! Unbox does not commission Matter devices (that needs BTP, PASE and fabric credentials): it
//! recognises the code, shows what it says and points the user to their Matter ecosystem app.

use std::fmt;

use super::{PayloadKind, QrError, base38, verhoeff};

/// Scheme prefix of Matter QR codes.
pub(crate) const QR_PREFIX: &str = "MT:";
const KIND: PayloadKind = PayloadKind::Matter;
/// Bytes of the basic payload, before any TLV data.
const BASIC_PAYLOAD_BYTES: usize = 11;
/// Highest valid setup passcode.
const MAX_PASSCODE: u32 = 99_999_998;
/// Passcodes the specification forbids as trivially guessable.
const TRIVIAL_PASSCODES: [u32; 11] = [
    11_111_111, 22_222_222, 33_333_333, 44_444_444, 55_555_555, 66_666_666, 77_777_777, 88_888_888,
    99_999_999, 12_345_678, 87_654_321,
];
/// Largest 12-bit discriminator.
const MAX_DISCRIMINATOR: u16 = 0xFFF;

/// What to tell a user who scanned or typed a Matter code.
const USER_MESSAGE: &str = "This is a Matter setup code. Unbox cannot add Matter devices: open \
    your Matter app (such as Apple Home, Google Home, Amazon Alexa or SmartThings) and scan or \
    type this code there.";

/// A valid Matter setup passcode (1..=99,999,998, not a trivial value). Redacted in `Debug`:
/// it is the secret that lets anyone holding it commission the device.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SetupPasscode(u32);

impl SetupPasscode {
    /// Validates a passcode.
    pub fn new(value: u32) -> Result<Self, QrError> {
        if value == 0 || value > MAX_PASSCODE || TRIVIAL_PASSCODES.contains(&value) {
            return Err(QrError::InvalidPasscode);
        }
        Ok(Self(value))
    }

    /// The passcode. Keep it out of logs.
    pub fn value(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for SetupPasscode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetupPasscode([redacted])")
    }
}

/// How the device expects to be put into commissioning mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommissioningFlow {
    /// Commissionable as soon as it is powered.
    Standard,
    /// The user must act on the device first (e.g. press a button).
    UserIntent,
    /// The vendor's instructions (looked up by vendor and product id) apply.
    Custom,
}

/// The ways a device can be discovered for commissioning (a bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DiscoveryCapabilities(u8);

impl DiscoveryCapabilities {
    /// The device's own Wi-Fi access point.
    pub const SOFT_AP: Self = Self(1);
    /// Bluetooth LE.
    pub const BLE: Self = Self(1 << 1);
    /// Already on an IP network.
    pub const ON_NETWORK: Self = Self(1 << 2);
    /// Wi-Fi public action frames.
    pub const WIFI_PAF: Self = Self(1 << 3);
    /// NFC (newer specifications).
    pub const NFC: Self = Self(1 << 4);
    /// Thread (newer specifications).
    pub const THREAD: Self = Self(1 << 5);

    /// Capabilities from the raw bits (unknown bits are kept).
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every capability of `other` is present.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// One basic payload of a Matter QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterSetupPayload {
    /// Vendor id (0 when not given).
    pub vendor_id: u16,
    /// Product id (0 when not given).
    pub product_id: u16,
    /// Commissioning flow.
    pub flow: CommissioningFlow,
    /// Discovery capabilities.
    pub discovery: DiscoveryCapabilities,
    /// The 12-bit discriminator the device advertises.
    pub discriminator: u16,
    /// The setup passcode.
    pub passcode: SetupPasscode,
    /// TLV data after the basic payload (serial number, vendor tags), kept raw.
    pub tlv_data: Vec<u8>,
}

impl MatterSetupPayload {
    /// The top 4 bits of the discriminator, as a manual pairing code carries them.
    pub fn short_discriminator(&self) -> u8 {
        (self.discriminator >> 8 & 0xF) as u8
    }

    /// The manual pairing code for this payload: 21 digits (with vendor and product id) unless
    /// the flow is standard.
    pub fn manual_code(&self) -> Result<ManualPairingCode, QrError> {
        self.check_discriminator()?;
        Ok(ManualPairingCode {
            short_discriminator: self.short_discriminator(),
            passcode: self.passcode,
            vendor_product: (self.flow != CommissioningFlow::Standard)
                .then_some((self.vendor_id, self.product_id)),
        })
    }

    /// Writes this payload alone as an `MT:` QR code text.
    pub fn to_qr_text(&self) -> Result<String, QrError> {
        Ok(format!("{QR_PREFIX}{}", base38::encode(&self.to_bytes()?)))
    }

    fn check_discriminator(&self) -> Result<(), QrError> {
        if self.discriminator > MAX_DISCRIMINATOR {
            return Err(QrError::InvalidField {
                kind: KIND,
                field: "discriminator",
                reason: "must be at most 4095".into(),
            });
        }
        Ok(())
    }

    fn to_bytes(&self) -> Result<Vec<u8>, QrError> {
        self.check_discriminator()?;
        let flow: u128 = match self.flow {
            CommissioningFlow::Standard => 0,
            CommissioningFlow::UserIntent => 1,
            CommissioningFlow::Custom => 2,
        };
        let bits = u128::from(self.vendor_id) << 3
            | u128::from(self.product_id) << 19
            | flow << 35
            | u128::from(self.discovery.bits()) << 37
            | u128::from(self.discriminator) << 45
            | u128::from(self.passcode.value()) << 57;
        let mut bytes: Vec<u8> = bits.to_le_bytes().into_iter().take(BASIC_PAYLOAD_BYTES).collect();
        bytes.extend_from_slice(&self.tlv_data);
        Ok(bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, QrError> {
        let (head, tlv) = bytes
            .split_at_checked(BASIC_PAYLOAD_BYTES)
            .ok_or(QrError::MatterPayloadTooShort { bytes: bytes.len() })?;
        let mut raw = [0u8; 16];
        raw.iter_mut().zip(head).for_each(|(to, from)| *to = *from);
        let bits = u128::from_le_bytes(raw);
        let field = |shift: u32, width: u32| (bits >> shift) & ((1 << width) - 1);
        let version = field(0, 3);
        if version != 0 {
            return Err(QrError::UnsupportedVersion { kind: KIND, version: version.to_string() });
        }
        let flow = match field(35, 2) {
            0 => CommissioningFlow::Standard,
            1 => CommissioningFlow::UserIntent,
            2 => CommissioningFlow::Custom,
            _ => {
                return Err(QrError::InvalidField {
                    kind: KIND,
                    field: "commissioning flow",
                    reason: "value 3 is reserved".into(),
                });
            }
        };
        Ok(Self {
            vendor_id: field(3, 16) as u16,
            product_id: field(19, 16) as u16,
            flow,
            discovery: DiscoveryCapabilities(field(37, 8) as u8),
            discriminator: field(45, 12) as u16,
            passcode: SetupPasscode::new(field(57, 27) as u32)?,
            tlv_data: tlv.to_vec(),
        })
    }
}

/// A Matter manual pairing code (the digits printed under the QR code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualPairingCode {
    /// The top 4 bits of the device's discriminator (0..=15).
    pub short_discriminator: u8,
    /// The setup passcode.
    pub passcode: SetupPasscode,
    /// Vendor and product id, present in 21-digit codes.
    pub vendor_product: Option<(u16, u16)>,
}

impl ManualPairingCode {
    /// Reads 11 or 21 digits; spaces and dashes between them (as printed) are ignored.
    pub fn parse(text: &str) -> Result<Self, QrError> {
        let mut digits = Vec::with_capacity(21);
        for ch in text.trim().chars().filter(|&c| c != ' ' && c != '-') {
            let digit = ch.to_digit(10).ok_or(QrError::ManualCodeCharacter { ch })?;
            digits.push(digit as u8);
        }
        let length_error = QrError::ManualCodeLength { digits: digits.len() };
        if digits.len() != 11 && digits.len() != 21 {
            return Err(length_error);
        }
        if !verhoeff::is_valid(&digits) {
            return Err(QrError::CheckDigitMismatch);
        }
        let number = |from: usize, to: usize| {
            digits
                .get(from..to)
                .map(|group| group.iter().fold(0u32, |n, &d| n * 10 + u32::from(d)))
                .unwrap_or_default()
        };
        let first = number(0, 1);
        if first > 7 {
            return Err(QrError::ManualCodeFirstDigit { digit: first as u8 });
        }
        let long = first & 0b100 != 0;
        if long != (digits.len() == 21) {
            return Err(length_error);
        }
        let low = number(1, 6);
        let high = number(6, 10);
        if low > 0xFFFF || high > 0x1FFF {
            return Err(QrError::ManualCodeGroup);
        }
        let vendor_product = if long {
            let (vendor, product) = (number(10, 15), number(15, 20));
            let vendor = u16::try_from(vendor).map_err(|_| QrError::ManualCodeGroup)?;
            let product = u16::try_from(product).map_err(|_| QrError::ManualCodeGroup)?;
            Some((vendor, product))
        } else {
            None
        };
        Ok(Self {
            short_discriminator: ((first & 0b11) << 2 | low >> 14) as u8,
            passcode: SetupPasscode::new(high << 14 | (low & 0x3FFF))?,
            vendor_product,
        })
    }

    /// The code as digits without separators, check digit included.
    pub fn to_digits(&self) -> Result<String, QrError> {
        if self.short_discriminator > 0xF {
            return Err(QrError::InvalidField {
                kind: KIND,
                field: "short discriminator",
                reason: "must be at most 15".into(),
            });
        }
        let short = u32::from(self.short_discriminator);
        let passcode = self.passcode.value();
        let first = u32::from(self.vendor_product.is_some()) << 2 | short >> 2;
        let low = (short & 0b11) << 14 | (passcode & 0x3FFF);
        let high = passcode >> 14;
        let mut text = format!("{first}{low:05}{high:04}");
        if let Some((vendor, product)) = self.vendor_product {
            text.push_str(&format!("{vendor:05}{product:05}"));
        }
        let digits: Vec<u8> = text.bytes().map(|b| b.wrapping_sub(b'0')).collect();
        text.push(char::from(b'0' + verhoeff::check_digit(&digits)));
        Ok(text)
    }
}

/// A recognised Matter code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatterCode {
    /// An `MT:` QR code with one or more payloads.
    QrCode(Vec<MatterSetupPayload>),
    /// A manual pairing code.
    ManualCode(ManualPairingCode),
}

impl MatterCode {
    /// Reads an `MT:` QR code (every `*`-joined payload) or a manual pairing code.
    pub fn parse(text: &str) -> Result<Self, QrError> {
        let text = text.trim();
        let Some(body) = super::strip_prefix(text, QR_PREFIX) else {
            return ManualPairingCode::parse(text).map(Self::ManualCode);
        };
        let mut payloads = Vec::new();
        let mut offset = 0;
        for part in body.split('*') {
            let bytes = base38::decode(part, offset)?;
            payloads.push(MatterSetupPayload::from_bytes(&bytes)?);
            offset += part.chars().count() + 1;
        }
        Ok(Self::QrCode(payloads))
    }

    /// Writes the code: `MT:` and the `*`-joined payloads, or the manual code's digits.
    pub fn to_text(&self) -> Result<String, QrError> {
        match self {
            Self::ManualCode(code) => code.to_digits(),
            Self::QrCode(payloads) if payloads.is_empty() => Err(QrError::MatterPayloadTooShort { bytes: 0 }),
            Self::QrCode(payloads) => {
                let parts = payloads
                    .iter()
                    .map(|payload| payload.to_bytes().map(|bytes| base38::encode(&bytes)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(format!("{QR_PREFIX}{}", parts.join("*")))
            }
        }
    }

    /// What to tell the user: Unbox cannot commission Matter devices, their Matter app can.
    pub fn user_message(&self) -> &'static str {
        USER_MESSAGE
    }
}

/// Whether text could be a typed manual pairing code: digits, optionally grouped by spaces or
/// dashes.
pub(crate) fn looks_like_manual_code(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
        && text.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(
        (vendor_id, product_id): (u16, u16),
        flow: CommissioningFlow,
        discovery: u8,
        discriminator: u16,
        passcode: u32,
    ) -> MatterSetupPayload {
        MatterSetupPayload {
            vendor_id,
            product_id,
            flow,
            discovery: DiscoveryCapabilities::from_bits(discovery),
            discriminator,
            passcode: SetupPasscode::new(passcode).unwrap(),
            tlv_data: Vec::new(),
        }
    }

    fn single(text: &str) -> MatterSetupPayload {
        match MatterCode::parse(text).unwrap() {
            MatterCode::QrCode(mut payloads) if payloads.len() == 1 => payloads.remove(0),
            other => panic!("expected one QR payload, got {other:?}"),
        }
    }

    /// Codes and decoded values from the Matter SDK's setup-payload tests (C++ and Python),
    /// each re-derived by computation: QR code, payload, manual code.
    #[test]
    fn reads_and_writes_published_codes() {
        use CommissioningFlow::*;
        let cases = [
            ("MT:Y.K9042C00KA0648G00", payload((0xFFF1, 0x8000), Standard, 2, 3840, 20202021), "34970112332"),
            ("MT:M5L90MP500K64J00000", payload((12, 1), Standard, 1, 128, 2048), "00204800002"),
            ("MT:00000CQM00KA0648G00", payload((0, 0), Standard, 4, 3840, 20202021), "34970112332"),
            ("MT:U9VJ0OMV172PX813210", payload((4891, 2), Standard, 2, 3431, 49910688), "32140830464"),
            ("MT:-8VJ0OMV172PX813210", payload((0x1317, 2), Standard, 2, 3431, 49910688), "32140830464"),
            ("MT:0A.T0RTM00Y0OJ0.510", payload((0x2345, 0x1023), Standard, 4, 80, 54757432), "00210433428"),
            (
                "MT:A3L90ARR15G6N57Y900",
                payload((1, 1), UserIntent, 4, 3781, 12349876),
                "745492075300001000013",
            ),
            (
                "MT:MZWA6G6026O2XP0II00",
                payload((0xFFF3, 0x8098), Custom, 4, 2310, 23005908),
                "619156140465523329207",
            ),
            (
                "MT:KSNK4M5113-JPR4UY00",
                payload((0x1123, 0x12), Custom, 2, 3091, 43338551),
                "702871264504387000187",
            ),
            (
                "MT:KSNK4SIC13-JPR4UY00",
                payload((0x1123, 0x12), Custom, 4, 3091, 43338551),
                "702871264504387000187",
            ),
            (
                "MT:0A.T0P--00Y0OJ0.510",
                payload((0x2345, 0x1023), Custom, 6, 80, 54757432),
                "402104334209029041311",
            ),
            (
                "MT:EPX0482F26DAVY09R10",
                payload((0x45, 0x10), UserIntent, 7, 174, 81235604),
                "403732495800069000166",
            ),
        ];
        for (qr, expected, manual) in cases {
            assert_eq!(single(qr), expected, "{qr}");
            assert_eq!(expected.to_qr_text().unwrap(), qr);
            let code = expected.manual_code().unwrap();
            assert_eq!(code.to_digits().unwrap(), manual, "{qr}");
            assert_eq!(ManualPairingCode::parse(manual).unwrap(), code);
        }
    }

    #[test]
    fn reads_the_example_manual_code_fields() {
        let code = ManualPairingCode::parse("3497-011-2332").unwrap();
        assert_eq!(code.short_discriminator, 15);
        assert_eq!(code.passcode.value(), 20202021);
        assert_eq!(code.vendor_product, None);
        // From the SDK's manual-code parser tests, check digits computed here.
        let long = ManualPairingCode::parse("529276236304562000322").unwrap();
        assert_eq!(
            (long.short_discriminator, long.passcode.value(), long.vendor_product),
            (5, 38728284, Some((4562, 32)))
        );
        let minimal = ManualPairingCode::parse("400001000000001000015").unwrap();
        assert_eq!(
            (minimal.short_discriminator, minimal.passcode.value(), minimal.vendor_product),
            (0, 1, Some((1, 1)))
        );
    }

    #[test]
    fn reads_concatenated_payloads() {
        let code = MatterCode::parse(
            "MT:M5L90MP500K64J00000*M5L90U.D010K4J00000*M5L900CM02IX4J00000*M5L908OU03-85J00000",
        )
        .unwrap();
        let MatterCode::QrCode(payloads) = &code else {
            panic!("expected a QR code");
        };
        assert_eq!(payloads.len(), 4);
        for (index, found) in (0u16..).zip(payloads) {
            let expected =
                payload((12, 1), CommissioningFlow::Standard, 1, 128 + index, 2048 + u32::from(index));
            assert_eq!(found, &expected);
        }
        assert_eq!(
            code.to_text().unwrap(),
            "MT:M5L90MP500K64J00000*M5L90U.D010K4J00000*M5L900CM02IX4J00000*M5L908OU03-85J00000"
        );
    }

    #[test]
    fn keeps_tlv_data_raw() {
        let mut with_tlv = payload((0xFFF1, 0x8000), CommissioningFlow::Standard, 2, 3840, 20202021);
        with_tlv.tlv_data = vec![0x15, 0x2C, 0x00, 0x03, b'1', b'2', b'3', 0x18];
        let text = with_tlv.to_qr_text().unwrap();
        assert!(text.starts_with("MT:Y.K9042C00KA064"));
        assert_eq!(single(&text), with_tlv);
    }

    #[test]
    fn validates_passcodes() {
        for bad in [0, 11_111_111, 12_345_678, 87_654_321, 99_999_999, 100_000_000] {
            assert_eq!(SetupPasscode::new(bad), Err(QrError::InvalidPasscode), "{bad}");
        }
        for good in [1, 20_202_021, 99_999_998] {
            assert_eq!(SetupPasscode::new(good).unwrap().value(), good);
        }
        // The SDK's own unit-test codes use passcode 123456780 (above the maximum) or 111111111.
        assert_eq!(ManualPairingCode::parse("23610875350"), Err(QrError::InvalidPasscode));
        assert_eq!(ManualPairingCode::parse("636108753545367145260"), Err(QrError::InvalidPasscode));
        assert_eq!(MatterCode::parse("MT:M5L90MP500W-GT68D20"), Err(QrError::InvalidPasscode));
    }

    #[test]
    fn rejects_malformed_manual_codes() {
        let cases = [
            ("", QrError::ManualCodeLength { digits: 0 }),
            ("2456", QrError::ManualCodeLength { digits: 4 }),
            ("3497011233", QrError::ManualCodeLength { digits: 10 }),
            ("34970112333", QrError::CheckDigitMismatch),
            ("02684354589", QrError::CheckDigitMismatch),
            ("3497O112332", QrError::ManualCodeCharacter { ch: 'O' }),
            // First digit 8 with a correct check digit.
            ("84970112331", QrError::ManualCodeFirstDigit { digit: 8 }),
            // Long-code flag on an 11-digit code, short-code flag on a 21-digit code.
            ("74970112334", QrError::ManualCodeLength { digits: 11 }),
            ("345492075300001000017", QrError::ManualCodeLength { digits: 21 }),
            // Digits 2-6 above 65535.
            ("09999900013", QrError::ManualCodeGroup),
        ];
        for (text, expected) in cases {
            assert_eq!(ManualPairingCode::parse(text), Err(expected), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_qr_codes() {
        let cases = [
            ("MT:Y.K9042C00KA0648G 0", QrError::InvalidBase38Char { ch: ' ', position: 17 }),
            ("MT:Y.K9042C00KA0648G0", QrError::InvalidBase38Chunk { chars: 3 }),
            ("MT:", QrError::MatterPayloadTooShort { bytes: 0 }),
            ("MT:Y.K9042C00KA0648G00*", QrError::MatterPayloadTooShort { bytes: 0 }),
            (
                "MT:Y.K9042C00KA0648G00*Y.K9042C00KA0648g00",
                QrError::InvalidBase38Char { ch: 'g', position: 36 },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(MatterCode::parse(text), Err(expected), "{text}");
        }
        let basic = base38::decode("Y.K9042C00KA0648G00", 0).unwrap();
        let cut_off = format!("MT:{}", base38::encode(&basic[..10]));
        assert_eq!(MatterCode::parse(&cut_off), Err(QrError::MatterPayloadTooShort { bytes: 10 }));
        let mut version_one = basic.clone();
        version_one[0] |= 1;
        let text = format!("MT:{}", base38::encode(&version_one));
        assert_eq!(
            MatterCode::parse(&text),
            Err(QrError::UnsupportedVersion { kind: KIND, version: "1".into() })
        );
        let mut reserved_flow = basic;
        reserved_flow[4] |= 0b1_1000;
        let text = format!("MT:{}", base38::encode(&reserved_flow));
        assert!(matches!(MatterCode::parse(&text), Err(QrError::InvalidField { .. })));
    }

    #[test]
    fn refuses_to_write_out_of_range_fields() {
        let mut wide = payload((1, 1), CommissioningFlow::Standard, 2, 0x1000, 20202021);
        assert!(matches!(wide.to_qr_text(), Err(QrError::InvalidField { .. })));
        assert!(matches!(wide.manual_code(), Err(QrError::InvalidField { .. })));
        wide.discriminator = 0xFFF;
        let mut code = wide.manual_code().unwrap();
        code.short_discriminator = 16;
        assert!(matches!(code.to_digits(), Err(QrError::InvalidField { .. })));
        assert!(MatterCode::QrCode(Vec::new()).to_text().is_err());
    }

    #[test]
    fn describes_capabilities_and_hides_the_passcode() {
        let caps = DiscoveryCapabilities::from_bits(6);
        assert!(caps.contains(DiscoveryCapabilities::BLE));
        assert!(caps.contains(DiscoveryCapabilities::ON_NETWORK));
        assert!(!caps.contains(DiscoveryCapabilities::SOFT_AP));
        let code = MatterCode::parse("MT:Y.K9042C00KA0648G00").unwrap();
        assert!(!format!("{code:?}").contains("20202021"));
        assert!(code.user_message().contains("Matter app"));
    }
}
