//! The Unicode back end of the `idna` crate, reduced to ASCII: every host Unbox talks to is
//! written in ASCII (`xn--` for international names), so no Unicode tables are linked in. A label
//! holding any other character maps to U+FFFD, which `idna` reports as an invalid host; ASCII
//! capitals map to lower case, as UTS 46 maps them. No Bidi or joining rules apply to ASCII.
//!
//! The API is the one `idna` 1.1 calls (the same names as crates.io's `idna_adapter` 1.0).

#![no_std]

/// Joining types that can start a joining sequence (none in ASCII).
pub const LEFT_OR_DUAL_JOINING_MASK: JoiningTypeMask = JoiningTypeMask(0);
/// Joining types that can end a joining sequence (none in ASCII).
pub const RIGHT_OR_DUAL_JOINING_MASK: JoiningTypeMask = JoiningTypeMask(0);
/// Bidi classes that make a domain a Bidi domain (none in ASCII).
pub const RTL_MASK: BidiClassMask = BidiClassMask(0);
/// Bidi classes allowed first in a label of a Bidi domain.
pub const FIRST_BC_MASK: BidiClassMask = BidiClassMask(0);
/// Bidi classes allowed last in a left-to-right label of a Bidi domain.
pub const LAST_LTR_MASK: BidiClassMask = BidiClassMask(0);
/// Bidi classes allowed last in a right-to-left label of a Bidi domain.
pub const LAST_RTL_MASK: BidiClassMask = BidiClassMask(0);
/// Bidi classes allowed inside a left-to-right label of a Bidi domain.
pub const MIDDLE_LTR_MASK: BidiClassMask = BidiClassMask(0);
/// Bidi classes allowed inside a right-to-left label of a Bidi domain.
pub const MIDDLE_RTL_MASK: BidiClassMask = BidiClassMask(0);

/// A Joining_Type value; ASCII characters have none.
#[derive(Clone, Copy, Debug)]
pub struct JoiningType(u32);

impl JoiningType {
    /// The mask holding this joining type.
    pub fn to_mask(self) -> JoiningTypeMask {
        JoiningTypeMask(self.0)
    }

    /// Whether this is the Transparent joining type (never reached for ASCII).
    pub fn is_transparent(self) -> bool {
        false
    }
}

/// A set of joining types.
#[derive(Clone, Copy, Debug)]
pub struct JoiningTypeMask(u32);

impl JoiningTypeMask {
    /// Whether the two sets share a joining type.
    pub fn intersects(self, other: JoiningTypeMask) -> bool {
        self.0 & other.0 != 0
    }
}

/// A Bidi_Class value; no ASCII label is a Bidi label here.
#[derive(Clone, Copy, Debug)]
pub struct BidiClass(u32);

impl BidiClass {
    /// The mask holding this class.
    pub fn to_mask(self) -> BidiClassMask {
        BidiClassMask(self.0)
    }

    /// Whether this is Left_To_Right.
    pub fn is_ltr(self) -> bool {
        true
    }

    /// Whether this is Nonspacing_Mark.
    pub fn is_nonspacing_mark(self) -> bool {
        false
    }

    /// Whether this is European_Number.
    pub fn is_european_number(self) -> bool {
        false
    }

    /// Whether this is Arabic_Number.
    pub fn is_arabic_number(self) -> bool {
        false
    }
}

/// A set of Bidi classes.
#[derive(Clone, Copy, Debug)]
pub struct BidiClassMask(u32);

impl BidiClassMask {
    /// Whether the two sets share a class.
    pub fn intersects(self, other: BidiClassMask) -> bool {
        self.0 & other.0 != 0
    }
}

/// The back end `idna` asks about characters.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Adapter {}

impl Adapter {
    /// The back end (it holds no data).
    pub const fn new() -> Self {
        Self {}
    }

    /// Whether `c` has the Virama combining class (no ASCII character has).
    pub fn is_virama(&self, _c: char) -> bool {
        false
    }

    /// Whether `c` is a combining mark (no ASCII character is).
    pub fn is_mark(&self, _c: char) -> bool {
        false
    }

    /// The Bidi class of `c`.
    pub fn bidi_class(&self, _c: char) -> BidiClass {
        BidiClass(0)
    }

    /// The joining type of `c`.
    pub fn joining_type(&self, _c: char) -> JoiningType {
        JoiningType(0)
    }

    /// UTS 46 mapping and NFC of a label, for ASCII: capitals to lower case, anything else to
    /// U+FFFD (the label is then invalid).
    pub fn map_normalize<'delegate, I: Iterator<Item = char> + 'delegate>(
        &'delegate self,
        iter: I,
    ) -> impl Iterator<Item = char> + 'delegate {
        iter.map(|c| if c.is_ascii() { c.to_ascii_lowercase() } else { '\u{FFFD}' })
    }

    /// NFC of an already mapped label: ASCII is its own normal form.
    pub fn normalize_validate<'delegate, I: Iterator<Item = char> + 'delegate>(
        &'delegate self,
        iter: I,
    ) -> impl Iterator<Item = char> + 'delegate {
        iter
    }
}

#[cfg(test)]
mod tests {
    use super::Adapter;

    #[test]
    fn maps_ascii_capitals_and_refuses_everything_else() {
        let adapter = Adapter::new();
        let mapped: [char; 4] = {
            let mut out = ['\0'; 4];
            for (slot, c) in out.iter_mut().zip(adapter.map_normalize("Aé-9".chars())) {
                *slot = c;
            }
            out
        };
        assert_eq!(mapped, ['a', '\u{FFFD}', '-', '9']);
    }
}
