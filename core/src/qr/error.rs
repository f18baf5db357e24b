//! Why a scanned or typed onboarding code could not be read, or a code could not be made.

use super::PayloadKind;

/// A malformed onboarding code or a payload that cannot be written as one.
///
/// Messages never quote secret values (passphrases, PoPs, claim tokens, passcodes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The text is empty (or only whitespace).
    #[error("the code is empty: scan it again or type it in full")]
    Empty,
    /// The code is readable but is not a device's own setup code (e.g. a Wi-Fi network's).
    #[error("a {kind} code does not set up a device: scan the setup code printed on the device or its box")]
    NotADeviceCode {
        /// What the code is.
        kind: PayloadKind,
    },
    /// A device's setup code says it is set up over Bluetooth, not its own access point.
    #[error("{name} is set up over Bluetooth, not its own Wi-Fi access point: connect to it over Bluetooth")]
    BluetoothOnly {
        /// The device's name.
        name: String,
    },
    /// The text matches none of the formats Unbox reads.
    #[error(
        "this is not a device setup code Unbox can read: scan the setup code printed on the \
         device, its box or its manual"
    )]
    Unrecognized,
    /// An Espressif QR code is not a JSON object.
    #[error(
        "the {kind} code is not valid JSON ({detail}): it may be damaged or cut off; scan it \
         again, or ask the maker for a correct code"
    )]
    InvalidJson {
        /// The format being read.
        kind: PayloadKind,
        /// What the JSON reader objected to (position, never content).
        detail: String,
    },
    /// The code declares a format version this build does not know.
    #[error("the {kind} code uses version \"{version}\", which this app cannot read: update Unbox")]
    UnsupportedVersion {
        /// The format being read.
        kind: PayloadKind,
        /// The version the code declares.
        version: String,
    },
    /// A field the format requires is absent or empty.
    #[error(
        "the {kind} code lacks its {field}, which it needs: the code is incomplete; ask the \
         maker for a correct code or set the device up by hand"
    )]
    MissingField {
        /// The format being read.
        kind: PayloadKind,
        /// The missing field, with its meaning.
        field: &'static str,
    },
    /// A field is present but its value is unusable.
    #[error("the {kind} code's {field} is invalid ({reason}): ask the maker for a correct code")]
    InvalidField {
        /// The format being read.
        kind: PayloadKind,
        /// The field, with its meaning.
        field: &'static str,
        /// What is wrong, without quoting secret values.
        reason: String,
    },
    /// A field appears more than once, so the code is ambiguous.
    #[error(
        "the {kind} code has its {field} field more than once, so it is ambiguous: ask the maker \
         for a correct code"
    )]
    DuplicateField {
        /// The format being read.
        kind: PayloadKind,
        /// The repeated field key.
        field: String,
    },
    /// A `;`-separated part is not of the form `KEY:VALUE`.
    #[error(
        "part {index} of the {kind} code is not KEY:VALUE (a value probably contains an \
         unescaped ';'): the code was made incorrectly; ask the maker for a correct code"
    )]
    MalformedField {
        /// The format being read.
        kind: PayloadKind,
        /// 1-based position of the part.
        index: usize,
    },
    /// The text ends with a lone backslash.
    #[error(
        "the {kind} code ends inside a backslash escape: it is cut off or made incorrectly; scan \
         it again or ask the maker for a correct code"
    )]
    UnterminatedEscape {
        /// The format being read.
        kind: PayloadKind,
    },
    /// A `%` is not followed by two hex digits, or the decoded bytes are not UTF-8.
    #[error(
        "the {kind} code's {field} has broken percent-encoding: the code was made incorrectly; \
         enter the network details by hand"
    )]
    InvalidPercentEncoding {
        /// The format being read.
        kind: PayloadKind,
        /// The field, with its meaning.
        field: &'static str,
    },
    /// A Matter QR code contains a character outside `0-9 A-Z - .`.
    #[error(
        "the Matter code contains '{ch}' at position {position}, which Matter codes never \
         contain: scan it again, or type the 11- or 21-digit code printed beside it"
    )]
    InvalidBase38Char {
        /// The offending character.
        ch: char,
        /// Its 0-based position after `MT:`.
        position: usize,
    },
    /// A Base38 group has 1 or 3 characters, or encodes a value too large for its size.
    #[error(
        "the Matter code has a damaged {chars}-character group: scan it again, or type the 11- \
         or 21-digit code printed beside it"
    )]
    InvalidBase38Chunk {
        /// Length of the damaged group.
        chars: usize,
    },
    /// A Matter QR payload is shorter than the 11-byte basic payload.
    #[error(
        "the Matter code holds {bytes} bytes but a setup payload needs 11: it is cut off; scan \
         it again or type the manual pairing code"
    )]
    MatterPayloadTooShort {
        /// Decoded length.
        bytes: usize,
    },
    /// A manual pairing code has neither 11 nor 21 digits (or its first digit says the other).
    #[error(
        "a Matter manual pairing code has 11 or 21 digits and this one has {digits} (or its \
         first digit announces the other length): check that you typed every digit"
    )]
    ManualCodeLength {
        /// Number of digits typed.
        digits: usize,
    },
    /// A manual pairing code contains something other than digits, spaces and dashes.
    #[error(
        "a Matter manual pairing code contains only digits, but this one contains '{ch}': \
         retype it"
    )]
    ManualCodeCharacter {
        /// The offending character.
        ch: char,
    },
    /// A manual pairing code starts with 8 or 9.
    #[error(
        "a Matter manual pairing code starts with a digit from 0 to 7, but this one starts with \
         {digit}: check the first digit"
    )]
    ManualCodeFirstDigit {
        /// The first digit.
        digit: u8,
    },
    /// A manual pairing code has a group whose value is out of range.
    #[error("the Matter manual pairing code has an impossible digit group: retype it")]
    ManualCodeGroup,
    /// The Verhoeff check digit of a manual pairing code does not match.
    #[error(
        "the Matter manual pairing code's check digit does not match, so a digit is mistyped: \
         compare it with the printed code"
    )]
    CheckDigitMismatch,
    /// A Matter setup passcode is 0, above 99,999,998, or one of the forbidden trivial values.
    #[error(
        "the Matter setup passcode is not a valid one (1 to 99,999,998, not a trivial value such \
         as 12345678): the code is damaged or not a real Matter code"
    )]
    InvalidPasscode,
    /// A Wi-Fi Easy Connect MAC address is not 12 hex digits.
    #[error(
        "the Wi-Fi Easy Connect (DPP) code's MAC address is not 12 hex digits: ask the maker for \
         a correct code"
    )]
    InvalidMac,
    /// The text does not fit in any QR code version.
    #[error(
        "the text ({bytes} bytes) is too long for a QR code: shorten the network name, \
         passphrase or backend URL"
    )]
    TooLongForQr {
        /// Length of the text in bytes.
        bytes: usize,
    },
}
