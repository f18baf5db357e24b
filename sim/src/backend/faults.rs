//! Fault injection and the request log of the simulated backend: tests queue failures for the
//! next requests and check what the client really sent (e.g. the same idempotency key on every
//! retry).

use std::collections::VecDeque;

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use unbox_core::binding::problem::ProblemType;

use super::answer::Answer;

/// A failure the backend answers with instead of handling a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 503, optionally with `Retry-After` seconds.
    Unavailable {
        /// `Retry-After` in seconds.
        retry_after: Option<u64>,
    },
    /// 429 with `Retry-After` seconds.
    RateLimited {
        /// `Retry-After` in seconds.
        retry_after: u64,
    },
    /// 500.
    Internal,
}

impl Fault {
    pub(crate) fn response(self) -> Response {
        let (problem, retry_after) = match self {
            Self::Unavailable { retry_after } => (ProblemType::Unavailable, retry_after),
            Self::RateLimited { retry_after } => (ProblemType::RateLimited, Some(retry_after)),
            Self::Internal => (ProblemType::Internal, None),
        };
        let mut response = Answer::problem(problem, "injected fault").into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// One request as the backend received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
    /// Whether an injected fault answered it.
    pub faulted: bool,
}

/// Queued faults and the log.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    queued: VecDeque<Fault>,
    log: Vec<RecordedRequest>,
}

impl FaultPlan {
    pub fn queue(&mut self, count: usize, fault: Fault) {
        self.queued.extend(std::iter::repeat_n(fault, count));
    }

    /// Logs a request and returns the fault to answer it with, if one is queued.
    pub fn admit(&mut self, method: &str, path: &str, idempotency_key: Option<&str>) -> Option<Fault> {
        let fault = self.queued.pop_front();
        self.log.push(RecordedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            idempotency_key: idempotency_key.map(str::to_owned),
            faulted: fault.is_some(),
        });
        fault
    }

    pub fn log(&self) -> Vec<RecordedRequest> {
        self.log.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn faults_answer_the_next_requests_in_order() {
        let mut plan = FaultPlan::default();
        plan.queue(2, Fault::Unavailable { retry_after: Some(1) });
        assert_eq!(
            plan.admit("POST", "/v1/claims", Some("k")),
            Some(Fault::Unavailable { retry_after: Some(1) })
        );
        assert!(plan.admit("POST", "/v1/claims", Some("k")).is_some());
        assert_eq!(plan.admit("POST", "/v1/claims", Some("k")), None);
        let log = plan.log();
        assert_eq!(log.iter().filter(|r| r.faulted).count(), 2);
        assert!(log.iter().all(|r| r.idempotency_key.as_deref() == Some("k")));
    }

    #[test]
    fn fault_responses_carry_status_and_retry_after() {
        let response = Fault::RateLimited { retry_after: 3 }.response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("3"));
        assert_eq!(Fault::Internal.response().status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
