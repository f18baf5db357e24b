//! `KEY:VALUE;KEY:VALUE;;` lists with backslash escapes, as used by Wi-Fi codes (ZXing form)
//! and Unbox codes: a backslash makes the next character literal, an unescaped `;` ends a field,
//! the first unescaped `:` separates key and value, and a value wrapped in unescaped double
//! quotes is taken without them (so hex-looking text stays text).

use super::{PayloadKind, QrError};

/// Characters preceded by a backslash when writing.
const SPECIAL: [char; 5] = ['\\', ';', ',', '"', ':'];

/// One decoded field (no `Debug`: values may be secrets).
pub(crate) struct Field {
    /// The key in upper case.
    pub(crate) key: String,
    /// The value with escapes resolved and wrapping quotes removed.
    pub(crate) value: String,
}

/// Splits `body` (the text after the scheme prefix) into fields. Empty parts (such as the
/// final `;;`) are skipped; duplicate keys are rejected.
pub(crate) fn split(body: &str, kind: PayloadKind) -> Result<Vec<Field>, QrError> {
    let mut parts: Vec<Vec<(char, bool)>> = Vec::new();
    let mut current = Vec::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => current.push((escaped, true)),
                None => return Err(QrError::UnterminatedEscape { kind }),
            },
            ';' => parts.push(std::mem::take(&mut current)),
            other => current.push((other, false)),
        }
    }
    parts.push(current);

    let mut fields: Vec<Field> = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let colon = part
            .iter()
            .position(|&(c, escaped)| c == ':' && !escaped)
            .ok_or(QrError::MalformedField { kind, index: index + 1 })?;
        let (key_chars, rest) = part.split_at(colon);
        let key: String = key_chars.iter().map(|&(c, _)| c.to_ascii_uppercase()).collect();
        let value = unquote(rest.get(1..).unwrap_or_default());
        if fields.iter().any(|field| field.key == key) {
            return Err(QrError::DuplicateField { kind, field: key });
        }
        fields.push(Field { key, value: value.iter().map(|&(c, _)| c).collect() });
    }
    Ok(fields)
}

/// Removes a pair of unescaped double quotes around the whole value.
fn unquote(value: &[(char, bool)]) -> &[(char, bool)] {
    match value {
        [('"', false), inner @ .., ('"', false)] => inner,
        other => other,
    }
}

/// Removes the field with `key` from `fields` and returns its value.
pub(crate) fn take(fields: &mut Vec<Field>, key: &str) -> Option<String> {
    let index = fields.iter().position(|field| field.key == key)?;
    Some(fields.swap_remove(index).value)
}

/// Appends `KEY:VALUE;` to `out`, escaping the value. With `quote_hex`, a value made only of
/// hex digits is wrapped in double quotes (readers could otherwise take it for hex-encoded
/// bytes); with `encode_percent`, `%` is written as `%25` for readers that percent-decode.
pub(crate) fn push_field(out: &mut String, key: &str, value: &str, quote_hex: bool, encode_percent: bool) {
    let quoted = quote_hex && !value.is_empty() && value.chars().all(|c| c.is_ascii_hexdigit());
    out.push_str(key);
    out.push(':');
    if quoted {
        out.push('"');
    }
    for c in value.chars() {
        if encode_percent && c == '%' {
            out.push_str("%25");
            continue;
        }
        if SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
    out.push(';');
}

/// Room for a field holding `value` once escaped (at most 3 bytes per byte, plus framing), so
/// writers can allocate once and leave no copies of secrets behind in reallocated buffers.
pub(crate) fn capacity_for(key: &str, value: &str) -> usize {
    key.len() + 3 * value.len() + 4
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: PayloadKind = PayloadKind::WifiNetwork;

    fn pairs(body: &str) -> Vec<(String, String)> {
        split(body, KIND).unwrap().into_iter().map(|field| (field.key, field.value)).collect()
    }

    fn field(key: &str, value: &str) -> (String, String) {
        (key.into(), value.into())
    }

    #[test]
    fn resolves_escapes_quotes_and_case() {
        assert_eq!(
            pairs(r#"s:a\;b\\c\:d;P:"0123";X:\"ab\";Y:"";;"#),
            vec![field("S", r"a;b\c:d"), field("P", "0123"), field("X", "\"ab\""), field("Y", ""),]
        );
    }

    #[test]
    fn value_keeps_later_colons() {
        assert_eq!(pairs("B:https://x.example:8443/;;"), vec![field("B", "https://x.example:8443/")]);
    }

    #[test]
    fn reports_malformed_input() {
        let error = |body| split(body, KIND).err();
        assert_eq!(error("S:a;b;;"), Some(QrError::MalformedField { kind: KIND, index: 2 }));
        assert_eq!(error("S:a\\"), Some(QrError::UnterminatedEscape { kind: KIND }));
        assert_eq!(error("S:a;s:b;;"), Some(QrError::DuplicateField { kind: KIND, field: "S".into() }));
    }

    #[test]
    fn written_fields_split_back() {
        for value in ["plain", r#"we"ird;:,\%"#, "BEEF", "\"BEEF\"", ""] {
            let mut text = String::new();
            push_field(&mut text, "P", value, true, false);
            assert!(text.len() <= capacity_for("P", value));
            assert_eq!(pairs(&text), vec![field("P", value)]);
        }
        let written = |value, quote_hex, encode_percent| {
            let mut out = String::new();
            push_field(&mut out, "K", value, quote_hex, encode_percent);
            out
        };
        assert_eq!(written("BEEF", true, false), "K:\"BEEF\";");
        assert_eq!(written("BEEF", false, false), "K:BEEF;");
        assert_eq!(written("5%;", false, true), "K:5%25\\;;");
    }
}
