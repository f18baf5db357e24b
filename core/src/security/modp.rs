//! Arithmetic in the RFC 5054 / RFC 3526 3072-bit group that security 2's SRP runs in:
//! the modulus N, the generator g = 5, fixed-length encodings, and constant-time
//! exponentiation (with a precomputed comb for the fixed base g, which keeps a client
//! handshake well under 10 ms).

use std::sync::OnceLock;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Choice, CtAssign, Odd, U256, U512, U3072, Uint};

/// Length in bytes of N and of every padded group element (`PAD()` in the reference).
pub(crate) const ELEMENT_LEN: usize = 384;

/// An integer below 2^3072, the size of every group element.
pub(crate) type Wide = U3072;

/// A group element kept in Montgomery form.
pub(crate) type Element = FixedMontyForm<{ U3072::LIMBS }>;

/// N: the RFC 3526 MODP-3072 safe prime, 2^3072 − 2^3008 − 1 + 2^64·(⌊2^2942·π⌋ + 1690314).
const MODULUS_HEX: &str = concat!(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74",
    "020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437",
    "4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed",
    "ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf05",
    "98da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb",
    "9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b",
    "e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf695581718",
    "3995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33",
    "a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7",
    "abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864",
    "d87602733ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e2",
    "08e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff",
);

/// The generator g.
pub(crate) const GENERATOR: u8 = 5;

const MODULUS: Odd<U3072> = Odd::<U3072>::from_be_hex(MODULUS_HEX);
const PARAMS: FixedMontyParams<{ U3072::LIMBS }> = FixedMontyParams::new_vartime(MODULUS);

/// Rows of the fixed-base comb: 2^5 = 32 precomputed elements (12 KiB) per exponent size.
const COMB_ROWS: u32 = 5;

/// N as 384 big-endian bytes.
pub(crate) fn modulus_bytes() -> [u8; ELEMENT_LEN] {
    to_padded(MODULUS.as_ref())
}

/// PAD(g): the generator left-padded to 384 bytes.
pub(crate) fn padded_generator() -> [u8; ELEMENT_LEN] {
    let mut bytes = [0; ELEMENT_LEN];
    bytes[ELEMENT_LEN - 1] = GENERATOR;
    bytes
}

/// Reads a big-endian integer of at most 384 bytes (shorter inputs are left-padded).
/// Returns `None` when the input is longer.
pub(crate) fn from_be(bytes: &[u8]) -> Option<Wide> {
    let start = ELEMENT_LEN.checked_sub(bytes.len())?;
    let mut padded = [0; ELEMENT_LEN];
    padded[start..].copy_from_slice(bytes);
    Some(Wide::from_be_slice(&padded))
}

/// The 384-byte big-endian encoding of an integer below 2^3072.
pub(crate) fn to_padded(value: &Wide) -> [u8; ELEMENT_LEN] {
    let mut bytes = [0; ELEMENT_LEN];
    bytes.copy_from_slice(value.to_be_bytes().as_ref());
    bytes
}

/// The minimal big-endian encoding (leading zero bytes removed; zero encodes as empty).
pub(crate) fn to_minimal(padded: &[u8; ELEMENT_LEN]) -> &[u8] {
    let first = padded.iter().position(|&b| b != 0).unwrap_or(ELEMENT_LEN);
    &padded[first..]
}

/// The group element `value mod N`.
pub(crate) fn element(value: &Wide) -> Element {
    Element::new(value, &PARAMS)
}

/// Whether an element is 0 mod N.
pub(crate) fn is_zero(value: &Element) -> bool {
    value.retrieve() == Wide::ZERO
}

/// g^exponent mod N in constant time, for exponents of up to 256 bits.
pub(crate) fn generator_pow_256(exponent: &U256) -> Element {
    static TABLE: OnceLock<GeneratorComb> = OnceLock::new();
    TABLE.get_or_init(|| GeneratorComb::new(256)).pow(exponent)
}

/// g^exponent mod N in constant time, for exponents of up to 512 bits.
pub(crate) fn generator_pow_512(exponent: &U512) -> Element {
    static TABLE: OnceLock<GeneratorComb> = OnceLock::new();
    TABLE.get_or_init(|| GeneratorComb::new(512)).pow(exponent)
}

/// Lim–Lee comb for the fixed base g: the exponent's bits are laid out in `COMB_ROWS` rows
/// of `columns` bits, and `table[i]` holds the product of g^(2^(row·columns)) over the rows
/// set in `i`. An exponentiation then costs `columns` squarings and multiplications instead
/// of one squaring per exponent bit. Table lookups scan every entry (constant time).
struct GeneratorComb {
    columns: u32,
    table: Vec<Element>,
}

impl GeneratorComb {
    fn new(exponent_bits: u32) -> Self {
        let columns = exponent_bits.div_ceil(COMB_ROWS);
        let mut row_bases = Vec::with_capacity(COMB_ROWS as usize);
        let mut base = element(&Wide::from_u8(GENERATOR));
        for _ in 0..COMB_ROWS {
            row_bases.push(base);
            for _ in 0..columns {
                base = base.square();
            }
        }
        let mut table = Vec::with_capacity(1 << COMB_ROWS);
        table.push(Element::one(&PARAMS));
        for index in 1..(1usize << COMB_ROWS) {
            let lowest_row = index.trailing_zeros() as usize;
            let rest = table[index & (index - 1)];
            table.push(rest * row_bases[lowest_row]);
        }
        Self { columns, table }
    }

    fn pow<const LIMBS: usize>(&self, exponent: &Uint<LIMBS>) -> Element {
        let mut acc = Element::one(&PARAMS);
        for column in (0..self.columns).rev() {
            acc = acc.square();
            let mut index = 0u32;
            for row in 0..COMB_ROWS {
                let position = row * self.columns + column;
                if position < Uint::<LIMBS>::BITS {
                    index |= u32::from(exponent.bit(position).to_u8()) << row;
                }
            }
            let mut selected = Element::one(&PARAMS);
            for (candidate, entry) in (0u32..).zip(&self.table) {
                selected.ct_assign(entry, Choice::from_u32_eq(candidate, index));
            }
            acc *= selected;
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_is_the_rfc_3526_prime() {
        let bytes = modulus_bytes();
        assert_eq!(hex::encode(&bytes[..8]), "ffffffffffffffff");
        assert_eq!(hex::encode(&bytes[8..16]), "c90fdaa22168c234");
        assert_eq!(hex::encode(&bytes[376..]), "ffffffffffffffff");
    }

    #[test]
    fn comb_matches_plain_exponentiation() {
        let g = element(&Wide::from_u8(GENERATOR));
        let exponents_256 = [U256::ZERO, U256::ONE, U256::MAX, U256::from_u64(0xdead_beef)];
        for e in exponents_256 {
            assert_eq!(generator_pow_256(&e), g.pow(&e));
        }
        let exponents_512 = [U512::ONE, U512::MAX, U512::MAX.shr_vartime(3)];
        for e in exponents_512 {
            assert_eq!(generator_pow_512(&e), g.pow(&e));
        }
    }

    #[test]
    fn encodings_round_trip() {
        assert_eq!(from_be(&[]), Some(Wide::ZERO));
        assert_eq!(from_be(&[1, 0]), Some(Wide::from_u16(256)));
        assert_eq!(from_be(&[0; ELEMENT_LEN + 1]), None);
        let padded = to_padded(&Wide::from_u16(0x0102));
        assert_eq!(to_minimal(&padded), &[1, 2]);
        assert_eq!(to_minimal(&[0; ELEMENT_LEN]), &[] as &[u8]);
    }

    #[test]
    fn multiples_of_n_are_zero() {
        assert!(is_zero(&element(MODULUS.as_ref())));
        assert!(!is_zero(&element(&Wide::ONE)));
    }
}
