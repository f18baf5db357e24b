//! The HTTP handlers of the binding's life after setup: the device list, unbinding, transfer
//! offers and their acceptance, and the device's binding check.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use unbox_core::binding::problem::ProblemType;
use unbox_core::binding::wire::{
    AcceptTransferBody, BindingPageView, DeviceBindingAnswer, DeviceBindingQuery, OfferTransferBody,
};
use unbox_core::binding::{BINDING_CHECK_SIGNING_PREFIX, DeviceId};

use super::answer::Answer;
use super::bindings::DEFAULT_PAGE;
use super::routes::{Access, authorize, authorize_post, idempotent};
use super::validator::Principal;
use super::{Shared, lock};

type AppState = State<Arc<Shared>>;

/// Longest device name (characters).
const MAX_NAME_CHARS: usize = 64;

/// A device name: 1-64 characters, none of them control characters.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&count) && !name.chars().any(char::is_control)
}

/// The client recorded as having bound a device.
pub(crate) fn client_of(principal: &Principal) -> &str {
    principal.client_id.as_deref().unwrap_or("unknown-client")
}

#[derive(serde::Deserialize)]
pub(crate) struct ListParams {
    limit: Option<usize>,
    cursor: Option<String>,
    include_ended: Option<bool>,
}

pub(crate) async fn list_bindings(
    State(shared): AppState,
    query: Result<Query<ListParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let principal = match authorize(&shared, &headers, Access::Read).await {
        Ok(principal) => principal,
        Err(answer) => return answer.into_response(),
    };
    let Ok(Query(params)) = query else {
        return Answer::problem(
            ProblemType::InvalidRequest,
            "`limit` must be 1-100, `include_ended` true or false, `cursor` a cursor from the last page",
        )
        .into_response();
    };
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=100).contains(&limit) {
        return Answer::problem(ProblemType::InvalidRequest, "`limit` must be 1-100").into_response();
    }
    let page = lock(&shared.claims).bindings.list(
        &principal.subject,
        params.cursor.as_deref(),
        limit,
        params.include_ended.unwrap_or(false),
    );
    match page {
        Ok(page) => Answer::json(
            StatusCode::OK,
            &BindingPageView { bindings: page.bindings, next_cursor: page.next_cursor },
        ),
        Err(refusal) => refusal.into(),
    }
    .into_response()
}

pub(crate) async fn unbind(
    State(shared): AppState,
    Path(binding_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let principal = match authorize(&shared, &headers, Access::Manage).await {
        Ok(principal) => principal,
        Err(answer) => return answer.into_response(),
    };
    let outcome = lock(&shared.claims).bindings.unbind(&principal.subject, &binding_id, shared.now());
    match outcome {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refusal) => Answer::from(refusal).into_response(),
    }
}

pub(crate) async fn offer_transfer(
    State(shared): AppState,
    Path(binding_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (principal, key) = match authorize_post(&shared, &headers).await {
        Ok(both) => both,
        Err(answer) => return answer.into_response(),
    };
    let route = format!("POST /v1/bindings/{binding_id}/transfers");
    idempotent(&shared, &principal.subject, route, &key, &body, || {
        if serde_json::from_slice::<OfferTransferBody>(&body).is_err() {
            return Answer::problem(ProblemType::InvalidRequest, "the body must be an empty JSON object");
        }
        match lock(&shared.claims).bindings.offer(&principal.subject, &binding_id, shared.now()) {
            Ok(offer) => Answer::json(StatusCode::CREATED, &offer),
            Err(refusal) => refusal.into(),
        }
    })
}

pub(crate) async fn accept_transfer(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let (principal, key) = match authorize_post(&shared, &headers).await {
        Ok(both) => both,
        Err(answer) => return answer.into_response(),
    };
    idempotent(&shared, &principal.subject, "POST /v1/transfers/accept".into(), &key, &body, || {
        let Ok(request) = serde_json::from_slice::<AcceptTransferBody>(&body) else {
            return Answer::problem(ProblemType::InvalidRequest, "the body must be {\"transfer_code\": ...}");
        };
        let outcome = lock(&shared.claims).bindings.accept(
            &principal.subject,
            client_of(&principal),
            &request.transfer_code,
            shared.now(),
        );
        match outcome {
            Ok(binding) => Answer::json(StatusCode::OK, &binding),
            Err(refusal) => refusal.into(),
        }
    })
}

pub(crate) async fn device_binding(State(shared): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<DeviceBindingQuery>(&body) else {
        return Answer::problem(ProblemType::InvalidRequest, "the body must be {\"device_id\": ...}")
            .into_response();
    };
    let unauthorized =
        || Answer::problem(ProblemType::DeviceUnauthorized, "the device signature does not verify");
    let credential =
        DeviceId::new(request.device_id).ok().and_then(|device| lock(&shared.devices).get(&device).cloned());
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (Some(credential), Some(authorization)) = (credential, authorization) else {
        return unauthorized().into_response();
    };
    if !credential.verify_with(BINDING_CHECK_SIGNING_PREFIX, authorization, &body) {
        return unauthorized().into_response();
    }
    let bound = lock(&shared.claims).bindings.is_bound(credential.device_id());
    Answer::json(StatusCode::OK, &DeviceBindingAnswer { bound }).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_printable() {
        assert!(is_valid_name("Kitchen lamp"));
        assert!(is_valid_name(&"\u{e9}".repeat(64)));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name(&"x".repeat(65)));
        assert!(!is_valid_name("a\nb"));
    }
}
