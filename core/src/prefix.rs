//! Name-prefix matching, the one rule for BLE local names and SoftAP SSIDs: ASCII case is ignored,
//! because ESP firmware writes the hex suffix of `PROV_1A2B3C` in either case.

/// Whether `text` starts with any of `prefixes`, ignoring ASCII case; true when there are none.
pub(crate) fn matches_any_prefix(text: &str, prefixes: &[String]) -> bool {
    prefixes.is_empty() || prefixes.iter().any(|prefix| has_prefix_ignore_ascii_case(text, prefix))
}

/// Whether `text` starts with `prefix`, ignoring ASCII case.
pub(crate) fn has_prefix_ignore_ascii_case(text: &str, prefix: &str) -> bool {
    text.as_bytes().get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_ignoring_ascii_case_and_never_split_characters() {
        let prefixes = vec!["PROV_".to_owned()];
        assert!(matches_any_prefix("PROV_1A2B3C", &prefixes));
        assert!(matches_any_prefix("prov_1a2b3c", &prefixes));
        assert!(!matches_any_prefix("PRO", &prefixes));
        assert!(!matches_any_prefix("MyLamp", &prefixes));
        assert!(!matches_any_prefix("PR\u{d6}V_1", &prefixes));
        assert!(matches_any_prefix("anything", &[]));
        assert!(has_prefix_ignore_ascii_case("\u{e9}", ""));
        assert!(!has_prefix_ignore_ascii_case("\u{e9}a", "\u{e9}b"));
    }
}
