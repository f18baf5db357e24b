//! RFC 4180 CSV rows, as Python's `csv` module (which ESP-IDF's NVS partition generator uses)
//! reads them: a field with a comma, a quote or a line break is quoted, its quotes doubled.

/// Appends one row of `fields` and a line feed to `out`.
pub(super) fn push_row(out: &mut String, fields: &[&str]) {
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_fields_that_need_it() {
        let mut out = String::new();
        push_row(&mut out, &["plain", "a,b", r#"{"k":"v"}"#, ""]);
        assert_eq!(out, "plain,\"a,b\",\"{\"\"k\"\":\"\"v\"\"}\",\n");
    }
}
