//! A complete HTTP answer of the simulated backend that can be stored and replayed verbatim
//! (idempotency) and turned into an axum response.

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use unbox_core::binding::DEVICE_AUTH_SCHEME;
use unbox_core::binding::problem::ProblemType;
use unbox_core::binding::wire::PROBLEM_JSON;

/// Status, media type and body of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
    challenge: Option<&'static str>,
    /// The problem type of a problem answer.
    pub problem: Option<ProblemType>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: StatusCode, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                Self { status, content_type: "application/json", body, challenge: None, problem: None }
            }
            Err(error) => {
                Self::problem(ProblemType::Internal, format!("could not encode the answer: {error}"))
            }
        }
    }

    /// An RFC 9457 problem answer; 401s carry the matching `WWW-Authenticate` challenge.
    pub fn problem(problem: ProblemType, detail: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(problem.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let challenge = match problem {
            ProblemType::Unauthorized => Some(r#"Bearer error="invalid_token""#),
            ProblemType::DeviceUnauthorized => Some(DEVICE_AUTH_SCHEME),
            _ => None,
        };
        let body = serde_json::to_vec(&problem.body(detail)).unwrap_or_default();
        Self { status, content_type: PROBLEM_JSON, body, challenge, problem: Some(problem) }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_problem_json_with_a_challenge_on_401() {
        let response = Answer::problem(ProblemType::Unauthorized, "expired").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some(PROBLEM_JSON));
        assert!(response.headers().contains_key(WWW_AUTHENTICATE));
        let gone = Answer::problem(ProblemType::ClaimExpired, "late");
        assert_eq!(gone.status, StatusCode::GONE);
    }
}
