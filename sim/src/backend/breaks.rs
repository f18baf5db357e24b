//! Deliberate breaks of the contract, one rule each: test doubles of a faulty backend for the
//! conformance checker (`unbox check-backend`), which must name the broken rule. Never on by
//! default; `BindingBackend::break_contract` switches one on.

/// One rule of `docs/binding-api.yaml` the simulated backend can be told to break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractBreak {
    /// Requests without a bearer token are served as an anonymous user.
    AcceptsAnonymous,
    /// App POSTs without an `Idempotency-Key` are served.
    KeyOptional,
    /// Creating a claim is not idempotent: a retry creates another claim.
    CreateNotIdempotent,
    /// The same key with a different body replays the first answer instead of answering 422.
    KeyReuseReplays,
    /// Idempotency keys are not scoped to the user: another user's key replays their answer.
    KeysGlobal,
    /// Anyone signed in can read any claim.
    ClaimsPublic,
    /// The redeem's device signature is not checked.
    NoDeviceAuth,
    /// A redeemed token can be redeemed again by another device.
    ReusableClaims,
    /// Claims never expire.
    NoExpiry,
    /// Confirming another device than the redeeming one activates the binding.
    AnyDeviceConfirms,
    /// A pending claim can be confirmed before any device redeemed it.
    ConfirmBeforeRedeem,
    /// The device list shows every customer's bindings.
    SharedListing,
    /// The device list ignores `limit` and never pages.
    NoPagination,
    /// Setting up an own device again creates a second binding.
    SameCustomerDuplicates,
    /// Another customer's setup of a bound device leaves the previous owner's binding active.
    RebindKeepsOwner,
    /// Unbinding answers 204 and changes nothing.
    UnbindIgnored,
    /// A transfer code can be accepted more than once.
    TransferReusable,
    /// Errors are plain `application/json` without the problem fields.
    PlainJsonErrors,
    /// `wait` is ignored: a pending claim is answered at once.
    NoLongPoll,
    /// Claims advertise `confirm_waits`, but a confirm's `wait` is ignored: a confirm on a pending
    /// claim is answered `claim-not-redeemed` at once.
    ConfirmWaitIgnored,
}

impl ContractBreak {
    /// Every break, in the order of the checker's rules.
    pub const ALL: [ContractBreak; 20] = [
        Self::AcceptsAnonymous,
        Self::KeyOptional,
        Self::CreateNotIdempotent,
        Self::KeyReuseReplays,
        Self::KeysGlobal,
        Self::ClaimsPublic,
        Self::NoDeviceAuth,
        Self::ReusableClaims,
        Self::NoExpiry,
        Self::AnyDeviceConfirms,
        Self::ConfirmBeforeRedeem,
        Self::SharedListing,
        Self::NoPagination,
        Self::SameCustomerDuplicates,
        Self::RebindKeepsOwner,
        Self::UnbindIgnored,
        Self::TransferReusable,
        Self::PlainJsonErrors,
        Self::NoLongPoll,
        Self::ConfirmWaitIgnored,
    ];
}

/// The breaks switched on (none by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Breaks(u32);

impl Breaks {
    fn bit(rule: ContractBreak) -> u32 {
        1 << (ContractBreak::ALL.iter().position(|b| *b == rule).unwrap_or(31) as u32)
    }

    /// Switches `rule`'s break on.
    pub fn insert(&mut self, rule: ContractBreak) {
        self.0 |= Self::bit(rule);
    }

    /// Whether `rule` is broken.
    pub fn has(self, rule: ContractBreak) -> bool {
        self.0 & Self::bit(rule) != 0
    }
}
