//! Public keys carried in codes as base64 DER (SAE-PK in Wi-Fi codes, `K:` in DPP URIs).

use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard base64 that accepts input with or without `=` padding and writes padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The key bytes, or `None` when the text is not base64 or decodes to nothing.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text).ok().filter(|key| !key.is_empty())
}

/// The key as padded standard base64.
pub(crate) fn encode(key: &[u8]) -> String {
    BASE64.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_padded_and_unpadded_text() {
        assert_eq!(decode("AQI="), Some(vec![1, 2]));
        assert_eq!(decode("AQI"), Some(vec![1, 2]));
        assert_eq!(encode(&[1, 2]), "AQI=");
        assert_eq!(decode(""), None);
        assert_eq!(decode("A*=="), None);
    }
}
