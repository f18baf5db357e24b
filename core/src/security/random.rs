//! Fresh secret bytes from the operating system's random number generator.

use rand::TryRngCore;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::SecurityError;

/// `N` bytes straight from the OS generator, zeroized on drop.
pub(crate) fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>, SecurityError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    OsRng
        .try_fill_bytes(bytes.as_mut_slice())
        .map_err(|error| SecurityError::Randomness(error.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_differ() {
        let first = random_bytes::<32>().unwrap();
        let second = random_bytes::<32>().unwrap();
        assert_ne!(*first, *second);
    }
}
