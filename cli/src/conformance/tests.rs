//! The checker against the simulated cloud: every rule passes; against test doubles that each
//! break one rule (the simulated backend with that rule's break switched on), exactly that rule
//! fails and is named.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use unbox_core::binding::{DeviceCredential, DeviceId};
use unbox_core::secret::SecretBytes;
use unbox_sim::backend::{BackendConfig, ContractBreak};
use unbox_sim::cloud::SimCloud;
use unbox_sim::idp::{DEFAULT_CLIENT_ID, IdpConfig};

use super::{BrowserArg, CheckArgs, Outcome, RULES, RuleResult, check, table};

/// Each break and the rules it must fail (one, but for a confirm before the redemption, which
/// both the plain and the waiting confirm refuse).
const DOUBLES: [(ContractBreak, &[&str]); 20] = [
    (ContractBreak::AcceptsAnonymous, &["auth.user-token"]),
    (ContractBreak::KeyOptional, &["idempotency.key-required"]),
    (ContractBreak::CreateNotIdempotent, &["idempotency.replay"]),
    (ContractBreak::KeyReuseReplays, &["idempotency.body-mismatch"]),
    (ContractBreak::KeysGlobal, &["idempotency.per-customer"]),
    (ContractBreak::ClaimsPublic, &["claims.private"]),
    (ContractBreak::NoDeviceAuth, &["redeem.device-auth"]),
    (ContractBreak::ReusableClaims, &["claims.single-use"]),
    (ContractBreak::NoExpiry, &["claims.expiry"]),
    (ContractBreak::AnyDeviceConfirms, &["confirm.device-match"]),
    (ContractBreak::ConfirmBeforeRedeem, &["confirm.needs-redemption", "confirm.waits"]),
    (ContractBreak::NoLongPoll, &["claims.long-poll"]),
    (ContractBreak::ConfirmWaitIgnored, &["confirm.waits"]),
    (ContractBreak::SharedListing, &["bindings.list"]),
    (ContractBreak::NoPagination, &["bindings.pages"]),
    (ContractBreak::SameCustomerDuplicates, &["rebind.same-customer"]),
    (ContractBreak::RebindKeepsOwner, &["rebind.other-customer"]),
    (ContractBreak::UnbindIgnored, &["unbind"]),
    (ContractBreak::TransferReusable, &["transfer"]),
    (ContractBreak::PlainJsonErrors, &["problems.format"]),
];

/// Claims that expire within the checker's patience.
const CLAIM_TTL: Duration = Duration::from_secs(3);

fn device(cloud: &SimCloud, id: &str, fill: u8) -> String {
    let secret = vec![fill; 32];
    let credential =
        DeviceCredential::new(DeviceId::new(id).unwrap(), SecretBytes::new(secret.clone())).unwrap();
    cloud.backend().register_device(credential);
    format!("{id}={}", hex::encode(secret))
}

async fn checked(breaking: Option<ContractBreak>) -> Vec<RuleResult> {
    let config = BackendConfig { claim_ttl: CLAIM_TTL, confirm_ttl: CLAIM_TTL, ..BackendConfig::default() };
    let cloud = SimCloud::start(SocketAddr::from(([127, 0, 0, 1], 0)), None, IdpConfig::default(), config)
        .await
        .unwrap();
    if let Some(rule) = breaking {
        cloud.backend().break_contract(rule);
    }
    let args = CheckArgs {
        backend: url::Url::parse(cloud.base_url()).unwrap(),
        issuer: cloud.base_url().to_owned(),
        client_id: DEFAULT_CLIENT_ID.into(),
        devices: vec![device(&cloud, "check-dev-1", 1), device(&cloud, "check-dev-2", 2)],
        customer: "alice@example.com".into(),
        second_customer: "bob@example.com".into(),
        browser: BrowserArg::Scripted,
        redirect_uri: unbox_sim::idp::DEFAULT_APP_REDIRECT_URI.into(),
        scopes: vec!["openid".into()],
        max_expiry_wait: 30,
    };
    check(&args).await.map_err(|f| f.message).unwrap()
}

fn failed(results: &[RuleResult]) -> BTreeSet<&'static str> {
    results.iter().filter(|r| matches!(r.outcome, Outcome::Fail(_))).map(|r| r.rule).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_backend_passes_every_rule() {
    let results = checked(None).await;
    let table = table(&results);
    assert!(results.iter().all(|r| r.outcome == Outcome::Pass), "{table}");
    assert_eq!(results.len(), RULES.len());
    assert!(table.ends_with("20 rules: 20 passed, 0 failed, 0 not run\n"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_rule_is_named_with_the_request_that_showed_it() {
    // Boxed: twenty whole checker runs side by side would not fit on the test thread's stack.
    let runs = DOUBLES.map(|(rule, _)| Box::pin(checked(Some(rule))));
    let all = futures::future::join_all(runs).await;
    let mut wrong = Vec::new();
    for ((rule, expected), results) in DOUBLES.iter().zip(&all) {
        let names = failed(results);
        if names != expected.iter().copied().collect() {
            wrong.push(format!(
                "{rule:?}: expected only {expected:?} to fail, got {names:?}\n{}",
                table(results)
            ));
        }
        for failure in results.iter().filter(|r| expected.contains(&r.rule)).map(|r| &r.outcome) {
            if let Outcome::Fail(broken) = failure {
                assert!(
                    broken.request.contains("/v1/"),
                    "{rule:?}: the failure names its request: {broken:?}"
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let covered: BTreeSet<&str> = DOUBLES.iter().flat_map(|(_, rules)| rules.iter().copied()).collect();
    assert_eq!(covered, RULES.iter().map(|(id, _)| *id).collect(), "one double per rule");
    assert_eq!(DOUBLES.len(), ContractBreak::ALL.len());
}
