//! The few HTML pages a person sees at the simulated provider.

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em;max-width:40em\">{body}</body></html>",
        escape(title)
    )
}

/// Asks the person to approve or deny `client_id` access for `scopes` as `user`.
pub(crate) fn consent(request_id: &str, client_id: &str, scopes: &[String], user: &str) -> String {
    let scopes = if scopes.is_empty() { "basic access".to_owned() } else { scopes.join(", ") };
    page(
        "Unbox simulator: sign in",
        &format!(
            "<h1>Allow {client} to access your account?</h1>\
             <p>Signed in as <strong>{user}</strong>. Requested: {scopes}.</p>\
             <form method=\"post\" action=\"authorize/decision\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{request_id}\">\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
            client = escape(client_id),
            user = escape(user),
            scopes = escape(&scopes),
            request_id = escape(request_id),
        ),
    )
}

/// Explains an authorization request that cannot be answered with a redirect (unknown client or
/// redirect URI, RFC 6749 §4.1.2.1).
pub(crate) fn error(message: &str) -> String {
    page(
        "Unbox simulator: sign-in error",
        &format!(
            "<h1>Sign-in error</h1><p>{}</p><p>Close this window and contact the app's developer.</p>",
            escape(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_page_escapes_and_offers_both_choices() {
        let html = consent("req-1", "<script>", &["openid".into()], "alice@example.com");
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("name=\"request_id\" value=\"req-1\""));
        assert!(html.contains("value=\"approve\"") && html.contains("value=\"deny\""));
        assert!(error("bad \"uri\"").contains("bad &quot;uri&quot;"));
    }
}
