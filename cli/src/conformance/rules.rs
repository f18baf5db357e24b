//! The rules of `docs/binding-api.yaml`, each a short script against the backend under test
//! with two signed-in customers and two registered devices. Every rule makes its own claims and
//! cleans up the bindings it made, so one broken rule does not fail the others.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use unbox_core::binding::problem::PROBLEM_TYPE_PREFIX;
use unbox_core::binding::wire::PROBLEM_JSON;
use unbox_core::binding::{
    BINDING_CHECK_SIGNING_PREFIX, DeviceCredential, IdempotencyKey, REDEEM_SIGNING_PREFIX,
};
use unbox_core::http::Method;
use unbox_core::secret::SecretString;

use super::probe::{Auth, Broken, Probe, Reply, Step};

/// The rules, in the order they run: id and what the contract says.
pub const RULES: [(&str, &str); 20] = [
    ("auth.user-token", "app calls without a bearer token are 401 unauthorized"),
    ("idempotency.key-required", "an app POST without Idempotency-Key is 400 idempotency-key-missing"),
    ("idempotency.replay", "the same key and body replay the first answer with Idempotent-Replayed: true"),
    ("idempotency.body-mismatch", "the same key with another body is 422 idempotency-key-reused"),
    ("idempotency.per-customer", "keys are scoped to the customer: another customer's key is a new request"),
    ("claims.private", "a customer cannot read another customer's claim (404)"),
    ("redeem.device-auth", "a redeem with a wrong or unknown device credential is 401 device-unauthorized"),
    ("claims.single-use", "a token redeems once; another device gets 409, an unknown token 404"),
    ("claims.expiry", "an unredeemed claim expires at expires_at; redeeming then is 410"),
    ("confirm.device-match", "confirming another device than the redeeming one is 409 and voids the claim"),
    ("confirm.needs-redemption", "confirming before any device redeemed is 409 claim-not-redeemed"),
    ("claims.long-poll", "GET ?wait=N holds a pending claim and answers when a device redeems"),
    (
        "confirm.waits",
        "with confirm_waits, confirm ?wait=N holds a pending claim and confirms when the device redeems; a wait that runs out is 409 claim-not-redeemed, not kept for the key",
    ),
    ("bindings.list", "the device list shows the customer's bindings with their fields, and only theirs"),
    ("bindings.pages", "the device list pages with limit and next_cursor"),
    ("rebind.same-customer", "setting up an own device again keeps its binding"),
    ("rebind.other-customer", "another customer's setup moves the device; the old binding ends as rebound"),
    ("unbind", "DELETE ends the binding (idempotent), others get 404, the device check says unbound"),
    ("transfer", "an accepted transfer moves the device once; the giver's binding ends as transferred"),
    ("problems.format", "errors are RFC 9457 problem documents with type, title, status and code"),
];

/// Two customers and two devices the backend knows, and how long to wait for an expiry.
pub struct Context {
    /// The backend.
    pub probe: Probe,
    /// Customer A's access token.
    pub alice: SecretString,
    /// Customer B's access token.
    pub bob: SecretString,
    /// The device being set up.
    pub device: DeviceCredential,
    /// A second registered device (the rogue one, the second page).
    pub other: DeviceCredential,
    /// A device the backend does not know.
    pub stranger: DeviceCredential,
    /// Longest wait for a claim to expire.
    pub max_expiry_wait: Duration,
}

/// The outcome of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every expectation held.
    Pass,
    /// The request that broke the rule.
    Fail(Broken),
    /// Not checkable here, and why.
    NotRun(String),
}

impl Outcome {
    /// The outcome of a rule that may find itself not checkable: `Ok(Some(why))` skips it.
    fn unless_skipped(result: Result<Option<String>, Broken>) -> Self {
        match result {
            Ok(None) => Self::Pass,
            Ok(Some(reason)) => Self::NotRun(reason),
            Err(broken) => Self::Fail(broken),
        }
    }
}

fn key() -> String {
    IdempotencyKey::generate().as_str().to_owned()
}

impl Context {
    async fn post(&self, path: &str, auth: Auth<'_>, key: Option<&str>, body: &Value) -> Step<Reply> {
        self.probe.send(Method::POST, path, auth, key, Some(body)).await
    }

    async fn get(&self, path: &str, token: &SecretString) -> Step<Reply> {
        self.probe.send(Method::GET, path, Auth::Bearer(token), None, None).await
    }

    async fn create(&self, token: &SecretString, key: &str) -> Step<Reply> {
        self.post("v1/claims", Auth::Bearer(token), Some(key), &json!({})).await
    }

    /// A new claim of `token`'s customer: (id, token).
    async fn claim(&self, token: &SecretString) -> Step<(String, String)> {
        let reply = self.create(token, &key()).await?.expect(201)?;
        Ok((reply.text("claim_id")?, reply.text("claim_token")?))
    }

    async fn redeem(&self, device: &DeviceCredential, token: &str) -> Step<Reply> {
        let body = json!({"claim_token": token, "device_id": device.device_id().as_str()});
        self.post("v1/claims/redeem", Auth::Device(device, REDEEM_SIGNING_PREFIX), None, &body).await
    }

    async fn confirm(&self, token: &SecretString, claim: &str, device: &str, key: &str) -> Step<Reply> {
        self.confirm_waiting(token, claim, device, key, 0).await
    }

    /// A confirm asking the backend to hold it up to `wait` seconds while the claim is pending.
    async fn confirm_waiting(
        &self,
        token: &SecretString,
        claim: &str,
        device: &str,
        key: &str,
        wait: u32,
    ) -> Step<Reply> {
        let path = match wait {
            0 => format!("v1/claims/{claim}/confirm"),
            wait => format!("v1/claims/{claim}/confirm?wait={wait}"),
        };
        self.post(&path, Auth::Bearer(token), Some(key), &json!({"device_id": device})).await
    }

    /// Sets `device` up for `token`'s customer: claim, redeem, confirm → binding id.
    async fn set_up(&self, token: &SecretString, device: &DeviceCredential) -> Step<String> {
        let (claim, claim_token) = self.claim(token).await?;
        self.redeem(device, &claim_token).await?.expect(200)?;
        let reply = self.confirm(token, &claim, device.device_id().as_str(), &key()).await?.expect(200)?;
        reply.text("binding_id")
    }

    /// Every binding `token`'s customer sees, following the pages.
    async fn bindings(&self, token: &SecretString, include_ended: bool) -> Step<Vec<Value>> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let mut path = format!("v1/bindings?limit=100&include_ended={include_ended}");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={}", urlencode(cursor)));
            }
            let reply = self.get(&path, token).await?.expect(200)?;
            let page =
                reply.body["bindings"].as_array().ok_or_else(|| reply.broken("no `bindings` array"))?;
            all.extend(page.iter().cloned());
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(all),
            }
        }
        Err(Broken { request: "GET /v1/bindings".into(), problem: "more than 100 pages".into() })
    }

    async fn find(&self, token: &SecretString, binding: &str, include_ended: bool) -> Step<Option<Value>> {
        Ok(self.bindings(token, include_ended).await?.into_iter().find(|b| b["binding_id"] == binding))
    }

    async fn accept(&self, token: &SecretString, code: &str) -> Step<Reply> {
        let body = json!({"transfer_code": code});
        self.post("v1/transfers/accept", Auth::Bearer(token), Some(&key()), &body).await
    }

    async fn unbind(&self, token: &SecretString, binding: &str) -> Step<Reply> {
        self.probe
            .send(Method::DELETE, &format!("v1/bindings/{binding}"), Auth::Bearer(token), None, None)
            .await
    }

    /// Removes whatever the rule bound (failures are the rule `unbind`'s business).
    async fn clean_up(&self, bindings: &[(&SecretString, &str)]) {
        for (token, binding) in bindings {
            let _ = self.unbind(token, binding).await;
        }
    }

    async fn device_bound(&self, device: &DeviceCredential) -> Step<bool> {
        let body = json!({"device_id": device.device_id().as_str()});
        let reply = self
            .post("v1/device/binding", Auth::Device(device, BINDING_CHECK_SIGNING_PREFIX), None, &body)
            .await?
            .expect(200)?;
        reply.body["bound"].as_bool().ok_or_else(|| reply.broken("no boolean `bound`"))
    }

    /// Runs rule `id`.
    pub async fn run(&self, id: &str) -> Outcome {
        let result = match id {
            "auth.user-token" => self.user_token().await,
            "idempotency.key-required" => self.key_required().await,
            "idempotency.replay" => self.replay().await,
            "idempotency.body-mismatch" => self.body_mismatch().await,
            "idempotency.per-customer" => self.per_customer().await,
            "claims.private" => self.private_claims().await,
            "redeem.device-auth" => self.device_auth().await,
            "claims.single-use" => self.single_use().await,
            "claims.expiry" => return self.expiry().await,
            "confirm.device-match" => self.device_match().await,
            "confirm.needs-redemption" => self.needs_redemption().await,
            "claims.long-poll" => self.long_poll().await,
            "confirm.waits" => return self.confirm_waits().await,
            "bindings.list" => self.list().await,
            "bindings.pages" => self.pages().await,
            "rebind.same-customer" => self.same_customer().await,
            "rebind.other-customer" => self.other_customer().await,
            "unbind" => self.unbind_rule().await,
            "transfer" => self.transfer().await,
            "problems.format" => self.problem_format().await,
            other => return Outcome::NotRun(format!("unknown rule {other}")),
        };
        match result {
            Ok(()) => Outcome::Pass,
            Err(broken) => Outcome::Fail(broken),
        }
    }

    async fn user_token(&self) -> Step<()> {
        let reply = self.post("v1/claims", Auth::None, Some(&key()), &json!({})).await?;
        reply.expect_problem(401, "unauthorized")?;
        let forged = SecretString::new("not-a-token-unbox-check");
        self.create(&forged, &key()).await?.expect_problem(401, "unauthorized")?;
        Ok(())
    }

    async fn key_required(&self) -> Step<()> {
        let reply = self.post("v1/claims", Auth::Bearer(&self.alice), None, &json!({})).await?;
        reply.expect_problem(400, "idempotency-key-missing").map(drop)
    }

    async fn replay(&self) -> Step<()> {
        let key = key();
        let first = self.create(&self.alice, &key).await?.expect(201)?;
        let again = self.create(&self.alice, &key).await?.expect(201)?;
        if again.body["claim_id"] != first.body["claim_id"] {
            return Err(again.broken("the retry created another claim instead of replaying the first answer"));
        }
        if !again.replayed {
            return Err(again.broken("the replay lacks `Idempotent-Replayed: true`"));
        }
        Ok(())
    }

    async fn body_mismatch(&self) -> Step<()> {
        // A stored answer (the mismatch that voids the claim; `claim-not-redeemed` is not kept).
        let (claim, token) = self.claim(&self.alice).await?;
        self.redeem(&self.other, &token).await?.expect(200)?;
        let key = key();
        let device = self.device.device_id().as_str();
        let first = self.confirm(&self.alice, &claim, device, &key).await?;
        if first.status == 200 {
            self.clean_up(&[(&self.alice, &first.text("binding_id").unwrap_or_default())]).await;
        }
        if first.status >= 500 {
            return Err(first.broken("expected an answer to store"));
        }
        let other = self.other.device_id().as_str();
        let reply = self.confirm(&self.alice, &claim, other, &key).await?;
        if reply.status == 200 {
            self.clean_up(&[(&self.alice, &reply.text("binding_id").unwrap_or_default())]).await;
        }
        reply.expect_problem(422, "idempotency-key-reused").map(drop)
    }

    async fn per_customer(&self) -> Step<()> {
        let key = key();
        let alices = self.create(&self.alice, &key).await?.expect(201)?;
        let bobs = self.create(&self.bob, &key).await?.expect(201)?;
        if bobs.body["claim_id"] == alices.body["claim_id"] || bobs.replayed {
            return Err(bobs.broken("customer B got customer A's claim for A's key"));
        }
        Ok(())
    }

    async fn private_claims(&self) -> Step<()> {
        let (claim, _) = self.claim(&self.alice).await?;
        let reply = self.get(&format!("v1/claims/{claim}"), &self.bob).await?;
        reply.expect_problem(404, "claim-not-found").map(drop)
    }

    async fn device_auth(&self) -> Step<()> {
        let (claim, token) = self.claim(&self.alice).await?;
        // The body names the registered device; the signature is another key's.
        let body = json!({"claim_token": token, "device_id": self.device.device_id().as_str()});
        let forged =
            self.post("v1/claims/redeem", Auth::Device(&self.stranger, REDEEM_SIGNING_PREFIX), None, &body);
        forged.await?.expect_problem(401, "device-unauthorized")?;
        self.redeem(&self.stranger, &token).await?.expect_problem(401, "device-unauthorized")?;
        let view = self.get(&format!("v1/claims/{claim}"), &self.alice).await?.expect(200)?;
        if view.body["status"] != "pending" {
            return Err(view.broken("a refused redemption changed the claim"));
        }
        Ok(())
    }

    async fn single_use(&self) -> Step<()> {
        let (_, token) = self.claim(&self.alice).await?;
        let first = self.redeem(&self.device, &token).await?.expect(200)?;
        if first.body["status"] != "redeemed" {
            return Err(first.broken("expected status redeemed"));
        }
        self.redeem(&self.device, &token).await?.expect(200)?;
        self.redeem(&self.other, &token).await?.expect_problem(409, "claim-already-used")?;
        let unknown = "A".repeat(43);
        self.redeem(&self.device, &unknown).await?.expect_problem(404, "claim-not-found").map(drop)
    }

    async fn expiry(&self) -> Outcome {
        let result: Step<Option<String>> = async {
            let reply = self.create(&self.alice, &key()).await?.expect(201)?;
            let (claim, token) = (reply.text("claim_id")?, reply.text("claim_token")?);
            let expires_at = reply.text("expires_at")?;
            let expires_at =
                time::OffsetDateTime::parse(&expires_at, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| reply.broken("expires_at is not RFC 3339"))?;
            let left = (SystemTime::from(expires_at)).duration_since(SystemTime::now()).unwrap_or_default();
            if left > self.max_expiry_wait {
                return Ok(Some(format!(
                    "claims live {} s, longer than --max-expiry-wait {} s",
                    left.as_secs(),
                    self.max_expiry_wait.as_secs()
                )));
            }
            tokio::time::sleep(left + Duration::from_millis(1500)).await;
            let view = self.get(&format!("v1/claims/{claim}"), &self.alice).await?.expect(200)?;
            if view.body["status"] != "expired" {
                return Err(view.broken("expected status expired after expires_at"));
            }
            self.redeem(&self.device, &token).await?.expect_problem(410, "claim-expired")?;
            Ok(None)
        }
        .await;
        Outcome::unless_skipped(result)
    }

    async fn device_match(&self) -> Step<()> {
        let (claim, token) = self.claim(&self.alice).await?;
        self.redeem(&self.other, &token).await?.expect(200)?;
        let device = self.device.device_id().as_str();
        let reply = self.confirm(&self.alice, &claim, device, &key()).await?;
        if reply.status == 200 {
            let binding = reply.text("binding_id").unwrap_or_default();
            self.clean_up(&[(&self.alice, &binding)]).await;
        }
        reply.expect_problem(409, "device-mismatch")?;
        let view = self.get(&format!("v1/claims/{claim}"), &self.alice).await?.expect(200)?;
        if view.body["status"] != "refused" {
            return Err(view.broken("expected status refused after the mismatch"));
        }
        let rogue = self.other.device_id().as_str();
        self.confirm(&self.alice, &claim, rogue, &key()).await?.expect_problem(409, "claim-refused").map(drop)
    }

    async fn needs_redemption(&self) -> Step<()> {
        let (claim, _) = self.claim(&self.alice).await?;
        let reply = self.confirm(&self.alice, &claim, self.device.device_id().as_str(), &key()).await?;
        if reply.status == 200 {
            let binding = reply.text("binding_id").unwrap_or_default();
            self.clean_up(&[(&self.alice, &binding)]).await;
        }
        reply.expect_problem(409, "claim-not-redeemed").map(drop)
    }

    async fn long_poll(&self) -> Step<()> {
        let (claim, token) = self.claim(&self.alice).await?;
        let path = format!("v1/claims/{claim}?wait=20");
        let poll = self.get(&path, &self.alice);
        let redeem = async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            self.redeem(&self.device, &token).await
        };
        let (view, redeemed) = tokio::join!(poll, redeem);
        redeemed?.expect(200)?;
        let view = view?.expect(200)?;
        if view.body["status"] != "redeemed" {
            return Err(view.broken("answered `pending` before the device redeemed: `wait` was not honoured"));
        }
        Ok(())
    }

    /// Not run against a backend whose claims do not say `confirm_waits: true` (optional).
    async fn confirm_waits(&self) -> Outcome {
        let result: Step<Option<String>> = async {
            let reply = self.create(&self.alice, &key()).await?.expect(201)?;
            if reply.body["confirm_waits"] != true {
                return Ok(Some("the backend's claims do not say confirm_waits: true (optional)".into()));
            }
            let (claim, token) = (reply.text("claim_id")?, reply.text("claim_token")?);
            let device = self.device.device_id().as_str();
            let key = key();
            let ran_out = self.confirm_waiting(&self.alice, &claim, device, &key, 1).await?;
            if ran_out.status == 200 {
                self.clean_up(&[(&self.alice, &ran_out.text("binding_id").unwrap_or_default())]).await;
            }
            ran_out.expect_problem(409, "claim-not-redeemed")?;
            // The same key again, the device redeeming meanwhile: held, then confirmed.
            let held = self.confirm_waiting(&self.alice, &claim, device, &key, 20);
            let redeem = async {
                tokio::time::sleep(Duration::from_millis(700)).await;
                self.redeem(&self.device, &token).await
            };
            let (confirmed, redeemed) = tokio::join!(held, redeem);
            redeemed?.expect(200)?;
            let confirmed = confirmed?;
            if confirmed.status == 409 && confirmed.body["code"] == "claim-not-redeemed" {
                return Err(confirmed.broken(
                    "answered claim-not-redeemed before the device redeemed: `wait` was not honoured, or the earlier answer was replayed for the key",
                ));
            }
            let confirmed = confirmed.expect(200)?;
            let binding = confirmed.text("binding_id")?;
            self.clean_up(&[(&self.alice, &binding)]).await;
            if confirmed.body["device_id"] != device || confirmed.body["claim_id"] != claim.as_str() {
                return Err(confirmed.broken("the binding names another device or claim"));
            }
            Ok(None)
        }
        .await;
        Outcome::unless_skipped(result)
    }

    async fn list(&self) -> Step<()> {
        let (claim, token) = self.claim(&self.alice).await?;
        self.redeem(&self.device, &token).await?.expect(200)?;
        let device = self.device.device_id().as_str();
        let confirmed = self.confirm(&self.alice, &claim, device, &key()).await?.expect(200)?;
        let binding = confirmed.text("binding_id")?;
        let result = async {
            for field in ["claim_id", "device_id", "bound_at"] {
                confirmed.text(field)?;
            }
            let view = self.get(&format!("v1/claims/{claim}"), &self.alice).await?.expect(200)?;
            if view.body["status"] != "confirmed" || view.body["binding_id"] != binding.as_str() {
                return Err(view.broken("expected status confirmed with the binding's id"));
            }
            let listed = self.find(&self.alice, &binding, false).await?.ok_or_else(|| Broken {
                request: "GET /v1/bindings".into(),
                problem: format!("binding {binding} is missing from the owner's list"),
            })?;
            for field in ["name", "bound_at", "last_redemption_at", "bound_by_client"] {
                if !listed[field].is_string() {
                    return Err(Broken {
                        request: "GET /v1/bindings".into(),
                        problem: format!("no `{field}`"),
                    });
                }
            }
            if listed["device_id"] != device || listed["status"] != "active" {
                return Err(Broken {
                    request: "GET /v1/bindings".into(),
                    problem: "wrong device or status".into(),
                });
            }
            if self.find(&self.bob, &binding, true).await?.is_some() {
                return Err(Broken {
                    request: "GET /v1/bindings (customer B)".into(),
                    problem: "another customer's list shows customer A's binding".into(),
                });
            }
            Ok(())
        }
        .await;
        self.clean_up(&[(&self.alice, &binding)]).await;
        result
    }

    async fn pages(&self) -> Step<()> {
        let first = self.set_up(&self.alice, &self.device).await?;
        let second = self.set_up(&self.alice, &self.other).await;
        let result = async {
            let second = second.clone()?;
            let reply = self.get("v1/bindings?limit=1", &self.alice).await?.expect(200)?;
            let page = reply.body["bindings"].as_array().cloned().unwrap_or_default();
            let Some(cursor) = reply.body["next_cursor"].as_str().filter(|_| page.len() == 1) else {
                return Err(reply.broken("expected one binding and a next_cursor for limit=1"));
            };
            let next =
                self.get(&format!("v1/bindings?limit=1&cursor={}", urlencode(cursor)), &self.alice).await?;
            let next = next.expect(200)?;
            let later = next.body["bindings"].as_array().cloned().unwrap_or_default();
            if later.len() != 1 || later[0]["binding_id"] == page[0]["binding_id"] {
                return Err(next.broken("the second page does not hold the next binding"));
            }
            let all: Vec<Value> = self.bindings(&self.alice, false).await?;
            for binding in [&first, &second] {
                if all.iter().filter(|b| b["binding_id"] == binding.as_str()).count() != 1 {
                    return Err(Broken {
                        request: "GET /v1/bindings (all pages)".into(),
                        problem: format!("binding {binding} is not listed exactly once"),
                    });
                }
            }
            Ok(())
        }
        .await;
        let second = second.unwrap_or_default();
        self.clean_up(&[(&self.alice, &first), (&self.alice, &second)]).await;
        result
    }

    async fn same_customer(&self) -> Step<()> {
        let first = self.set_up(&self.alice, &self.device).await?;
        let again = self.set_up(&self.alice, &self.device).await;
        self.clean_up(&[(&self.alice, &first), (&self.alice, again.as_deref().unwrap_or_default())]).await;
        let again = again?;
        if again != first {
            return Err(Broken {
                request: "POST /v1/claims/{claim_id}/confirm (second setup, same customer)".into(),
                problem: format!("a new binding {again} instead of keeping {first}"),
            });
        }
        Ok(())
    }

    async fn other_customer(&self) -> Step<()> {
        let alices = self.set_up(&self.alice, &self.device).await?;
        let bobs = self.set_up(&self.bob, &self.device).await;
        let result = async {
            let bobs = bobs.clone()?;
            if bobs == alices || self.find(&self.bob, &bobs, false).await?.is_none() {
                return Err(Broken {
                    request: "GET /v1/bindings (customer B)".into(),
                    problem: "customer B's setup did not give B a binding of its own".into(),
                });
            }
            let ended = self.find(&self.alice, &alices, true).await?;
            let still = self.find(&self.alice, &alices, false).await?;
            match ended {
                Some(old)
                    if still.is_none() && old["status"] == "ended" && old["end_reason"] == "rebound" =>
                {
                    Ok(())
                }
                _ => Err(Broken {
                    request: "GET /v1/bindings?include_ended=true (customer A)".into(),
                    problem: "the previous owner's binding did not end with end_reason rebound".into(),
                }),
            }
        }
        .await;
        self.clean_up(&[(&self.bob, bobs.as_deref().unwrap_or_default()), (&self.alice, &alices)]).await;
        result
    }

    async fn unbind_rule(&self) -> Step<()> {
        let binding = self.set_up(&self.alice, &self.device).await?;
        if !self.device_bound(&self.device).await? {
            return Err(Broken {
                request: "POST /v1/device/binding".into(),
                problem: "a bound device is told it is not".into(),
            });
        }
        self.unbind(&self.bob, &binding).await?.expect_problem(404, "binding-not-found")?;
        self.unbind(&self.alice, &binding).await?.expect(204)?;
        if self.find(&self.alice, &binding, false).await?.is_some() {
            return Err(Broken {
                request: "GET /v1/bindings".into(),
                problem: "the unbound device is still listed".into(),
            });
        }
        if self.device_bound(&self.device).await? {
            return Err(Broken {
                request: "POST /v1/device/binding".into(),
                problem: "the device is still told it is bound after DELETE".into(),
            });
        }
        self.unbind(&self.alice, &binding).await?.expect(204)?;
        let ended = self.find(&self.alice, &binding, true).await?;
        if ended.as_ref().is_none_or(|b| b["end_reason"] != "unbound") {
            return Err(Broken {
                request: "GET /v1/bindings?include_ended=true".into(),
                problem: "the ended binding does not say end_reason unbound".into(),
            });
        }
        Ok(())
    }

    async fn transfer(&self) -> Step<()> {
        let binding = self.set_up(&self.alice, &self.other).await?;
        let mut made = vec![(&self.alice, binding.clone())];
        let result = async {
            let path = format!("v1/bindings/{binding}/transfers");
            let offer =
                self.post(&path, Auth::Bearer(&self.alice), Some(&key()), &json!({})).await?.expect(201)?;
            let code = offer.text("transfer_code")?;

            let bobs = self.accept(&self.bob, &code).await?.expect(200)?;
            let bobs_id = bobs.text("binding_id")?;
            made.push((&self.bob, bobs_id.clone()));
            if bobs.body["device_id"] != self.other.device_id().as_str()
                || self.find(&self.bob, &bobs_id, false).await?.is_none()
            {
                return Err(bobs.broken("the receiver's list does not hold the transferred device"));
            }
            let old = self.find(&self.alice, &binding, true).await?;
            if self.find(&self.alice, &binding, false).await?.is_some()
                || old.is_none_or(|b| b["end_reason"] != "transferred")
            {
                return Err(Broken {
                    request: "GET /v1/bindings?include_ended=true (giver)".into(),
                    problem: "the giver's binding did not end with end_reason transferred".into(),
                });
            }
            let again = self.accept(&self.alice, &code).await?;
            if again.status == 200 {
                made.push((&self.alice, again.text("binding_id").unwrap_or_default()));
            }
            again.expect_problem(404, "transfer-not-found").map(drop)
        }
        .await;
        for (token, id) in made.iter().rev() {
            let _ = self.unbind(token, id).await;
        }
        result
    }

    async fn problem_format(&self) -> Step<()> {
        let forged = SecretString::new("not-a-token-unbox-check");
        let unauthorized = self.create(&forged, &key()).await?;
        let unknown = self.get("v1/claims/clm_unbox_check_unknown", &self.alice).await?;
        let no_binding = self.unbind(&self.alice, "bnd_unbox_check_unknown").await?;
        for reply in [unauthorized, unknown, no_binding] {
            let code = reply.body["code"].as_str().unwrap_or_default();
            let well_formed = reply.content_type == PROBLEM_JSON
                && reply.body["type"].as_str() == Some(&format!("{PROBLEM_TYPE_PREFIX}{code}"))
                && !code.is_empty()
                && reply.body["title"].is_string()
                && reply.body["status"].as_u64() == Some(u64::from(reply.status));
            if !well_formed {
                return Err(reply.broken(format!(
                    "expected {PROBLEM_JSON} with type {PROBLEM_TYPE_PREFIX}<code>, title, status and code; got {} {}",
                    reply.content_type, reply.body
                )));
            }
        }
        Ok(())
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
