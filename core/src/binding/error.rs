//! Why a binding call failed, in terms of what the app (or the person) can do next.

use std::time::Duration;

use super::problem::ProblemType;
use super::wire::ProblemBody;
use crate::UserAction;

/// A failed binding call. Every message says what happened and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// The claim expired before it was redeemed or confirmed.
    #[error("the claim expired before setup finished; start the setup again to get a new claim")]
    ClaimExpired,
    /// The claim token was already redeemed by another device.
    #[error(
        "the claim token was already redeemed by another device; start the setup again to get a new claim"
    )]
    ClaimAlreadyUsed,
    /// Another device redeemed the claim than the one the phone set up; the claim is void.
    #[error(
        "the device that redeemed the claim is not the one this phone set up, so the claim was voided; \
         factory-reset the device and start the setup again"
    )]
    DeviceMismatch,
    /// Confirm came before any device redeemed the claim.
    #[error(
        "the device has not redeemed the claim yet; make sure it joined Wi-Fi and reached the internet, then wait for it"
    )]
    NotRedeemed,
    /// Waiting for the redemption took longer than the caller allowed.
    #[error(
        "the device did not redeem the claim within {waited:?}; check that it joined Wi-Fi and reached the internet, then wait again"
    )]
    RedemptionTimedOut {
        /// How long the app waited.
        waited: Duration,
    },
    /// The backend does not know the claim (or it belongs to another account).
    #[error("the backend does not know this claim (it may belong to another account); start the setup again")]
    ClaimNotFound,
    /// The backend does not know the binding (removed already, or another account's).
    #[error(
        "the backend does not know this device binding (it was removed or belongs to another account); list the devices again"
    )]
    BindingNotFound,
    /// No open transfer offer has the code.
    #[error(
        "the transfer code is unknown, already used, cancelled or expired; ask the device's owner for a new one"
    )]
    TransferNotFound,
    /// The token is valid but lacks the scope for the request.
    #[error("the sign-in may not do this ({reason}); sign in with the app that set up the device")]
    Forbidden {
        /// The backend's explanation.
        reason: String,
    },
    /// The user's access token was refused even after a refresh: the app must log in again.
    #[error("the backend did not accept the login ({reason}); log in again")]
    Unauthorized {
        /// Why, without any token in it.
        reason: String,
    },
    /// The backend refused the device credential on a redeem.
    #[error(
        "the backend did not accept the device's credential; the device is not registered or its factory secret is wrong, contact the manufacturer"
    )]
    DeviceUnauthorized,
    /// The backend could not be reached, or kept failing, through every retry.
    #[error(
        "could not reach the binding backend after {attempts} attempts (last: {last}); check the internet connection and try again"
    )]
    BackendUnreachable {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The backend refused the request for a reason the app does not handle specially.
    #[error(
        "the backend refused the request (HTTP {status}, {code}): {detail}; this is a bug in the app or the backend, report it"
    )]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Problem code, or `unknown` when the body was not a problem document.
        code: String,
        /// The backend's explanation.
        detail: String,
    },
    /// The backend answered something the app cannot read.
    #[error("the backend's answer could not be understood ({reason}); update the app or contact support")]
    Protocol {
        /// What was wrong with the answer.
        reason: String,
    },
    /// No access token could be had right now (e.g. the identity provider is unreachable).
    #[error("no access token is available right now ({reason}); check the internet connection and try again")]
    TokenUnavailable {
        /// Why, without any token in it.
        reason: String,
    },
    /// The configured backend URL cannot be used.
    #[error("the binding backend URL `{url}` cannot be used: {reason}; fix the app's configuration")]
    InvalidBackendUrl {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl BindingError {
    /// Whether trying the same call again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::NotRedeemed
                | Self::RedemptionTimedOut { .. }
                | Self::BackendUnreachable { .. }
                | Self::TokenUnavailable { .. }
        )
    }

    /// Whether the app must send the user through login again.
    pub fn requires_sign_in(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }

    /// Whether this claim is finished for good and setup must start over with a new claim.
    pub fn requires_new_claim(&self) -> bool {
        matches!(
            self,
            Self::ClaimExpired | Self::ClaimAlreadyUsed | Self::DeviceMismatch | Self::ClaimNotFound
        )
    }

    /// What the app should offer.
    pub fn user_action(&self) -> UserAction {
        if self.requires_sign_in() {
            UserAction::SignIn
        } else if self.requires_new_claim() {
            UserAction::StartOver
        } else if self.is_retryable() {
            UserAction::Retry
        } else {
            UserAction::ContactSupport
        }
    }

    /// Maps a non-success answer to an error. `body` is whatever the backend sent.
    pub(crate) fn from_response(status: u16, body: &[u8]) -> Self {
        let problem = serde_json::from_slice::<ProblemBody>(body).ok();
        let kind = problem.as_ref().and_then(|p| ProblemType::from_uri(&p.problem_type));
        match kind {
            Some(ProblemType::ClaimExpired) => Self::ClaimExpired,
            Some(ProblemType::ClaimAlreadyUsed) => Self::ClaimAlreadyUsed,
            Some(ProblemType::DeviceMismatch | ProblemType::ClaimRefused) => Self::DeviceMismatch,
            Some(ProblemType::ClaimNotRedeemed) => Self::NotRedeemed,
            Some(ProblemType::ClaimNotFound) => Self::ClaimNotFound,
            Some(ProblemType::BindingNotFound) => Self::BindingNotFound,
            Some(ProblemType::TransferNotFound) => Self::TransferNotFound,
            Some(ProblemType::InsufficientScope) => Self::Forbidden {
                reason: problem.map(|p| p.detail).unwrap_or_else(|| "insufficient scope".into()),
            },
            Some(ProblemType::DeviceUnauthorized) => Self::DeviceUnauthorized,
            Some(ProblemType::Unauthorized) => {
                Self::Unauthorized { reason: "the access token was refused after a refresh".into() }
            }
            _ if status == 401 => {
                Self::Unauthorized { reason: "the access token was refused after a refresh".into() }
            }
            _ => Self::Rejected {
                status,
                code: problem
                    .as_ref()
                    .map(|p| p.code.clone())
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "unknown".into()),
                detail: problem
                    .map(|p| p.detail)
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| "no details".into()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(kind: ProblemType) -> Vec<u8> {
        serde_json::to_vec(&kind.body("detail")).unwrap_or_default()
    }

    #[test]
    fn problems_map_to_actionable_errors() {
        let cases = [
            (ProblemType::ClaimExpired, BindingError::ClaimExpired),
            (ProblemType::ClaimAlreadyUsed, BindingError::ClaimAlreadyUsed),
            (ProblemType::DeviceMismatch, BindingError::DeviceMismatch),
            (ProblemType::ClaimRefused, BindingError::DeviceMismatch),
            (ProblemType::ClaimNotRedeemed, BindingError::NotRedeemed),
            (ProblemType::ClaimNotFound, BindingError::ClaimNotFound),
            (ProblemType::DeviceUnauthorized, BindingError::DeviceUnauthorized),
            (ProblemType::BindingNotFound, BindingError::BindingNotFound),
            (ProblemType::TransferNotFound, BindingError::TransferNotFound),
            (ProblemType::InsufficientScope, BindingError::Forbidden { reason: "detail".into() }),
        ];
        for (kind, expected) in cases {
            assert_eq!(BindingError::from_response(kind.status(), &problem(kind)), expected);
        }
        assert!(BindingError::from_response(401, &problem(ProblemType::Unauthorized)).requires_sign_in());
    }

    #[test]
    fn other_answers_become_rejected_with_their_code() {
        let reused = BindingError::from_response(422, &problem(ProblemType::IdempotencyKeyReused));
        assert_eq!(
            reused,
            BindingError::Rejected {
                status: 422,
                code: "idempotency-key-reused".into(),
                detail: "detail".into()
            }
        );
        let garbage = BindingError::from_response(418, b"<html>teapot</html>");
        assert_eq!(
            garbage,
            BindingError::Rejected { status: 418, code: "unknown".into(), detail: "no details".into() }
        );
        assert!(BindingError::from_response(401, b"").requires_sign_in());
    }

    #[test]
    fn retryable_and_terminal_classes() {
        assert!(BindingError::NotRedeemed.is_retryable());
        assert!(BindingError::BackendUnreachable { attempts: 3, last: "HTTP 503".into() }.is_retryable());
        assert!(!BindingError::DeviceMismatch.is_retryable());
        assert!(BindingError::DeviceMismatch.requires_new_claim());
        assert!(!BindingError::Protocol { reason: "x".into() }.is_retryable());
    }
}
