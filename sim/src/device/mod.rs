//! A simulated ESP-IDF device in provisioning mode: protocomm endpoints, one security session at
//! a time, the Wi-Fi state machine, custom endpoints, fault injection and exchange counters.
//! The link layers ([`crate::softap`], [`crate::ble`]) feed it requests tagged with their
//! session key (HTTP cookie or BLE connection handle). A captive-portal device (WiFiManager-style
//! firmware, [`SimPortal`]) serves its own web form.

#[cfg(feature = "c-firmware")]
mod c_firmware;
mod claim;
mod config;
mod custom_data;
pub mod improv;
mod portal;
mod protocomm;
mod wifi;

#[cfg(feature = "c-firmware")]
pub use c_firmware::{CClaimEndpoint, CFirmwareTiming};
pub use claim::{ClaimEndpoint, ClaimFirmware, Redemption};
pub use config::{DeviceConfig, Faults, SimSecurity};
pub use custom_data::{CUSTOM_DATA_ENDPOINT, CustomDataEndpoint};
pub use portal::{
    CLOSE_DELAY, PortalClaim, PortalConfig, PortalFaults, PortalParam, PortalServer, PortalState, SimPortal,
};
pub use protocomm::{CustomEndpoint, ExchangeStats, HandlerFailure, SessionKey, SimDevice};
pub use wifi::{Flavour, JoinFailure, SCAN_MAX_ENTRIES, SimNetwork, StationState};
