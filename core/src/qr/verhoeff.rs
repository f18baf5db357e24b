//! The Verhoeff check digit (base 10) that ends Matter manual pairing codes.

/// Multiplication table of the dihedral group D5.
const MULTIPLY: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

/// Position-dependent permutations.
const PERMUTE: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Group inverses.
const INVERSE: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

/// Folds digits (0..=9, most significant first) starting at permutation `shift`.
fn fold(digits: &[u8], shift: usize) -> u8 {
    digits.iter().rev().enumerate().fold(0, |check, (index, &digit)| {
        let permuted = PERMUTE[(index + shift) % 8][usize::from(digit % 10)];
        MULTIPLY[usize::from(check % 10)][usize::from(permuted)]
    })
}

/// The check digit to append to `digits` (each 0..=9).
pub(crate) fn check_digit(digits: &[u8]) -> u8 {
    INVERSE[usize::from(fold(digits, 1) % 10)]
}

/// Whether `digits` (each 0..=9) end in a correct check digit.
pub(crate) fn is_valid(digits: &[u8]) -> bool {
    !digits.is_empty() && fold(digits, 0) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(text: &str) -> Vec<u8> {
        text.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn computes_known_check_digits() {
        // Textbook example, and the Matter SDK's example manual code 3497011233-2.
        assert_eq!(check_digit(&digits("236")), 3);
        assert_eq!(check_digit(&digits("3497011233")), 2);
        assert!(is_valid(&digits("2363")));
        assert!(is_valid(&digits("34970112332")));
    }

    #[test]
    fn detects_single_errors_and_transpositions() {
        let good = digits("34970112332");
        for index in 0..good.len() {
            let mut typo = good.clone();
            typo[index] = (typo[index] + 1) % 10;
            assert!(!is_valid(&typo), "typo at {index}");
        }
        let mut swapped = good.clone();
        swapped.swap(1, 2);
        assert!(!is_valid(&swapped));
        assert!(!is_valid(&[]));
    }
}
