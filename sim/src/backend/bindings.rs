//! The simulated backend's bindings after setup: at most one active binding per device, the
//! customer's list (paginated, oldest first), unbinding, transfer offers, and re-binding by
//! another customer. Pure: the time is always passed in. Memory stays bounded like the claims':
//! expired offers and bindings ended more than [`ENDED_RETENTION`] ago are forgotten.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use unbox_core::binding::problem::ProblemType;
use unbox_core::binding::wire::{BindingView, DeviceBindingView, TransferOfferView};
use unbox_core::binding::{DeviceId, EndReason};
use unbox_core::secret::SecretString;

use super::breaks::{Breaks, ContractBreak};
use super::store::{PRUNE_INTERVAL, Refusal, random_text, refuse};

/// How long a transfer offer can be accepted.
pub(crate) const TRANSFER_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long an ended binding stays in its former owner's list (`include_ended=true`, with its
/// reason) and answers a repeated unbind; then it is forgotten (404).
pub(crate) const ENDED_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Page size when the request names none, and the largest honoured.
pub(crate) const DEFAULT_PAGE: usize = 50;

struct BindingRecord {
    id: String,
    device: DeviceId,
    owner: String,
    name: String,
    bound_at: SystemTime,
    last_redemption_at: SystemTime,
    client_id: String,
    ended: Option<(SystemTime, EndReason)>,
}

impl BindingRecord {
    fn view(&self) -> DeviceBindingView {
        DeviceBindingView {
            binding_id: self.id.clone(),
            device_id: self.device.as_str().to_owned(),
            name: self.name.clone(),
            status: if self.ended.is_some() { "ended" } else { "active" }.to_owned(),
            bound_at: self.bound_at.into(),
            last_redemption_at: self.last_redemption_at.into(),
            bound_by_client: self.client_id.clone(),
            ended_at: self.ended.map(|(at, _)| at.into()),
            end_reason: self.ended.map(|(_, reason)| reason.as_str().to_owned()),
        }
    }
}

struct Offer {
    transfer_id: String,
    binding: u64,
    expires_at: SystemTime,
}

/// What a confirmation asks the registry to record.
pub(crate) struct Confirmation<'a> {
    pub owner: &'a str,
    pub device: &'a DeviceId,
    pub claim_id: &'a str,
    pub client_id: &'a str,
    pub name: Option<String>,
    pub redeemed_at: SystemTime,
}

/// One page of a customer's list and the cursor of the next.
pub(crate) struct Page {
    pub bindings: Vec<DeviceBindingView>,
    pub next_cursor: Option<String>,
}

/// Every binding, keyed by a sequence number (the list's order and its cursor), with the active
/// binding of each device and the open transfer offers (by the SHA-256 of their code).
#[derive(Default)]
pub(crate) struct BindingRegistry {
    records: BTreeMap<u64, BindingRecord>,
    by_id: HashMap<String, u64>,
    active: HashMap<DeviceId, u64>,
    offers: HashMap<[u8; 32], Offer>,
    next_seq: u64,
    /// When forgetting runs next; `None` before the first change.
    next_prune: Option<SystemTime>,
    /// Rules deliberately broken (test doubles).
    pub breaks: Breaks,
}

fn code_digest(code: &SecretString) -> [u8; 32] {
    Sha256::digest(code.expose().as_bytes()).into()
}

fn not_found(id: &str) -> Refusal {
    refuse(ProblemType::BindingNotFound, format!("no binding {id} for this account"))
}

impl BindingRegistry {
    /// Forgets expired offers and bindings that ended more than [`ENDED_RETENTION`] ago; runs
    /// at most every [`PRUNE_INTERVAL`], on each change.
    fn prune(&mut self, now: SystemTime) {
        if self.next_prune.is_some_and(|next| now < next) {
            return;
        }
        self.next_prune = Some(now + PRUNE_INTERVAL);
        self.offers.retain(|_, offer| now < offer.expires_at);
        let by_id = &mut self.by_id;
        self.records.retain(|_, record| match record.ended {
            Some((at, _)) if at + ENDED_RETENTION <= now => {
                by_id.remove(&record.id);
                false
            }
            _ => true,
        });
    }

    /// How many bindings and open offers are remembered.
    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        (self.records.len(), self.offers.len())
    }

    fn insert(&mut self, record: BindingRecord) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_id.insert(record.id.clone(), seq);
        self.active.insert(record.device.clone(), seq);
        self.records.insert(seq, record);
        seq
    }

    fn end(&mut self, seq: u64, reason: EndReason, now: SystemTime) {
        if let Some(record) = self.records.get_mut(&seq).filter(|r| r.ended.is_none()) {
            record.ended = Some((now, reason));
            self.active.remove(&record.device);
            self.offers.retain(|_, offer| offer.binding != seq);
            tracing::info!(binding_id = record.id, device_id = %record.device, reason = reason.as_str(), "simulated backend: binding ended");
        }
    }

    fn owned(&self, owner: &str, id: &str) -> Result<u64, Refusal> {
        self.by_id
            .get(id)
            .copied()
            .filter(|seq| self.records.get(seq).is_some_and(|r| r.owner == owner))
            .ok_or_else(|| not_found(id))
    }

    /// Activates the binding a confirmation asks for. The same customer keeps its binding (same
    /// id and `bound_at`; the redemption time and claim are updated); another customer's
    /// confirmation ends the current owner's binding with `rebound` and starts a new one.
    pub fn bind(&mut self, confirmation: Confirmation<'_>, now: SystemTime) -> BindingView {
        self.prune(now);
        let Confirmation { owner, device, claim_id, client_id, name, redeemed_at } = confirmation;
        let duplicates = self.breaks.has(ContractBreak::SameCustomerDuplicates);
        if let Some(&seq) = self.active.get(device) {
            if let Some(record) = self.records.get_mut(&seq).filter(|r| r.owner == owner && !duplicates) {
                record.last_redemption_at = redeemed_at;
                if let Some(name) = name {
                    record.name = name;
                }
                return BindingView {
                    binding_id: record.id.clone(),
                    claim_id: claim_id.to_owned(),
                    device_id: device.as_str().to_owned(),
                    bound_at: record.bound_at.into(),
                };
            }
            let same_owner = self.records.get(&seq).is_some_and(|r| r.owner == owner);
            if !same_owner && !self.breaks.has(ContractBreak::RebindKeepsOwner) {
                self.end(seq, EndReason::Rebound, now);
            }
        }
        let id = format!("bnd_{}", random_text(16));
        self.insert(BindingRecord {
            id: id.clone(),
            device: device.clone(),
            owner: owner.to_owned(),
            name: name.unwrap_or_else(|| device.as_str().to_owned()),
            bound_at: now,
            last_redemption_at: redeemed_at,
            client_id: client_id.to_owned(),
            ended: None,
        });
        BindingView {
            binding_id: id,
            claim_id: claim_id.to_owned(),
            device_id: device.as_str().to_owned(),
            bound_at: now.into(),
        }
    }

    /// A page of `owner`'s bindings after `cursor`, oldest first.
    pub fn list(
        &self,
        owner: &str,
        cursor: Option<&str>,
        limit: usize,
        include_ended: bool,
    ) -> Result<Page, Refusal> {
        let start = match cursor {
            None => 0,
            Some(text) => text
                .strip_prefix("after_")
                .and_then(|n| n.parse::<u64>().ok())
                .map(|seq| seq + 1)
                .ok_or_else(|| {
                    refuse(ProblemType::InvalidRequest, "`cursor` is not one this backend issued")
                })?,
        };
        let shared = self.breaks.has(ContractBreak::SharedListing);
        let (start, limit) =
            if self.breaks.has(ContractBreak::NoPagination) { (0, usize::MAX) } else { (start, limit) };
        let mut matching = self
            .records
            .range(start..)
            .filter(|(_, r)| (shared || r.owner == owner) && (include_ended || r.ended.is_none()));
        let bindings: Vec<(u64, DeviceBindingView)> =
            matching.by_ref().take(limit).map(|(seq, r)| (*seq, r.view())).collect();
        let more = matching.next().is_some();
        let next_cursor = bindings.last().filter(|_| more).map(|(seq, _)| format!("after_{seq}"));
        Ok(Page { bindings: bindings.into_iter().map(|(_, view)| view).collect(), next_cursor })
    }

    /// Ends `owner`'s binding `id` (`unbound`); a binding that already ended is no error.
    pub fn unbind(&mut self, owner: &str, id: &str, now: SystemTime) -> Result<(), Refusal> {
        self.prune(now);
        let seq = self.owned(owner, id)?;
        if !self.breaks.has(ContractBreak::UnbindIgnored) {
            self.end(seq, EndReason::Unbound, now);
        }
        Ok(())
    }

    /// Offers `owner`'s active binding `id` to another account.
    pub fn offer(&mut self, owner: &str, id: &str, now: SystemTime) -> Result<TransferOfferView, Refusal> {
        self.prune(now);
        let seq = self.owned(owner, id)?;
        let record = self.records.get(&seq).filter(|r| r.ended.is_none()).ok_or_else(|| not_found(id))?;
        let code = SecretString::new(random_text(32));
        let transfer_id = format!("trf_{}", random_text(16));
        let expires_at = now + TRANSFER_TTL;
        let view = TransferOfferView {
            transfer_id: transfer_id.clone(),
            transfer_code: code.clone(),
            binding_id: record.id.clone(),
            device_id: record.device.as_str().to_owned(),
            expires_at: expires_at.into(),
        };
        self.offers.insert(code_digest(&code), Offer { transfer_id, binding: seq, expires_at });
        Ok(view)
    }

    /// `receiver` accepts the offer with `code`: the giver's binding ends (`transferred`) and the
    /// receiver's begins. Codes are single use; the giver cannot accept its own offer.
    pub fn accept(
        &mut self,
        receiver: &str,
        client_id: &str,
        code: &SecretString,
        now: SystemTime,
    ) -> Result<DeviceBindingView, Refusal> {
        self.prune(now);
        let digest = code_digest(code);
        let gone = || refuse(ProblemType::TransferNotFound, "no open transfer offer has this code");
        let offer = self.offers.get(&digest).filter(|o| now < o.expires_at).ok_or_else(gone)?;
        let (seq, transfer_id) = (offer.binding, offer.transfer_id.clone());
        let giver = self.records.get(&seq).filter(|r| r.ended.is_none()).ok_or_else(gone)?;
        if giver.owner == receiver {
            return Err(refuse(ProblemType::InvalidRequest, "this device is already bound to this account"));
        }
        let record = BindingRecord {
            id: format!("bnd_{}", random_text(16)),
            device: giver.device.clone(),
            owner: receiver.to_owned(),
            name: giver.name.clone(),
            bound_at: now,
            last_redemption_at: giver.last_redemption_at,
            client_id: client_id.to_owned(),
            ended: None,
        };
        let reusable =
            self.offers.remove(&digest).filter(|_| self.breaks.has(ContractBreak::TransferReusable));
        self.end(seq, EndReason::Transferred, now);
        let view = record.view();
        let new_seq = self.insert(record);
        if let Some(offer) = reusable {
            self.offers.insert(digest, Offer { binding: new_seq, ..offer });
        }
        tracing::info!(transfer_id, binding_id = view.binding_id, "simulated backend: transfer accepted");
        Ok(view)
    }

    /// Whether `device` has an active binding.
    pub fn is_bound(&self, device: &DeviceId) -> bool {
        self.active.contains_key(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000)
    }

    fn device(id: &str) -> DeviceId {
        DeviceId::new(id).expect("valid id")
    }

    fn confirm<'a>(owner: &'a str, device: &'a DeviceId, claim: &'a str) -> Confirmation<'a> {
        Confirmation { owner, device, claim_id: claim, client_id: "app", name: None, redeemed_at: t0() }
    }

    #[test]
    fn pages_follow_the_cursor_and_hide_other_accounts() {
        let mut registry = BindingRegistry::default();
        let devices: Vec<DeviceId> = (0..5).map(|i| device(&format!("d{i}"))).collect();
        for (i, d) in devices.iter().enumerate() {
            registry.bind(confirm(if i == 2 { "bob" } else { "alice" }, d, "c"), t0());
        }
        let first = registry.list("alice", None, 2, false).expect("page");
        assert_eq!(first.bindings.iter().map(|b| b.device_id.as_str()).collect::<Vec<_>>(), ["d0", "d1"]);
        let second = registry.list("alice", first.next_cursor.as_deref(), 2, false).expect("page");
        assert_eq!(second.bindings.iter().map(|b| b.device_id.as_str()).collect::<Vec<_>>(), ["d3", "d4"]);
        assert_eq!(second.next_cursor, None);
        assert!(registry.list("alice", Some("bogus"), 2, false).is_err());
        assert_eq!(registry.list("carol", None, 2, false).expect("page").bindings, []);
    }

    #[test]
    fn rebinding_moves_the_device_and_same_owner_keeps_it() {
        let mut registry = BindingRegistry::default();
        let d = device("d1");
        let first = registry.bind(confirm("alice", &d, "c1"), t0());
        let again = registry.bind(confirm("alice", &d, "c2"), t0() + Duration::from_secs(5));
        assert_eq!((again.binding_id.as_str(), again.bound_at), (first.binding_id.as_str(), first.bound_at));
        assert_eq!(again.claim_id, "c2");
        let bob = registry.bind(confirm("bob", &d, "c3"), t0() + Duration::from_secs(9));
        assert_ne!(bob.binding_id, first.binding_id);
        let alice = registry.list("alice", None, 10, true).expect("page");
        assert_eq!(alice.bindings[0].end_reason.as_deref(), Some("rebound"));
        assert!(registry.list("alice", None, 10, false).expect("page").bindings.is_empty());
    }

    #[test]
    fn transfers_are_single_use_and_end_with_unbinding() {
        let mut registry = BindingRegistry::default();
        let d = device("d1");
        let binding = registry.bind(confirm("alice", &d, "c1"), t0());
        let offer = registry.offer("alice", &binding.binding_id, t0()).expect("offer");
        let own = registry.accept("alice", "app", &offer.transfer_code, t0()).expect_err("own offer");
        assert_eq!(own.problem, ProblemType::InvalidRequest);
        let taken = registry.accept("bob", "app", &offer.transfer_code, t0()).expect("accepted");
        assert_eq!(taken.device_id, "d1");
        let again = registry.accept("carol", "app", &offer.transfer_code, t0()).expect_err("used");
        assert_eq!(again.problem, ProblemType::TransferNotFound);
        let late = registry.offer("bob", &taken.binding_id, t0()).expect("offer");
        let expired = registry.accept("carol", "app", &late.transfer_code, t0() + TRANSFER_TTL);
        assert_eq!(expired.map_err(|r| r.problem).err(), Some(ProblemType::TransferNotFound));
        let cancelled = registry.offer("bob", &taken.binding_id, t0()).expect("offer");
        registry.unbind("bob", &taken.binding_id, t0()).expect("unbound");
        assert!(registry.accept("carol", "app", &cancelled.transfer_code, t0()).is_err());
        assert!(!registry.is_bound(&d));
        assert_eq!(registry.unbind("bob", &taken.binding_id, t0()), Ok(()));
        assert!(registry.unbind("carol", &taken.binding_id, t0()).is_err());
    }

    #[test]
    fn expired_offers_and_long_ended_bindings_are_forgotten() {
        let mut registry = BindingRegistry::default();
        let d = device("d1");
        let first = registry.bind(confirm("alice", &d, "c1"), t0());
        registry.unbind("alice", &first.binding_id, t0()).expect("unbound");
        let second = registry.bind(confirm("alice", &d, "c2"), t0());
        for _ in 0..10 {
            registry.offer("alice", &second.binding_id, t0()).expect("offer");
        }
        assert_eq!(registry.len(), (2, 10));
        // Offers go once expired; the ended binding stays listed within its retention.
        let next_day = t0() + TRANSFER_TTL;
        registry.offer("alice", &second.binding_id, next_day).expect("offer");
        assert_eq!(registry.len(), (2, 1));
        let listed = registry.list("alice", None, 10, true).expect("page");
        assert_eq!(listed.bindings[0].end_reason.as_deref(), Some("unbound"));
        assert_eq!(registry.unbind("alice", &first.binding_id, next_day), Ok(()), "repeated unbind");
        // After the retention the ended binding is gone; the active one and its device stay.
        let later = t0() + ENDED_RETENTION;
        registry.offer("alice", &second.binding_id, later).expect("offer");
        assert_eq!(registry.len(), (1, 1));
        let listed = registry.list("alice", None, 10, true).expect("page");
        assert_eq!(listed.bindings.len(), 1);
        assert_eq!(listed.bindings[0].binding_id, second.binding_id);
        let forgotten = registry.unbind("alice", &first.binding_id, later).map_err(|r| r.problem);
        assert_eq!(forgotten, Err(ProblemType::BindingNotFound));
        assert!(registry.is_bound(&d));
        // A device's last binding, once ended, goes too after its retention.
        let soon = later + Duration::from_secs(1);
        registry.unbind("alice", &second.binding_id, soon).expect("unbound");
        let after_retention = soon + ENDED_RETENTION;
        registry.bind(confirm("bob", &device("d2"), "c3"), after_retention);
        assert_eq!(registry.len(), (1, 0), "only bob's binding is left");
    }
}
