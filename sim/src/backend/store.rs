//! The simulated backend's claims and their state machine. Pure: the time is always passed in,
//! so the rules are tested without a server or a clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use unbox_core::binding::problem::ProblemType;
use unbox_core::binding::wire::{BindingView, ClaimCreated, ClaimView};
use unbox_core::binding::{ClaimStatus, DeviceId};
use unbox_core::secret::SecretString;

use super::bindings::{BindingRegistry, Confirmation};
use super::breaks::{Breaks, ContractBreak};

/// A refused operation: the problem type and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub problem: ProblemType,
    pub detail: String,
}

pub(crate) fn refuse(problem: ProblemType, detail: impl Into<String>) -> Refusal {
    Refusal { problem, detail: detail.into() }
}

/// The stored part of a claim's status; `expired` is derived from the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Pending,
    Redeemed,
    Confirmed,
    Refused,
}

struct ClaimRecord {
    owner: String,
    stage: Stage,
    /// Deadline of the current step: redemption while pending, confirmation while redeemed.
    expires_at: SystemTime,
    redeemed_by: Option<DeviceId>,
    redeemed_at: Option<SystemTime>,
    binding: Option<BindingView>,
    changed: Arc<Notify>,
    /// Set only by the [`ContractBreak::NoExpiry`] test double.
    never_expires: bool,
}

impl ClaimRecord {
    fn status(&self, now: SystemTime) -> ClaimStatus {
        match self.stage {
            Stage::Pending | Stage::Redeemed if now >= self.expires_at && !self.never_expires => {
                ClaimStatus::Expired
            }
            Stage::Pending => ClaimStatus::Pending,
            Stage::Redeemed => ClaimStatus::Redeemed,
            Stage::Confirmed => ClaimStatus::Confirmed,
            Stage::Refused => ClaimStatus::Refused,
        }
    }
}

/// How long claims live.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetimes {
    pub claim_ttl: Duration,
    pub confirm_ttl: Duration,
}

/// How long a claim is remembered after its last deadline: late polls, retried confirmations and
/// a device's repeated redemption still get their real answer; after that the claim is
/// forgotten, so a simulator running for days holds only recent claims.
const RETENTION: Duration = Duration::from_secs(60 * 60);
/// Forgetting runs at most this often.
pub(crate) const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Every claim the backend knows, indexed by id and by the SHA-256 of its token (the token
/// itself is never stored).
pub(crate) struct ClaimStore {
    lifetimes: Lifetimes,
    /// The bindings confirmations produced; they outlive the claims.
    pub bindings: BindingRegistry,
    /// Rules deliberately broken (test doubles).
    pub breaks: Breaks,
    /// Whether confirms honour `wait` (advertised on every new claim as `confirm_waits`).
    pub confirm_waits: bool,
    claims: HashMap<String, ClaimRecord>,
    by_token: HashMap<[u8; 32], String>,
    next_prune: SystemTime,
}

fn token_digest(token: &SecretString) -> [u8; 32] {
    Sha256::digest(token.expose().as_bytes()).into()
}

pub(crate) fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// Where a long-poll stands: answer now, or wait for `changed`, at most until `expires_at`.
pub(crate) enum Poll {
    Ready,
    Wait { changed: Arc<Notify>, expires_at: SystemTime },
}

impl ClaimStore {
    pub fn new(lifetimes: Lifetimes) -> Self {
        Self {
            lifetimes,
            bindings: BindingRegistry::default(),
            breaks: Breaks::default(),
            confirm_waits: true,
            claims: HashMap::new(),
            by_token: HashMap::new(),
            next_prune: SystemTime::UNIX_EPOCH,
        }
    }

    /// How many claims are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.claims.len()
    }

    /// Forgets claims whose last deadline passed more than [`RETENTION`] ago.
    fn prune(&mut self, now: SystemTime) {
        if now < self.next_prune {
            return;
        }
        self.next_prune = now + PRUNE_INTERVAL;
        self.claims.retain(|_, claim| now < claim.expires_at + RETENTION);
        let claims = &self.claims;
        self.by_token.retain(|_, id| claims.contains_key(id));
    }

    /// Creates a claim for `owner`: a random id and a 256-bit token.
    pub fn create(&mut self, owner: &str, now: SystemTime) -> ClaimCreated {
        self.prune(now);
        let id = format!("clm_{}", random_text(16));
        let token = SecretString::new(random_text(32));
        let expires_at = now + self.lifetimes.claim_ttl;
        self.by_token.insert(token_digest(&token), id.clone());
        self.claims.insert(
            id.clone(),
            ClaimRecord {
                owner: owner.to_owned(),
                stage: Stage::Pending,
                expires_at,
                redeemed_by: None,
                redeemed_at: None,
                binding: None,
                changed: Arc::new(Notify::new()),
                never_expires: self.breaks.has(ContractBreak::NoExpiry),
            },
        );
        ClaimCreated {
            claim_id: id,
            claim_token: token,
            expires_at: expires_at.into(),
            status: ClaimStatus::Pending,
            confirm_waits: self.confirm_waits,
        }
    }

    fn owned(&self, owner: &str, id: &str) -> Result<&ClaimRecord, Refusal> {
        self.claims
            .get(id)
            .filter(|claim| claim.owner == owner || self.breaks.has(ContractBreak::ClaimsPublic))
            .ok_or_else(|| refuse(ProblemType::ClaimNotFound, format!("no claim {id} for this account")))
    }

    fn view(id: &str, claim: &ClaimRecord, now: SystemTime) -> ClaimView {
        let status = claim.status(now);
        let binding = claim.binding.as_ref().filter(|_| status == ClaimStatus::Confirmed);
        ClaimView {
            claim_id: id.to_owned(),
            status,
            expires_at: claim.expires_at.into(),
            device_id: binding.map(|b| b.device_id.clone()),
            binding_id: binding.map(|b| b.binding_id.clone()),
        }
    }

    /// Whether the claim can be answered now, or what to wait on while it is pending.
    pub fn poll(&self, owner: &str, id: &str, now: SystemTime) -> Result<Poll, Refusal> {
        let claim = self.owned(owner, id)?;
        Ok(match claim.status(now) {
            ClaimStatus::Pending => {
                Poll::Wait { changed: claim.changed.clone(), expires_at: claim.expires_at }
            }
            _ => Poll::Ready,
        })
    }

    /// The claim now.
    pub fn get(&self, owner: &str, id: &str, now: SystemTime) -> Result<ClaimView, Refusal> {
        self.owned(owner, id).map(|claim| Self::view(id, claim, now))
    }

    /// A device redeems a token. Repeating a redemption is harmless for the same device.
    pub fn redeem(
        &mut self,
        token: &SecretString,
        device: &DeviceId,
        now: SystemTime,
    ) -> Result<ClaimStatus, Refusal> {
        let confirm_ttl = self.lifetimes.confirm_ttl;
        let claim = self
            .by_token
            .get(&token_digest(token))
            .and_then(|id| self.claims.get_mut(id))
            .ok_or_else(|| refuse(ProblemType::ClaimNotFound, "no claim has this token"))?;
        let same_device = claim.redeemed_by.as_ref() == Some(device);
        match claim.status(now) {
            ClaimStatus::Expired => Err(refuse(ProblemType::ClaimExpired, "the claim token expired")),
            ClaimStatus::Pending => {
                claim.stage = Stage::Redeemed;
                claim.redeemed_by = Some(device.clone());
                claim.redeemed_at = Some(now);
                claim.expires_at = now + confirm_ttl;
                claim.changed.notify_waiters();
                Ok(ClaimStatus::Redeemed)
            }
            status @ (ClaimStatus::Redeemed | ClaimStatus::Confirmed) if same_device => Ok(status),
            ClaimStatus::Redeemed if self.breaks.has(ContractBreak::ReusableClaims) => {
                claim.redeemed_by = Some(device.clone());
                Ok(ClaimStatus::Redeemed)
            }
            ClaimStatus::Refused => {
                Err(refuse(ProblemType::ClaimRefused, "the claim was voided after a device mismatch"))
            }
            ClaimStatus::Redeemed | ClaimStatus::Confirmed => {
                Err(refuse(ProblemType::ClaimAlreadyUsed, "another device already redeemed this claim token"))
            }
        }
    }

    /// The owner confirms the device it set up, through the app `client_id`, naming it `name`.
    /// The binding it activates follows the registry's rules (same owner keeps its binding,
    /// another owner's ends as `rebound`).
    pub fn confirm(
        &mut self,
        owner: &str,
        id: &str,
        device: &DeviceId,
        (client_id, name): (&str, Option<String>),
        now: SystemTime,
    ) -> Result<BindingView, Refusal> {
        self.owned(owner, id)?;
        let claim = self
            .claims
            .get_mut(id)
            .ok_or_else(|| refuse(ProblemType::ClaimNotFound, format!("no claim {id} for this account")))?;
        let same_device = claim.redeemed_by.as_ref() == Some(device);
        let accepted = same_device
            || self.breaks.has(ContractBreak::AnyDeviceConfirms)
            || (claim.redeemed_by.is_none() && self.breaks.has(ContractBreak::ConfirmBeforeRedeem));
        let status = match claim.status(now) {
            ClaimStatus::Pending if self.breaks.has(ContractBreak::ConfirmBeforeRedeem) => {
                ClaimStatus::Redeemed
            }
            status => status,
        };
        match status {
            ClaimStatus::Expired => {
                Err(refuse(ProblemType::ClaimExpired, "the claim expired before it was confirmed"))
            }
            ClaimStatus::Pending => {
                Err(refuse(ProblemType::ClaimNotRedeemed, "no device has redeemed this claim yet"))
            }
            ClaimStatus::Refused => {
                Err(refuse(ProblemType::ClaimRefused, "the claim was voided after a device mismatch"))
            }
            ClaimStatus::Redeemed if accepted => {
                let binding = self.bindings.bind(
                    Confirmation {
                        owner,
                        device,
                        claim_id: id,
                        client_id,
                        name,
                        redeemed_at: claim.redeemed_at.unwrap_or(now),
                    },
                    now,
                );
                claim.stage = Stage::Confirmed;
                claim.binding = Some(binding.clone());
                claim.changed.notify_waiters();
                Ok(binding)
            }
            ClaimStatus::Confirmed => match claim.binding.as_ref() {
                Some(binding) if same_device => Ok(binding.clone()),
                _ => Err(refuse(ProblemType::DeviceMismatch, "the claim is bound to another device")),
            },
            ClaimStatus::Redeemed => {
                claim.stage = Stage::Refused;
                claim.changed.notify_waiters();
                Err(refuse(
                    ProblemType::DeviceMismatch,
                    "another device redeemed this claim than the one confirmed; the claim is void",
                ))
            }
        }
    }

    /// Wakes every long-poll (after the clock moved).
    pub fn wake_all(&self) {
        for claim in self.claims.values() {
            claim.changed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn store() -> ClaimStore {
        ClaimStore::new(Lifetimes { claim_ttl: 10 * MINUTE, confirm_ttl: 5 * MINUTE })
    }

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000)
    }

    fn device(id: &str) -> DeviceId {
        DeviceId::new(id).expect("valid id")
    }

    fn app() -> (&'static str, Option<String>) {
        ("app", None)
    }

    fn status(store: &ClaimStore, id: &str, now: SystemTime) -> ClaimStatus {
        store.get("alice", id, now).map(|v| v.status).expect("claim exists")
    }

    #[test]
    fn claims_are_forgotten_an_hour_after_their_last_deadline() {
        let mut store = store();
        let confirmed = store.create("alice", t0());
        store.redeem(&confirmed.claim_token, &device("d1"), t0()).unwrap();
        store.confirm("alice", &confirmed.claim_id, &device("d1"), app(), t0()).unwrap();
        for _ in 0..100 {
            store.create("alice", t0());
        }
        assert_eq!(store.len(), 101);
        // Within the retention a confirmed claim still answers.
        let later = t0() + 5 * MINUTE + RETENTION - MINUTE;
        store.create("alice", later);
        assert_eq!(status(&store, &confirmed.claim_id, later), ClaimStatus::Confirmed);
        assert_eq!(store.len(), 102);
        let days_later = t0() + Duration::from_secs(3 * 24 * 3600);
        let fresh = store.create("alice", days_later);
        assert_eq!(store.len(), 1, "only the new claim is left");
        assert_eq!(store.by_token.len(), 1);
        assert_eq!(
            store.get("alice", &confirmed.claim_id, days_later).map_err(|r| r.problem),
            Err(ProblemType::ClaimNotFound)
        );
        assert_eq!(status(&store, &fresh.claim_id, days_later), ClaimStatus::Pending);
    }

    #[test]
    fn happy_path_and_repeats() {
        let mut store = store();
        let claim = store.create("alice", t0());
        assert_eq!(claim.claim_token.expose().len(), 43);
        assert_eq!(store.redeem(&claim.claim_token, &device("d1"), t0()), Ok(ClaimStatus::Redeemed));
        assert_eq!(store.redeem(&claim.claim_token, &device("d1"), t0()), Ok(ClaimStatus::Redeemed));
        let binding = store.confirm("alice", &claim.claim_id, &device("d1"), app(), t0()).expect("confirmed");
        assert_eq!(store.confirm("alice", &claim.claim_id, &device("d1"), app(), t0()), Ok(binding.clone()));
        assert_eq!(store.redeem(&claim.claim_token, &device("d1"), t0()), Ok(ClaimStatus::Confirmed));
        let view = store.get("alice", &claim.claim_id, t0()).expect("claim exists");
        assert_eq!(view.status, ClaimStatus::Confirmed);
        assert_eq!(view.binding_id, Some(binding.binding_id));
        assert_eq!(view.device_id.as_deref(), Some("d1"));
    }

    #[test]
    fn expiry_applies_to_redemption_then_to_confirmation() {
        let mut store = store();
        let late = store.create("alice", t0());
        let after = t0() + 10 * MINUTE;
        assert_eq!(status(&store, &late.claim_id, after), ClaimStatus::Expired);
        let refusal = store.redeem(&late.claim_token, &device("d1"), after).expect_err("expired");
        assert_eq!(refusal.problem, ProblemType::ClaimExpired);

        let slow = store.create("alice", t0());
        let redeemed_at = t0() + 9 * MINUTE;
        store.redeem(&slow.claim_token, &device("d1"), redeemed_at).expect("in time");
        assert_eq!(status(&store, &slow.claim_id, redeemed_at + 4 * MINUTE), ClaimStatus::Redeemed);
        let refusal = store.confirm("alice", &slow.claim_id, &device("d1"), app(), redeemed_at + 5 * MINUTE);
        assert_eq!(refusal.map_err(|r| r.problem), Err(ProblemType::ClaimExpired));
    }

    #[test]
    fn a_second_device_cannot_redeem() {
        let mut store = store();
        let claim = store.create("alice", t0());
        store.redeem(&claim.claim_token, &device("d1"), t0()).expect("first");
        let refusal = store.redeem(&claim.claim_token, &device("d2"), t0()).expect_err("second");
        assert_eq!(refusal.problem, ProblemType::ClaimAlreadyUsed);
        let unknown =
            store.redeem(&SecretString::new("x".repeat(43)), &device("d1"), t0()).expect_err("unknown");
        assert_eq!(unknown.problem, ProblemType::ClaimNotFound);
    }

    #[test]
    fn mismatch_voids_the_claim_for_good() {
        let mut store = store();
        let claim = store.create("alice", t0());
        store.redeem(&claim.claim_token, &device("evil"), t0()).expect("redeemed");
        let refusal =
            store.confirm("alice", &claim.claim_id, &device("d1"), app(), t0()).expect_err("mismatch");
        assert_eq!(refusal.problem, ProblemType::DeviceMismatch);
        assert_eq!(status(&store, &claim.claim_id, t0()), ClaimStatus::Refused);
        let again = store.confirm("alice", &claim.claim_id, &device("evil"), app(), t0()).expect_err("dead");
        assert_eq!(again.problem, ProblemType::ClaimRefused);
        assert_eq!(status(&store, &claim.claim_id, t0() + 60 * MINUTE), ClaimStatus::Refused);
    }

    #[test]
    fn confirm_needs_a_redemption_and_the_owner() {
        let mut store = store();
        let claim = store.create("alice", t0());
        let early =
            store.confirm("alice", &claim.claim_id, &device("d1"), app(), t0()).expect_err("not redeemed");
        assert_eq!(early.problem, ProblemType::ClaimNotRedeemed);
        let stranger =
            store.confirm("mallory", &claim.claim_id, &device("d1"), app(), t0()).expect_err("not owner");
        assert_eq!(stranger.problem, ProblemType::ClaimNotFound);
        assert!(store.get("mallory", &claim.claim_id, t0()).is_err());
    }

    #[test]
    fn poll_waits_only_while_pending() {
        let mut store = store();
        let claim = store.create("alice", t0());
        assert!(matches!(store.poll("alice", &claim.claim_id, t0()), Ok(Poll::Wait { .. })));
        store.redeem(&claim.claim_token, &device("d1"), t0()).expect("redeemed");
        assert!(matches!(store.poll("alice", &claim.claim_id, t0()), Ok(Poll::Ready)));
        assert_eq!(status(&store, &claim.claim_id, t0()), ClaimStatus::Redeemed);
    }
}
