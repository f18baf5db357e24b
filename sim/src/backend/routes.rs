//! The HTTP handlers of the simulated backend: authentication, idempotency, long-polls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sha2::{Digest, Sha256};
use unbox_core::binding::problem::ProblemType;
use unbox_core::binding::wire::{
    ConfirmBody, CreateClaimBody, IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, RedeemBody,
    RedeemResult,
};
use unbox_core::binding::{DeviceId, IdempotencyKey};
use unbox_core::secret::SecretString;

use super::answer::Answer;
use super::store::{Poll, Refusal};
use super::validator::TokenRejection;
use super::{Shared, lock};

type AppState = State<Arc<Shared>>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/claims", post(create_claim))
        .route("/v1/claims/redeem", post(redeem_claim))
        .route("/v1/claims/{claim_id}", get(get_claim))
        .route("/v1/claims/{claim_id}/confirm", post(confirm_claim))
        .layer(middleware::from_fn_with_state(shared.clone(), inject_faults))
        .with_state(shared)
}

async fn inject_faults(State(shared): AppState, request: Request, next: Next) -> Response {
    let key = request.headers().get(IDEMPOTENCY_KEY_HEADER).and_then(|v| v.to_str().ok());
    let fault = lock(&shared.faults).admit(request.method().as_str(), request.uri().path(), key);
    match fault {
        Some(fault) => fault.response(),
        None => next.run(request).await,
    }
}

impl From<Refusal> for Answer {
    fn from(refusal: Refusal) -> Self {
        Answer::problem(refusal.problem, refusal.detail)
    }
}

/// The user behind the bearer token, or the 401 to answer.
async fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<String, Answer> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| SecretString::new(token.trim()))
        .ok_or_else(|| Answer::problem(ProblemType::Unauthorized, "a bearer access token is required"))?;
    shared.validator.validate(&token).await.map_err(|rejection| {
        let detail = match rejection {
            TokenRejection::Invalid => "the access token is not valid",
            TokenRejection::Expired => "the access token has expired",
        };
        Answer::problem(ProblemType::Unauthorized, detail)
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, Answer> {
    let value = headers.get(IDEMPOTENCY_KEY_HEADER).ok_or_else(|| {
        Answer::problem(ProblemType::IdempotencyKeyMissing, "this POST needs an Idempotency-Key header")
    })?;
    value.to_str().ok().and_then(|v| IdempotencyKey::new(v).ok()).ok_or_else(|| {
        Answer::problem(
            ProblemType::InvalidRequest,
            "the Idempotency-Key must be 1-255 visible ASCII characters",
        )
    })
}

/// A stored answer and the fingerprint of the request that produced it.
struct StoredAnswer {
    fingerprint: [u8; 32],
    answer: Answer,
}

/// Answers already given, per (user, method and path, key).
#[derive(Default)]
pub(crate) struct IdempotencyStore {
    answers: HashMap<(String, String, String), StoredAnswer>,
}

/// Runs `handle` at most once per (user, route, key): a repeat with the same body replays the
/// first answer, a repeat with another body is refused with 422. Server errors are not stored.
fn idempotent(
    shared: &Shared,
    subject: &str,
    route: String,
    key: &IdempotencyKey,
    body: &[u8],
    handle: impl FnOnce() -> Answer,
) -> Response {
    let fingerprint: [u8; 32] = Sha256::digest(body).into();
    let slot = (subject.to_owned(), route, key.as_str().to_owned());
    // Held across `handle`, so concurrent repeats of one key cannot both run it.
    let mut store = lock(&shared.idempotency);
    if let Some(stored) = store.answers.get(&slot) {
        if stored.fingerprint != fingerprint {
            return Answer::problem(
                ProblemType::IdempotencyKeyReused,
                "this Idempotency-Key was used with a different request body",
            )
            .into_response();
        }
        let mut response = stored.answer.clone().into_response();
        response.headers_mut().insert(IDEMPOTENT_REPLAYED_HEADER, HeaderValue::from_static("true"));
        return response;
    }
    let answer = handle();
    if !answer.status.is_server_error() {
        store.answers.insert(slot, StoredAnswer { fingerprint, answer: answer.clone() });
    }
    answer.into_response()
}

async fn create_claim(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let subject = match authenticate(&shared, &headers).await {
        Ok(subject) => subject,
        Err(answer) => return answer.into_response(),
    };
    let key = match idempotency_key(&headers) {
        Ok(key) => key,
        Err(answer) => return answer.into_response(),
    };
    idempotent(&shared, &subject, "POST /v1/claims".into(), &key, &body, || {
        if serde_json::from_slice::<CreateClaimBody>(&body).is_err() {
            return Answer::problem(ProblemType::InvalidRequest, "the body must be an empty JSON object");
        }
        let created = lock(&shared.claims).create(&subject, shared.now());
        Answer::json(StatusCode::CREATED, &created)
    })
}

#[derive(serde::Deserialize)]
struct WaitQuery {
    wait: Option<u64>,
}

async fn get_claim(
    State(shared): AppState,
    Path(claim_id): Path<String>,
    query: Result<Query<WaitQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let subject = match authenticate(&shared, &headers).await {
        Ok(subject) => subject,
        Err(answer) => return answer.into_response(),
    };
    let Ok(Query(query)) = query else {
        return Answer::problem(ProblemType::InvalidRequest, "`wait` must be a whole number of seconds")
            .into_response();
    };
    let wait = Duration::from_secs(query.wait.unwrap_or(0)).min(shared.config.max_wait);
    let until = tokio::time::Instant::now() + wait;
    loop {
        let now = shared.now();
        let (changed, expires_at) = match lock(&shared.claims).poll(&subject, &claim_id, now) {
            Err(refusal) => return Answer::from(refusal).into_response(),
            Ok(Poll::Ready(view)) => return Answer::json(StatusCode::OK, &view).into_response(),
            Ok(Poll::Wait { changed, expires_at }) => (changed, expires_at),
        };
        if tokio::time::Instant::now() >= until {
            let view = lock(&shared.claims).get(&subject, &claim_id, now);
            return match view {
                Ok(view) => Answer::json(StatusCode::OK, &view),
                Err(refusal) => refusal.into(),
            }
            .into_response();
        }
        // Register interest before sleeping, so a change in between is not missed.
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if lock(&shared.claims)
            .poll(&subject, &claim_id, shared.now())
            .is_ok_and(|p| matches!(p, Poll::Ready(_)))
        {
            continue;
        }
        let until_expiry = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
        let wake_at = until.min(tokio::time::Instant::now() + until_expiry);
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(wake_at) => {}
        }
    }
}

async fn confirm_claim(
    State(shared): AppState,
    Path(claim_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let subject = match authenticate(&shared, &headers).await {
        Ok(subject) => subject,
        Err(answer) => return answer.into_response(),
    };
    let key = match idempotency_key(&headers) {
        Ok(key) => key,
        Err(answer) => return answer.into_response(),
    };
    let route = format!("POST /v1/claims/{claim_id}/confirm");
    idempotent(&shared, &subject, route, &key, &body, || {
        let device =
            serde_json::from_slice::<ConfirmBody>(&body).ok().and_then(|b| DeviceId::new(b.device_id).ok());
        let Some(device) = device else {
            return Answer::problem(
                ProblemType::InvalidRequest,
                "the body must be {\"device_id\": \"<valid device id>\"}",
            );
        };
        match lock(&shared.claims).confirm(&subject, &claim_id, &device, shared.now()) {
            Ok(binding) => Answer::json(StatusCode::OK, &binding),
            Err(refusal) => refusal.into(),
        }
    })
}

async fn redeem_claim(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    redeem(&shared, &headers, &body).unwrap_or_else(|answer| answer).into_response()
}

fn redeem(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Answer, Answer> {
    let request: RedeemBody = serde_json::from_slice(body).map_err(|_| {
        Answer::problem(
            ProblemType::InvalidRequest,
            "the body must be {\"claim_token\": ..., \"device_id\": ...}",
        )
    })?;
    let unauthorized =
        || Answer::problem(ProblemType::DeviceUnauthorized, "the device signature does not verify");
    let device = DeviceId::new(request.device_id).map_err(|_| unauthorized())?;
    let credential = lock(&shared.devices).get(&device).cloned().ok_or_else(unauthorized)?;
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
    if !credential.verify(authorization, body) {
        return Err(unauthorized());
    }
    let status = lock(&shared.claims).redeem(&request.claim_token, &device, shared.now())?;
    tracing::info!(device_id = %device, %status, "simulated backend: claim redeemed");
    Ok(Answer::json(StatusCode::OK, &RedeemResult { status }))
}
