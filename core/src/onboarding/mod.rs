//! The staged, protocol-neutral device API: reach a device ([`Connector`]), get its handle
//! ([`DeviceHandle`]) with what it says about itself, list the networks it sees
//! ([`NetworkList`]), provision it with status until it joined, failed or is unconfirmed, hand
//! over the claim when the binding mode asks for it, close. Every provisioning protocol
//! implements the handle ([`DeviceProtocol`] names them; ESP unified provisioning is `esp`);
//! the one-call flow (`crate::flow`) uses only the handle. Channels without encryption follow
//! one policy rule (`cleartext`).

mod cleartext;
mod connect;
mod device;
mod esp;
#[cfg(feature = "improv")]
mod improv;
mod networks;
#[cfg(feature = "portal")]
mod portal;

pub use connect::{Connector, JoinedAccessPoint, Link, OpenRequest};
pub use device::{
    BindingMode, ChannelProtection, DeviceDetails, DeviceHandle, DeviceProtocol, ProvisionOutcome,
    ProvisionStatus, Sooner, StatusSink,
};
pub use esp::{CLAIM_APP_LABEL, CLAIM_CAPABILITY, EspDevice};
#[cfg(feature = "improv")]
pub use improv::ImprovDevice;
pub use networks::{NetworkList, NetworkSecurity, PickerNetwork, WifiBand, signal_bars};
#[cfg(feature = "portal")]
pub use portal::PortalDevice;
