//! Validates the redirect that ends the browser step: it must arrive at this sign-in's redirect
//! URI, come from the expected issuer (RFC 9207), carry this attempt's `state`, and hold either a
//! code or an error.

use std::collections::HashMap;

use url::Url;

use crate::secret::SecretString;

use super::error::{CallbackError, provider_text};

/// What a callback must match.
pub(crate) struct ExpectedCallback<'a> {
    /// The redirect URI sent in the authorization request.
    pub redirect_uri: &'a Url,
    /// The `state` sent in the authorization request.
    pub state: &'a str,
    /// The provider's issuer, when known.
    pub issuer: Option<&'a str>,
    /// Whether the provider promised to send `iss`.
    pub issuer_required: bool,
}

/// Extracts the authorization code from `callback`, or says why the response is unacceptable.
pub(crate) fn authorization_code(
    callback: &str,
    expected: &ExpectedCallback<'_>,
) -> Result<SecretString, CallbackError> {
    let url = Url::parse(callback).map_err(|error| CallbackError::Malformed { reason: error.to_string() })?;
    let same_address = url.scheme() == expected.redirect_uri.scheme()
        && url.host() == expected.redirect_uri.host()
        && url.port_or_known_default() == expected.redirect_uri.port_or_known_default()
        && url.path() == expected.redirect_uri.path();
    if !same_address {
        return Err(CallbackError::WrongRedirect);
    }
    let mut params: HashMap<String, SecretString> = HashMap::new();
    for (name, value) in url.query_pairs() {
        if params.insert(name.to_string(), SecretString::new(value.into_owned())).is_some() {
            return Err(CallbackError::Malformed {
                reason: format!("parameter `{name}` appears more than once"),
            });
        }
    }
    let text = |name: &str| params.get(name).map(|value| provider_text(value.expose()));
    match (params.get("iss"), expected.issuer) {
        (Some(received), Some(issuer)) if received.expose() != issuer => {
            return Err(CallbackError::IssuerMismatch {
                expected: issuer.to_owned(),
                received: provider_text(received.expose()),
            });
        }
        (None, _) if expected.issuer_required => return Err(CallbackError::MissingIssuer),
        _ => {}
    }
    let state_matches = params
        .get("state")
        .is_some_and(|state| constant_time_eq(state.expose().as_bytes(), expected.state.as_bytes()));
    if !state_matches {
        return Err(CallbackError::StateMismatch);
    }
    if let Some(error) = text("error") {
        let description = text("error_description");
        return Err(if error == "access_denied" {
            CallbackError::Denied { description }
        } else {
            CallbackError::Provider { error, description }
        });
    }
    match params.remove("code") {
        Some(code) if !code.is_empty() => Ok(code),
        _ => Err(CallbackError::MissingCode),
    }
}

/// Whether `callback`, a redirect an agent received, answers the sign-in that
/// `authorization_url` started: it carries that request's `state`. Any local process (the
/// desktop's loopback port) or app (Android's exported redirect activity) can send a callback,
/// so agents ignore one that fails this check and keep waiting for the real one, instead of
/// letting it end the sign-in. The client still checks the chosen callback in full.
pub fn answers_authorization(authorization_url: &str, callback: &str) -> bool {
    let state_of = |text: &str| {
        let url = Url::parse(text).ok()?;
        let mut states =
            url.query_pairs().filter(|(name, _)| name == "state").map(|(_, value)| value.into_owned());
        match (states.next(), states.next()) {
            (Some(state), None) if !state.is_empty() => Some(SecretString::new(state)),
            _ => None,
        }
    };
    match (state_of(authorization_url), state_of(callback)) {
        (Some(sent), Some(received)) => {
            constant_time_eq(received.expose().as_bytes(), sent.expose().as_bytes())
        }
        _ => false,
    }
}

/// Compares without returning early, so the time taken reveals nothing about `expected`.
fn constant_time_eq(received: &[u8], expected: &[u8]) -> bool {
    received.len() == expected.len()
        && received.iter().zip(expected).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(callback: &str) -> Result<SecretString, CallbackError> {
        let redirect = Url::parse("http://127.0.0.1:5000/callback").unwrap();
        authorization_code(
            callback,
            &ExpectedCallback {
                redirect_uri: &redirect,
                state: "st4te",
                issuer: Some("https://idp.example"),
                issuer_required: true,
            },
        )
    }

    #[test]
    fn accepts_a_matching_response() {
        let code =
            check("http://127.0.0.1:5000/callback?code=c0de&state=st4te&iss=https%3A%2F%2Fidp.example");
        assert_eq!(code.unwrap().expose(), "c0de");
    }

    #[test]
    fn rejects_responses_of_other_attempts_or_issuers() {
        let iss = "iss=https%3A%2F%2Fidp.example";
        assert_eq!(
            check(&format!("http://127.0.0.1:5000/callback?code=c&state=other&{iss}")),
            Err(CallbackError::StateMismatch)
        );
        assert_eq!(
            check(&format!("http://127.0.0.1:5000/callback?code=c&{iss}")),
            Err(CallbackError::StateMismatch)
        );
        assert_eq!(
            check("http://127.0.0.1:5000/callback?code=c&state=st4te&iss=https%3A%2F%2Fevil.example"),
            Err(CallbackError::IssuerMismatch {
                expected: "https://idp.example".into(),
                received: "https://evil.example".into()
            })
        );
        assert_eq!(
            check("http://127.0.0.1:5000/callback?code=c&state=st4te"),
            Err(CallbackError::MissingIssuer)
        );
        assert_eq!(
            check(&format!("http://127.0.0.1:5001/callback?code=c&state=st4te&{iss}")),
            Err(CallbackError::WrongRedirect)
        );
        assert_eq!(
            check(&format!("http://127.0.0.1:5000/other?code=c&state=st4te&{iss}")),
            Err(CallbackError::WrongRedirect)
        );
        assert!(matches!(
            check(&format!("http://127.0.0.1:5000/callback?code=a&code=b&state=st4te&{iss}")),
            Err(CallbackError::Malformed { .. })
        ));
        assert!(matches!(check("::"), Err(CallbackError::Malformed { .. })));
    }

    #[test]
    fn reports_provider_errors_and_missing_codes() {
        let iss = "iss=https%3A%2F%2Fidp.example";
        assert_eq!(
            check(&format!(
                "http://127.0.0.1:5000/callback?error=access_denied&error_description=No+thanks&state=st4te&{iss}"
            )),
            Err(CallbackError::Denied { description: Some("No thanks".into()) })
        );
        assert_eq!(
            check(&format!("http://127.0.0.1:5000/callback?error=invalid_scope&state=st4te&{iss}")),
            Err(CallbackError::Provider { error: "invalid_scope".into(), description: None })
        );
        assert_eq!(
            check(&format!("http://127.0.0.1:5000/callback?state=st4te&{iss}")),
            Err(CallbackError::MissingCode)
        );
        assert_eq!(
            check(&format!("http://127.0.0.1:5000/callback?code=&state=st4te&{iss}")),
            Err(CallbackError::MissingCode)
        );
    }

    #[test]
    fn constant_time_comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}

#[cfg(test)]
mod answer_tests {
    use super::answers_authorization;

    #[test]
    fn a_callback_answers_only_the_sign_in_with_its_state() {
        let request = "https://idp.example/authorize?client_id=app&state=s3cr3t&code_challenge=x";
        assert!(answers_authorization(request, "http://127.0.0.1:5/callback?code=c&state=s3cr3t"));
        assert!(answers_authorization(request, "dev.unbox.app:/oauth?error=access_denied&state=s3cr3t"));
        for forged in [
            "http://127.0.0.1:5/callback?code=c&state=guess",
            "http://127.0.0.1:5/callback?code=c",
            "http://127.0.0.1:5/callback?code=c&state=s3cr3t&state=s3cr3t",
            "http://127.0.0.1:5/callback?code=c&state=",
            "not a url",
        ] {
            assert!(!answers_authorization(request, forged), "{forged}");
        }
        assert!(!answers_authorization(
            "https://idp.example/authorize",
            "http://127.0.0.1:5/callback?state="
        ));
    }
}

/// Hosts that tripped a debug assertion of the IDNA back end inside `Url::parse` (an upper-case
/// ASCII letter beside non-ASCII, raw or percent-encoded): every place a stranger's URL enters
/// answers a typed error, in debug builds too (these tests run unoptimised, assertions on).
#[cfg(test)]
mod hostile_host_tests {
    use super::{ExpectedCallback, answers_authorization, authorization_code};
    use crate::auth::ProviderMetadata;

    const HOSTILE: [&str; 5] =
        ["http://A%87/", "http://Qé/", "http:/Xé", "http://A%C3%A9/", "https://Bé.example/x"];

    #[test]
    fn hostile_hosts_are_typed_errors_everywhere() {
        let redirect_uri = url::Url::parse("http://127.0.0.1:5/callback").unwrap();
        let expected = ExpectedCallback {
            redirect_uri: &redirect_uri,
            state: "s",
            issuer: None,
            issuer_required: false,
        };
        for url in HOSTILE {
            assert!(url::Url::parse(url).is_err(), "{url}");
            // The authorization callback, as the agent and the client see it.
            let callback = format!("{url}?code=c&state=s");
            assert!(!answers_authorization("https://idp.example/authorize?state=s", &callback), "{url}");
            assert!(authorization_code(&callback, &expected).is_err(), "{url}");
            // A discovery document's endpoints and issuer.
            assert!(ProviderMetadata::new(url, "https://idp.example/token", false).is_err(), "{url}");
            assert!(ProviderMetadata::new("https://idp.example/a", url, true).is_err(), "{url}");
            // A scanned code naming a backend.
            let code = format!("UNBOX:1;B:{url};;");
            assert!(crate::qr::parse(&code).is_err(), "{code}");
        }
    }
}
