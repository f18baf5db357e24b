//! The one-call onboarding flow, in the brief's order: sign in → create claim → connect to the
//! device → secure session → (device Wi-Fi scan) → push claim → push Wi-Fi → wait until the
//! device is online → leave the device → wait for redemption → confirm.
//!
//! The claim is created while the phone still has internet (the device's access point has none),
//! and the phone leaves the device before waiting on the backend. Every step reports events,
//! has its own time limit and can be cancelled; a wrong Wi-Fi password is asked again and retried
//! on the same session (prov-ctrl reset); a flow interrupted after the push resumes by waiting
//! on the claim.
//!
//! Apps with screens of their own run the same steps in their order through a staged session
//! (`staged.rs`: `Onboarding::connect` gives a `SetupSession`).

mod error;
mod events;
mod pending;
mod reporter;
mod request;
mod run;
mod settings;
mod staged;
mod timeline;

pub use crate::onboarding::{CLAIM_APP_LABEL, CLAIM_CAPABILITY};
pub use error::{FlowError, PhoneCapability, StateCorruption};
pub use events::{FlowEvent, FlowEventKind, FlowObserver, FlowStep};
pub use pending::{PENDING_CLAIMS_KEY, PendingClaim, PendingClaims};
pub use request::{
    BindingMode, ChosenNetwork, Confirmation, DeviceTarget, NetworkChooser, Onboarded, OnboardingRequest,
    PortalTarget, WifiPasswordPrompt,
};
pub use run::Onboarding;
pub use settings::{OnboardingSettings, StepTimeouts};
pub use staged::{SetupRequest, SetupSession};
pub use timeline::{DetailKind, FlowDetail, Timeline};
