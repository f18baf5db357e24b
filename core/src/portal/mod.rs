//! Captive-portal devices: WiFiManager-style firmware (tzapu/WiFiManager, ESPAsyncWiFiManager)
//! that opens an access point, often without a password, and serves a web form at
//! `192.168.4.1`. The phone joins the access point, reads the Wi-Fi page (the networks the
//! device scanned and the form's fields), posts `s`, `p` and the app's custom parameters to
//! `/wifisave` and leaves. The firmware answers "saved" before it tries the network and never
//! reports the outcome; on success it shuts its portal and access point down.
//!
//! The form travels as cleartext HTTP with no authentication: anyone in range of the access
//! point can read the Wi-Fi password and any claim token in it.

mod client;
mod page;

use std::time::Duration;

pub use client::{DEFAULT_PORTAL_ADDRESS, PortalClient, SAVE_PATH, WIFI_PAGE, WIFI_PAGE_NO_SCAN};
pub use page::{PageError, PortalField, PortalNetwork, PortalPage, parse_page};

use crate::UserAction;
use crate::secret::SecretString;

/// The form fields WiFiManager itself reads on `/wifisave`: SSID, password and the static IP
/// configuration (`WiFiManager.cpp` `handleWifiSave`); a custom parameter cannot use them.
pub const RESERVED_FIELDS: [&str; 6] = ["s", "p", "ip", "gw", "sn", "dns"];

/// A custom parameter the app fills in the portal's form (a `WiFiManagerParameter` by its id).
#[derive(Debug, Clone)]
pub struct PortalParameter {
    /// The parameter's id, the form field's name.
    pub id: String,
    /// Its value (redacted in logs: it may be a key or a password).
    pub value: SecretString,
}

/// Why talking to a captive portal failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortalError {
    /// No connection to the portal's web server.
    #[error(
        "could not reach the setup portal at {address}: {reason}; check that the phone is on the device's access point"
    )]
    Unreachable {
        /// Where the portal was expected.
        address: String,
        /// What the system said.
        reason: String,
    },
    /// The portal did not answer in time.
    #[error("the setup portal did not answer `{path}` within {after:?}; move closer to the device and retry")]
    Timeout {
        /// The page asked for.
        path: String,
        /// The time limit.
        after: Duration,
    },
    /// The connection broke or the reply is not HTTP.
    #[error("the setup portal broke the connection during `{path}`; retry")]
    Broken {
        /// The page asked for.
        path: String,
    },
    /// The reply is larger than any portal page.
    #[error("the setup portal's reply to `{path}` is larger than {limit} bytes; this is not a device portal")]
    TooLarge {
        /// The page asked for.
        path: String,
        /// The bound.
        limit: usize,
    },
    /// The server redirected (a captive portal sends other hosts to its own address).
    #[error("the server redirected `{path}` to `{location}`; give the portal's own address (192.168.4.1:80)")]
    Redirected {
        /// The page asked for.
        path: String,
        /// Where it pointed.
        location: String,
    },
    /// The firmware does not serve this page.
    #[error("the setup portal has no `{0}` page")]
    NoSuchPage(String),
    /// Any other HTTP status.
    #[error("the setup portal answered HTTP {status} on `{path}`")]
    HttpStatus {
        /// The page asked for.
        path: String,
        /// The status.
        status: u16,
    },
    /// The Wi-Fi page is not what WiFiManager-style firmware serves.
    #[error("the setup portal's `{path}` page is unreadable: {error}")]
    Page {
        /// The page.
        path: String,
        /// What is wrong with it.
        error: PageError,
    },
    /// The app names a parameter the firmware's form does not declare (it would be dropped).
    #[error(
        "the device's setup form has no `{0}` field; check the parameter ids against the firmware's WiFiManagerParameter ids"
    )]
    UndeclaredParameter(String),
    /// A value is longer than the field the firmware declares (it would be cut silently).
    #[error("the value for `{name}` is {len} characters but the device keeps only {max}")]
    ValueTooLong {
        /// The field.
        name: String,
        /// The value's length in characters.
        len: usize,
        /// The field's `maxlength`.
        max: usize,
    },
    /// A claim binding was asked without the device's id (which the portal cannot report) or
    /// without the form field of the link code.
    #[error(
        "linking a setup-portal device to an account needs its device id (from its label or code, \
         the portal cannot report it) and the firmware's claim field; give both, or onboard in \
         Wi-Fi-only mode"
    )]
    ClaimDetailsNeeded,
    /// A claim binding was asked of a firmware whose form has no claim field.
    #[error(
        "the device's setup form has no `{0}` field for the link code, so its firmware cannot be linked \
         to an account; onboard it in Wi-Fi-only mode"
    )]
    NoClaimField(String),
    /// A parameter uses a field WiFiManager reads itself.
    #[error(
        "`{0}` is one of WiFiManager's own fields (s, p, ip, gw, sn, dns); give the parameter another id"
    )]
    ReservedParameter(String),
}

impl PortalError {
    /// Whether retrying can help without the person doing something first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Timeout { .. } | Self::Broken { .. } => true,
            Self::HttpStatus { status, .. } => *status >= 500,
            Self::Page { error, .. } => *error == PageError::Truncated,
            _ => false,
        }
    }

    /// What the app should offer.
    pub fn user_action(&self) -> UserAction {
        match self {
            Self::Unreachable { .. } | Self::Timeout { .. } | Self::Broken { .. } => UserAction::MoveCloser,
            Self::Page { error: PageError::Truncated, .. } => UserAction::Retry,
            Self::HttpStatus { status, .. } if *status >= 500 => UserAction::Retry,
            _ => UserAction::ContactSupport,
        }
    }
}

/// Checks the form to post against the fields the firmware declares (when its page was read):
/// every named field exists and no value is longer than the field keeps; custom parameters
/// never use WiFiManager's own fields.
pub fn check_form(page: Option<&PortalPage>, fields: &[(&str, &SecretString)]) -> Result<(), PortalError> {
    for (index, (name, value)) in fields.iter().enumerate() {
        // The first two are `s` and `p`, WiFiManager's own.
        if index >= 2 && RESERVED_FIELDS.contains(name) {
            return Err(PortalError::ReservedParameter((*name).to_owned()));
        }
        let Some(page) = page else { continue };
        let field = page.field(name).ok_or_else(|| PortalError::UndeclaredParameter((*name).to_owned()))?;
        let len = value.expose().chars().count();
        if let Some(max) = field.max_len.filter(|max| len > *max) {
            return Err(PortalError::ValueTooLong { name: (*name).to_owned(), len, max });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PortalPage {
        parse_page(
            "<form action='wifisave'><input name='s' maxlength='32'><input name='p' maxlength='64'>\
             <input id='claim' name='claim' maxlength='8'><input id='mqtt' name='mqtt'></form>",
        )
        .unwrap()
    }

    #[test]
    fn the_form_is_checked_against_the_declared_fields() {
        let (ssid, pass, short, long) = (
            SecretString::from("HomeNet"),
            SecretString::from("secret12"),
            SecretString::from("12345678"),
            SecretString::from("123456789"),
        );
        let page = page();
        assert_eq!(
            check_form(Some(&page), &[("s", &ssid), ("p", &pass), ("claim", &short), ("mqtt", &long)]),
            Ok(())
        );
        assert_eq!(
            check_form(Some(&page), &[("s", &ssid), ("p", &pass), ("claim", &long)]),
            Err(PortalError::ValueTooLong { name: "claim".into(), len: 9, max: 8 })
        );
        assert_eq!(
            check_form(Some(&page), &[("s", &ssid), ("p", &pass), ("token", &short)]),
            Err(PortalError::UndeclaredParameter("token".into()))
        );
        assert_eq!(
            check_form(None, &[("s", &ssid), ("p", &pass), ("ip", &short)]),
            Err(PortalError::ReservedParameter("ip".into()))
        );
        assert_eq!(check_form(None, &[("s", &ssid), ("p", &pass), ("anything", &short)]), Ok(()));
    }

    #[test]
    fn errors_say_what_to_do() {
        let timeout = PortalError::Timeout { path: "/wifi".into(), after: Duration::from_secs(1) };
        assert!(timeout.is_retryable());
        assert_eq!(timeout.user_action(), UserAction::MoveCloser);
        assert!(!PortalError::ClaimDetailsNeeded.is_retryable());
        let page = PortalError::Page { path: "/wifi".into(), error: PageError::NoWifiForm };
        assert_eq!(page.user_action(), UserAction::ContactSupport);
        assert!(page.to_string().contains("not a WiFiManager-style setup portal"), "{page}");
    }
}
