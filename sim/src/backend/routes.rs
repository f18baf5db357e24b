//! The HTTP handlers of the simulated backend: authentication, idempotency, long-polls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use sha2::{Digest, Sha256};
use unbox_core::binding::problem::ProblemType;
use unbox_core::binding::wire::{
    ConfirmBody, CreateClaimBody, IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, PROBLEM_JSON,
    RedeemBody, RedeemResult,
};
use unbox_core::binding::{DeviceId, IdempotencyKey};
use unbox_core::secret::SecretString;

use super::answer::Answer;
use super::lifecycle;
use super::store::{Poll, Refusal};
use super::validator::Principal;
use super::validator::TokenRejection;
use super::{BINDING_API_AUDIENCE, ContractBreak, DEVICES_READ_SCOPE};
use super::{Shared, lock};

type AppState = State<Arc<Shared>>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/claims", post(create_claim))
        .route("/v1/claims/redeem", post(redeem_claim))
        .route("/v1/claims/{claim_id}", get(get_claim))
        .route("/v1/claims/{claim_id}/confirm", post(confirm_claim))
        .route("/v1/bindings", get(lifecycle::list_bindings))
        .route("/v1/bindings/{binding_id}", delete(lifecycle::unbind))
        .route("/v1/bindings/{binding_id}/transfers", post(lifecycle::offer_transfer))
        .route("/v1/transfers/accept", post(lifecycle::accept_transfer))
        .route("/v1/device/binding", post(lifecycle::device_binding))
        .layer(middleware::from_fn_with_state(shared.clone(), inject_faults))
        .with_state(shared)
}

async fn inject_faults(State(shared): AppState, request: Request, next: Next) -> Response {
    let half_trip = shared.config.round_trip / 2;
    if !half_trip.is_zero() {
        tokio::time::sleep(half_trip).await;
    }
    let response = answer_or_fault(&shared, request, next).await;
    if !half_trip.is_zero() {
        tokio::time::sleep(half_trip).await;
    }
    response
}

async fn answer_or_fault(shared: &Shared, request: Request, next: Next) -> Response {
    let key = request.headers().get(IDEMPOTENCY_KEY_HEADER).and_then(|v| v.to_str().ok());
    let fault = lock(&shared.faults).admit(request.method().as_str(), request.uri().path(), key);
    let response = match fault {
        Some(fault) => fault.response(),
        None => next.run(request).await,
    };
    let problem =
        response.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    if problem && shared.broken(ContractBreak::PlainJsonErrors) {
        let status = response.status();
        return (status, [(CONTENT_TYPE, "application/json")], r#"{"error":"request failed"}"#)
            .into_response();
    }
    response
}

impl From<Refusal> for Answer {
    fn from(refusal: Refusal) -> Self {
        Answer::problem(refusal.problem, refusal.detail)
    }
}

/// What a request may do with the customer's account.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Set up, unbind and transfer devices: the app's tokens only.
    Manage,
    /// List devices: the app's tokens, or a linked client's with [`DEVICES_READ_SCOPE`].
    Read,
}

/// The principal behind the bearer token if it may have `access`: 401 for a missing, invalid or
/// expired token or one meant for another API (audience), 403 for a linked client's token that
/// lacks the scope or asks for more than reading.
pub(crate) async fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    access: Access,
) -> Result<Principal, Answer> {
    let principal = authenticate(shared, headers).await?;
    if principal.audience.as_deref().is_some_and(|audience| audience != BINDING_API_AUDIENCE) {
        return Err(Answer::problem(ProblemType::Unauthorized, "the access token is meant for another API"));
    }
    let linked = principal.client_id.as_ref().is_some_and(|id| lock(&shared.linked_clients).contains(id));
    if linked && access == Access::Manage {
        return Err(Answer::problem(
            ProblemType::InsufficientScope,
            "a linked client's token may only list devices; set devices up, unbind and transfer them in the app",
        ));
    }
    if linked && !principal.scopes.iter().any(|scope| scope == DEVICES_READ_SCOPE) {
        return Err(Answer::problem(
            ProblemType::InsufficientScope,
            format!("listing devices needs the scope `{DEVICES_READ_SCOPE}`"),
        ));
    }
    Ok(principal)
}

/// An app POST: the principal allowed to manage devices, and the request's idempotency key.
pub(crate) async fn authorize_post(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<(Principal, IdempotencyKey), Answer> {
    let principal = authorize(shared, headers, Access::Manage).await?;
    Ok((principal, idempotency_key(shared, headers)?))
}

/// The user behind the bearer token, or the 401 to answer.
async fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Principal, Answer> {
    if !headers.contains_key(AUTHORIZATION) && shared.broken(ContractBreak::AcceptsAnonymous) {
        return Ok(Principal {
            subject: "anonymous".into(),
            client_id: None,
            scopes: Vec::new(),
            audience: None,
        });
    }
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| SecretString::new(token.trim()))
        .ok_or_else(|| Answer::problem(ProblemType::Unauthorized, "a bearer access token is required"))?;
    shared.validator.principal(&token).await.map_err(|rejection| {
        let detail = match rejection {
            TokenRejection::Invalid => "the access token is not valid",
            TokenRejection::Expired => "the access token has expired",
        };
        Answer::problem(ProblemType::Unauthorized, detail)
    })
}

fn idempotency_key(shared: &Shared, headers: &HeaderMap) -> Result<IdempotencyKey, Answer> {
    if !headers.contains_key(IDEMPOTENCY_KEY_HEADER) && shared.broken(ContractBreak::KeyOptional) {
        return Ok(IdempotencyKey::generate());
    }
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
/// first answer, a repeat with another body is refused with 422. Server errors are not stored,
/// nor `claim-not-redeemed` (nothing happened; the same confirm later may succeed).
pub(crate) fn idempotent(
    shared: &Shared,
    subject: &str,
    route: String,
    key: &IdempotencyKey,
    body: &[u8],
    handle: impl FnOnce() -> Answer,
) -> Response {
    if route == "POST /v1/claims" && shared.broken(ContractBreak::CreateNotIdempotent) {
        return handle().into_response();
    }
    let fingerprint: [u8; 32] = Sha256::digest(body).into();
    let subject = if shared.broken(ContractBreak::KeysGlobal) { "" } else { subject };
    let slot = (subject.to_owned(), route, key.as_str().to_owned());
    // Held across `handle`, so concurrent repeats of one key cannot both run it.
    let mut store = lock(&shared.idempotency);
    if let Some(stored) = store.answers.get(&slot) {
        if stored.fingerprint != fingerprint && !shared.broken(ContractBreak::KeyReuseReplays) {
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
    if !answer.status.is_server_error() && answer.problem != Some(ProblemType::ClaimNotRedeemed) {
        store.answers.insert(slot, StoredAnswer { fingerprint, answer: answer.clone() });
    }
    answer.into_response()
}

async fn create_claim(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let (principal, key) = match authorize_post(&shared, &headers).await {
        Ok(both) => both,
        Err(answer) => return answer.into_response(),
    };
    let subject = principal.subject.as_str();
    idempotent(&shared, subject, "POST /v1/claims".into(), &key, &body, || {
        if serde_json::from_slice::<CreateClaimBody>(&body).is_err() {
            return Answer::problem(ProblemType::InvalidRequest, "the body must be an empty JSON object");
        }
        let created = lock(&shared.claims).create(subject, shared.now());
        Answer::json(StatusCode::CREATED, &created)
    })
}

#[derive(serde::Deserialize)]
struct WaitQuery {
    wait: Option<u64>,
}

/// The `wait` a request asked for, capped at the backend's longest; 400 when malformed.
fn asked_wait(shared: &Shared, query: Result<Query<WaitQuery>, QueryRejection>) -> Result<Duration, Answer> {
    let Ok(Query(query)) = query else {
        return Err(Answer::problem(ProblemType::InvalidRequest, "`wait` must be a whole number of seconds"));
    };
    Ok(Duration::from_secs(query.wait.unwrap_or(0)).min(shared.config.max_wait))
}

/// Holds the request while the claim is pending, at most `wait` and never past the claim's
/// deadline: returns as soon as its status changes or the time is up. An unknown claim returns
/// at once (the caller answers it).
async fn while_pending(shared: &Shared, subject: &str, claim_id: &str, wait: Duration) {
    let until = tokio::time::Instant::now() + wait;
    loop {
        let now = shared.now();
        let Ok(Poll::Wait { changed, expires_at }) = lock(&shared.claims).poll(subject, claim_id, now) else {
            return;
        };
        if tokio::time::Instant::now() >= until {
            return;
        }
        // Register interest before sleeping, so a change in between is not missed.
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if lock(&shared.claims).poll(subject, claim_id, shared.now()).is_ok_and(|p| matches!(p, Poll::Ready))
        {
            return;
        }
        let until_expiry = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
        let wake_at = until.min(tokio::time::Instant::now() + until_expiry);
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(wake_at) => {}
        }
    }
}

async fn get_claim(
    State(shared): AppState,
    Path(claim_id): Path<String>,
    query: Result<Query<WaitQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let principal = match authorize(&shared, &headers, Access::Manage).await {
        Ok(principal) => principal,
        Err(answer) => return answer.into_response(),
    };
    let subject = principal.subject.as_str();
    let wait = match asked_wait(&shared, query) {
        Ok(_) if shared.broken(ContractBreak::NoLongPoll) => Duration::ZERO,
        Ok(wait) => wait,
        Err(answer) => return answer.into_response(),
    };
    while_pending(&shared, subject, &claim_id, wait).await;
    match lock(&shared.claims).get(subject, &claim_id, shared.now()) {
        Ok(view) => Answer::json(StatusCode::OK, &view),
        Err(refusal) => refusal.into(),
    }
    .into_response()
}

/// The device id and name of a confirm's body, or the 400 to answer.
fn confirm_request(body: &[u8]) -> Result<(DeviceId, Option<String>), Answer> {
    serde_json::from_slice::<ConfirmBody>(body)
        .ok()
        .filter(|b| b.name.as_deref().is_none_or(lifecycle::is_valid_name))
        .and_then(|b| DeviceId::new(b.device_id).ok().map(|d| (d, b.name)))
        .ok_or_else(|| {
            Answer::problem(
                ProblemType::InvalidRequest,
                "the body must be {\"device_id\": \"<valid device id>\"} with an optional \"name\" of 1-64 printable characters",
            )
        })
}

async fn confirm_claim(
    State(shared): AppState,
    Path(claim_id): Path<String>,
    query: Result<Query<WaitQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (principal, key) = match authorize_post(&shared, &headers).await {
        Ok(both) => both,
        Err(answer) => return answer.into_response(),
    };
    let subject = principal.subject.as_str();
    // A backend without the feature ignores `wait`; with it, a well-formed confirm of a pending
    // claim is held until a device redeems, then confirmed below like any other.
    let request = confirm_request(&body);
    let honours_wait =
        lock(&shared.claims).confirm_waits && !shared.broken(ContractBreak::ConfirmWaitIgnored);
    if honours_wait && request.is_ok() {
        match asked_wait(&shared, query) {
            Ok(wait) => while_pending(&shared, subject, &claim_id, wait).await,
            Err(answer) => return answer.into_response(),
        }
    }
    let route = format!("POST /v1/claims/{claim_id}/confirm");
    idempotent(&shared, subject, route, &key, &body, || {
        let (device, name) = match request {
            Ok(request) => request,
            Err(answer) => return answer,
        };
        let client = (lifecycle::client_of(&principal), name);
        match lock(&shared.claims).confirm(subject, &claim_id, &device, client, shared.now()) {
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
    if !credential.verify(authorization, body) && !shared.broken(ContractBreak::NoDeviceAuth) {
        return Err(unauthorized());
    }
    let status = lock(&shared.claims).redeem(&request.claim_token, &device, shared.now())?;
    tracing::info!(device_id = %device, %status, "simulated backend: claim redeemed");
    Ok(Answer::json(StatusCode::OK, &RedeemResult { status }))
}
