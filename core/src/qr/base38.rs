//! Matter's Base38: bytes in little-endian groups of 3 (a 2- or 1-byte tail allowed), each
//! group written as 5 (4, 2) digits over `0-9A-Z-.`, least significant digit first.

use super::QrError;

const ALPHABET: &[u8; 38] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-.";
const RADIX: u32 = 38;

/// Characters written for a group of 1, 2 or 3 bytes.
fn chars_for(bytes: usize) -> usize {
    match bytes {
        1 => 2,
        2 => 4,
        _ => 5,
    }
}

/// Encodes bytes as Base38 text.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 5);
    for group in bytes.chunks(3) {
        let mut value = group.iter().rev().fold(0u32, |value, &byte| value << 8 | u32::from(byte));
        for _ in 0..chars_for(group.len()) {
            let digit = value % RADIX;
            value /= RADIX;
            if let Some(&symbol) = usize::try_from(digit).ok().and_then(|d| ALPHABET.get(d)) {
                out.push(char::from(symbol));
            }
        }
    }
    out
}

/// Decodes Base38 text; `offset` is added to reported character positions.
pub(crate) fn decode(text: &str, offset: usize) -> Result<Vec<u8>, QrError> {
    let mut digits = Vec::with_capacity(text.len());
    for (position, ch) in text.chars().enumerate() {
        let digit = u8::try_from(ch)
            .ok()
            .and_then(|byte| ALPHABET.iter().position(|&symbol| symbol == byte))
            .and_then(|digit| u32::try_from(digit).ok())
            .ok_or(QrError::InvalidBase38Char { ch, position: offset + position })?;
        digits.push(digit);
    }
    let mut bytes = Vec::with_capacity(digits.len() / 5 * 3 + 2);
    for group in digits.chunks(5) {
        let byte_count = match group.len() {
            5 => 3,
            4 => 2,
            2 => 1,
            chars => return Err(QrError::InvalidBase38Chunk { chars }),
        };
        let value = group.iter().rev().fold(0u32, |value, &digit| value * RADIX + digit);
        if value >> (8 * byte_count) != 0 {
            return Err(QrError::InvalidBase38Chunk { chars: group.len() });
        }
        bytes.extend(value.to_le_bytes().iter().take(byte_count));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors from the Matter SDK's Base38 tests.
    #[test]
    fn matches_the_sdk_vectors() {
        let cases: [(&[u8], &str); 10] = [
            (&[10], "A0"),
            (&[10, 10], "OT10"),
            (&[10, 10, 10], "-N.B0"),
            (&[10, 10, 0], "OT100"),
            (&[10, 10, 40], "Y6V91"),
            (&[10, 10, 255], "Q-M08"),
            (&[255], "R6"),
            (&[255, 255], "NE71"),
            (&[255, 255, 255], "PLS18"),
            (b"Hello World!", "KKHF3W2S013OPM3EJX11"),
        ];
        for (bytes, text) in cases {
            assert_eq!(encode(bytes), text);
            assert_eq!(decode(text, 0).unwrap(), bytes);
        }
        assert_eq!(decode("", 0).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn rejects_overflowing_groups_and_bad_lengths() {
        for (text, chars) in [("S6", 2), ("OE71", 4), ("QLS18", 5), ("A", 1), ("A0000A", 1), ("AB0", 3)] {
            assert_eq!(decode(text, 0), Err(QrError::InvalidBase38Chunk { chars }), "{text}");
        }
        assert_eq!(decode("S600", 0).unwrap(), vec![0, 1]);
        assert_eq!(decode("OE710", 0).unwrap(), vec![0, 0, 1]);
    }

    #[test]
    fn rejects_characters_outside_the_alphabet() {
        for (text, ch) in [("0[", '['), ("a0", 'a'), (" 0", ' '), ("0é", 'é'), ("*0", '*')] {
            let position = text.chars().position(|c| c == ch).unwrap() + 3;
            assert_eq!(decode(text, 3), Err(QrError::InvalidBase38Char { ch, position }));
        }
    }
}
