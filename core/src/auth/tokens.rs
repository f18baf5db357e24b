//! The tokens of one sign-in and how they are kept in a [`crate::platform::secret_store::SecretStore`].

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::secret::SecretString;

use crate::platform::clock::unix_seconds;

/// The tokens of one sign-in. `Debug` shows no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// Bearer token for the backend.
    pub access_token: SecretString,
    /// Token to renew the access token without the person, if the provider issued one.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, if the provider said.
    pub expires_at: Option<SystemTime>,
    /// The OpenID Connect ID token, if the `openid` scope was granted.
    pub id_token: Option<SecretString>,
    /// The scopes granted, if the provider said.
    pub scopes: Vec<String>,
}

impl TokenSet {
    /// Whether the access token has expired at `now` or will within `skew`. Tokens without a
    /// known expiry are taken as valid.
    pub fn expires_within(&self, now: SystemTime, skew: Duration) -> bool {
        self.expires_at
            .is_some_and(|expires_at| now.checked_add(skew).is_none_or(|limit| expires_at <= limit))
    }

    /// Whether the access token has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_within(now, Duration::ZERO)
    }

    /// The tokens as stored: a JSON object, written straight into a zeroized buffer.
    pub(crate) fn to_stored(&self) -> SecretString {
        let stored = StoredTokens {
            access_token: Cow::Borrowed(self.access_token.expose()),
            refresh_token: self.refresh_token.as_ref().map(|token| Cow::Borrowed(token.expose())),
            expires_at: self.expires_at.map(unix_seconds),
            id_token: self.id_token.as_ref().map(|token| Cow::Borrowed(token.expose())),
            scopes: self.scopes.clone(),
        };
        let secrets_len = self.access_token.expose().len()
            + self.refresh_token.as_ref().map_or(0, |token| token.expose().len())
            + self.id_token.as_ref().map_or(0, |token| token.expose().len());
        // Reserve enough that serialising never reallocates (which would leave copies behind).
        let mut buffer = zeroize::Zeroizing::new(Vec::with_capacity(2 * secrets_len + 512));
        if serde_json::to_writer(&mut *buffer, &stored).is_err() {
            // Serialising strings and numbers into memory cannot fail; stay safe regardless.
            return SecretString::default();
        }
        let text = String::from_utf8(std::mem::take(&mut *buffer)).unwrap_or_default();
        SecretString::new(text)
    }

    /// Reads tokens written by [`Self::to_stored`].
    pub(crate) fn from_stored(stored: &SecretString) -> Option<Self> {
        let stored: StoredTokens<'_> = serde_json::from_str(stored.expose()).ok()?;
        if stored.access_token.is_empty() {
            return None;
        }
        Some(Self {
            access_token: SecretString::new(stored.access_token.into_owned()),
            refresh_token: stored.refresh_token.map(|token| SecretString::new(token.into_owned())),
            expires_at: stored
                .expires_at
                .and_then(|seconds| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))),
            id_token: stored.id_token.map(|token| SecretString::new(token.into_owned())),
            scopes: stored.scopes,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct StoredTokens<'a> {
    #[serde(borrow)]
    access_token: Cow<'a, str>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    id_token: Option<Cow<'a, str>>,
    #[serde(default)]
    scopes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> TokenSet {
        TokenSet {
            access_token: SecretString::new("access-\"quoted\""),
            refresh_token: Some(SecretString::new("rt-secret-value")),
            expires_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            id_token: None,
            scopes: vec!["openid".into(), "devices".into()],
        }
    }

    #[test]
    fn stored_form_round_trips() {
        let original = tokens();
        let stored = original.to_stored();
        assert_eq!(TokenSet::from_stored(&stored), Some(original));
    }

    #[test]
    fn unreadable_stored_form_is_rejected() {
        assert_eq!(TokenSet::from_stored(&SecretString::new("not json")), None);
        assert_eq!(TokenSet::from_stored(&SecretString::new(r#"{"access_token":""}"#)), None);
    }

    #[test]
    fn expiry_honours_the_skew() {
        let set = tokens();
        let expiry = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let minute = Duration::from_secs(60);
        assert!(!set.expires_within(expiry - 2 * minute, minute));
        assert!(set.expires_within(expiry - minute / 2, minute));
        assert!(!set.is_expired(expiry - minute / 2));
        assert!(set.is_expired(expiry));
        assert!(set.expires_within(expiry, Duration::MAX));
        let no_expiry = TokenSet { expires_at: None, ..tokens() };
        assert!(!no_expiry.expires_within(expiry + minute, minute));
    }

    #[test]
    fn debug_hides_tokens() {
        let shown = format!("{:?}", tokens());
        assert!(!shown.contains("access-"));
        assert!(!shown.contains("rt-secret-value"));
    }
}
