//! The OpenAPI contract (docs/binding-api.yaml) parses and agrees with the code: every path the
//! client calls, every header, status, problem code and JSON property.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use unbox_core::binding::problem::ProblemType;
use unbox_core::binding::wire::{
    AcceptTransferBody, BindingPageView, BindingView, ClaimCreated, ClaimView, ConfirmBody, CreateClaimBody,
    DeviceBindingAnswer, DeviceBindingQuery, DeviceBindingView, IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENT_REPLAYED_HEADER, OfferTransferBody, ProblemBody, RedeemBody, RedeemResult, TransferOfferView,
    paths,
};
use unbox_core::binding::{
    ClaimStatus, EndReason, MAX_CLAIM_TOKEN_LEN, MAX_DEVICE_ID_LEN, MIN_CLAIM_TOKEN_LEN,
};
use unbox_core::secret::SecretString;

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/binding-api.yaml"))
        .expect("docs/binding-api.yaml is readable");
    serde_norway::from_str(&text).expect("docs/binding-api.yaml is valid YAML")
}

/// The operations the client and the simulated device call, as (path, method).
fn operations() -> [(String, &'static str); 4] {
    let claim = format!("/{}{{claim_id}}", paths::CLAIM_PREFIX);
    [
        (format!("/{}", paths::CLAIMS), "post"),
        (format!("/{}", paths::REDEEM), "post"),
        (claim.clone(), "get"),
        (format!("{claim}{}", paths::CONFIRM_SUFFIX), "post"),
    ]
}

/// The binding's life after setup, as (path, method, needs an idempotency key).
fn lifecycle_operations() -> [(String, &'static str, bool); 5] {
    let binding = format!("/{}{{binding_id}}", paths::BINDING_PREFIX);
    [
        (format!("/{}", paths::BINDINGS), "get", false),
        (binding.clone(), "delete", false),
        (format!("{binding}{}", paths::TRANSFERS_SUFFIX), "post", true),
        (format!("/{}", paths::ACCEPT_TRANSFER), "post", true),
        (format!("/{}", paths::DEVICE_BINDING), "post", false),
    ]
}

#[test]
fn lifecycle_calls_are_specified_with_their_keys() {
    let spec = spec();
    for (path, method, keyed) in lifecycle_operations() {
        let op = operation(&spec, &path, method);
        let statuses = keys(&op["responses"]);
        for status in ["401", "429", "500", "503"] {
            assert!(statuses.contains(status), "{method} {path} does not document {status}");
        }
        let params: Vec<&Value> =
            op["parameters"].as_array().into_iter().flatten().map(|p| resolve(&spec, p)).collect();
        let has_key = params.iter().any(|p| p["name"] == IDEMPOTENCY_KEY_HEADER && p["required"] == true);
        assert_eq!(has_key, keyed, "{method} {path}: Idempotency-Key documented {has_key}, expected {keyed}");
    }
    let list = operation(&spec, &format!("/{}", paths::BINDINGS), "get");
    let limit = list["parameters"].as_array().into_iter().flatten().find(|p| p["name"] == "limit");
    assert_eq!(
        limit.map(|p| &p["schema"]["maximum"]),
        Some(&Value::from(unbox_core::binding::bindings::MAX_PAGE_SIZE))
    );
    let reasons: Vec<&str> =
        spec["components"]["schemas"]["DeviceBinding"]["properties"]["end_reason"]["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
    let coded: Vec<&str> =
        [EndReason::Unbound, EndReason::Rebound, EndReason::Transferred].iter().map(|r| r.as_str()).collect();
    assert_eq!(reasons, coded);
}

fn operation<'a>(spec: &'a Value, path: &str, method: &str) -> &'a Value {
    let op = &spec["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is missing from the contract");
    op
}

/// Follows a local `$ref` once.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("local reference");
            spec.pointer(pointer).unwrap_or_else(|| panic!("dangling reference {reference}"))
        }
        None => value,
    }
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn it_is_openapi_3_1_and_every_client_call_is_specified() {
    let spec = spec();
    assert!(spec["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")));
    for (path, method) in operations() {
        let op = operation(&spec, &path, method);
        let statuses = keys(&op["responses"]);
        for status in ["401", "429", "500", "503"] {
            assert!(statuses.contains(status), "{method} {path} does not document {status}");
        }
        assert!(statuses.iter().any(|s| s.starts_with('2')), "{method} {path} has no success answer");
    }
}

#[test]
fn app_posts_require_the_idempotency_key_and_the_redeem_does_not() {
    let spec = spec();
    let [create, redeem, get, confirm] = operations();
    for (path, method) in [create, confirm.clone()] {
        let op = operation(&spec, &path, method);
        let params: Vec<&Value> =
            op["parameters"].as_array().into_iter().flatten().map(|p| resolve(&spec, p)).collect();
        assert!(
            params
                .iter()
                .any(|p| p["name"] == IDEMPOTENCY_KEY_HEADER && p["in"] == "header" && p["required"] == true),
            "{method} {path} must require {IDEMPOTENCY_KEY_HEADER}"
        );
        let success = op["responses"].as_object().and_then(|r| r.iter().find(|(s, _)| s.starts_with('2')));
        let headers = success.map(|(_, r)| keys(&r["headers"])).unwrap_or_default();
        assert!(headers.contains(IDEMPOTENT_REPLAYED_HEADER), "{method} {path} must document replays");
    }
    assert!(operation(&spec, &redeem.0, redeem.1).get("parameters").is_none());
    // The long-poll, and the confirm that waits for the redemption (`confirm_waits`).
    for (path, method) in [get, confirm] {
        let wait = operation(&spec, &path, method)["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(&spec, p))
            .find(|p| p["name"] == "wait" && p["in"] == "query")
            .unwrap_or_else(|| panic!("{method} {path} documents `wait`"));
        assert_eq!(wait["schema"]["maximum"], unbox_core::binding::wire::MAX_WAIT_SECONDS);
    }
}

#[test]
fn problem_codes_and_statuses_match_the_code() {
    let spec = spec();
    let documented: BTreeSet<String> = spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .expect("problem codes are enumerated")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    let coded: BTreeSet<String> = ProblemType::ALL.iter().map(|p| p.code().to_owned()).collect();
    assert_eq!(documented, coded);
    let table = spec["info"]["description"].as_str().expect("description");
    for problem in ProblemType::ALL {
        let row = format!("| `{}` | {} |", problem.code(), problem.status());
        assert!(table.contains(&row), "the error table lacks {row}");
    }
}

#[test]
fn schemas_have_exactly_the_fields_the_code_sends() {
    let spec = spec();
    let now = time::OffsetDateTime::from(SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000));
    let binding = DeviceBindingView {
        binding_id: "b".into(),
        device_id: "d".into(),
        name: "n".into(),
        status: "ended".into(),
        bound_at: now,
        last_redemption_at: now,
        bound_by_client: "app".into(),
        ended_at: Some(now),
        end_reason: Some("unbound".into()),
    };
    let samples: [(&str, Value); 15] = [
        ("DeviceBinding", serde_json::to_value(&binding).expect("json")),
        (
            "BindingPage",
            serde_json::to_value(BindingPageView { bindings: vec![binding], next_cursor: Some("c".into()) })
                .expect("json"),
        ),
        ("OfferTransferRequest", serde_json::to_value(OfferTransferBody::default()).expect("json")),
        (
            "TransferOffer",
            serde_json::to_value(TransferOfferView {
                transfer_id: "t".into(),
                transfer_code: SecretString::new("c"),
                binding_id: "b".into(),
                device_id: "d".into(),
                expires_at: now,
            })
            .expect("json"),
        ),
        (
            "AcceptTransferRequest",
            serde_json::to_value(AcceptTransferBody { transfer_code: SecretString::new("c") }).expect("json"),
        ),
        (
            "DeviceBindingQuery",
            serde_json::to_value(DeviceBindingQuery { device_id: "d".into() }).expect("json"),
        ),
        ("DeviceBindingAnswer", serde_json::to_value(DeviceBindingAnswer { bound: true }).expect("json")),
        ("CreateClaimRequest", serde_json::to_value(CreateClaimBody::default()).expect("json")),
        (
            "ClaimCreated",
            serde_json::to_value(ClaimCreated {
                claim_id: "c".into(),
                claim_token: SecretString::new("t"),
                expires_at: now,
                status: ClaimStatus::Pending,
                confirm_waits: true,
            })
            .expect("json"),
        ),
        (
            "ClaimView",
            serde_json::to_value(ClaimView {
                claim_id: "c".into(),
                status: ClaimStatus::Confirmed,
                expires_at: now,
                device_id: Some("d".into()),
                binding_id: Some("b".into()),
            })
            .expect("json"),
        ),
        (
            "ConfirmRequest",
            serde_json::to_value(ConfirmBody { device_id: "d".into(), name: Some("n".into()) })
                .expect("json"),
        ),
        (
            "Binding",
            serde_json::to_value(BindingView {
                binding_id: "b".into(),
                claim_id: "c".into(),
                device_id: "d".into(),
                bound_at: now,
            })
            .expect("json"),
        ),
        (
            "RedeemRequest",
            serde_json::to_value(RedeemBody { claim_token: SecretString::new("t"), device_id: "d".into() })
                .expect("json"),
        ),
        ("RedeemResult", serde_json::to_value(RedeemResult { status: ClaimStatus::Redeemed }).expect("json")),
        (
            "Problem",
            serde_json::to_value::<ProblemBody>(ProblemType::ClaimExpired.body("late")).expect("json"),
        ),
    ];
    for (name, sample) in samples {
        let schema = &spec["components"]["schemas"][name];
        assert!(schema.is_object(), "schema {name} is missing");
        let documented = keys(&schema["properties"]);
        assert_eq!(documented, keys(&sample), "schema {name} and the code disagree on fields");
        let required: BTreeSet<String> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        assert!(required.is_subset(&documented), "schema {name} requires undocumented fields");
    }
}

#[test]
fn value_limits_match_the_code() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let statuses: Vec<&str> =
        schemas["ClaimStatus"]["enum"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let coded: Vec<String> = [
        ClaimStatus::Pending,
        ClaimStatus::Redeemed,
        ClaimStatus::Confirmed,
        ClaimStatus::Expired,
        ClaimStatus::Refused,
    ]
    .iter()
    .map(|s| s.as_str().to_owned())
    .collect();
    assert_eq!(statuses, coded);
    assert_eq!(schemas["ClaimToken"]["minLength"], MIN_CLAIM_TOKEN_LEN);
    assert_eq!(schemas["ClaimToken"]["maxLength"], MAX_CLAIM_TOKEN_LEN);
    assert_eq!(schemas["DeviceId"]["maxLength"], MAX_DEVICE_ID_LEN);
    let binding_id = &spec["components"]["parameters"]["BindingId"]["schema"];
    assert_eq!(binding_id["maxLength"], unbox_core::binding::bindings::MAX_BINDING_ID_LEN);
    assert_eq!(binding_id["pattern"], "^[A-Za-z0-9_-]+$", "what BindingId::new accepts");
}
