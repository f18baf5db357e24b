//! The device handle every provisioning protocol implements: what the device says about itself,
//! the networks it sees, provisioning with status, the claim hand-over and closing.

use async_trait::async_trait;
use url::Url;

use super::networks::NetworkList;
use crate::binding::DeviceId;
use crate::device::{ConnectedInfo, StatusPolling, WifiCredentials, WifiFailure};
use crate::flow::FlowError;
use crate::secret::SecretString;
use crate::security::SecurityLevel;

/// The provisioning protocols Unbox speaks to devices in setup mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum DeviceProtocol {
    /// ESP-IDF unified provisioning (`wifi_prov_mgr` / `network_provisioning`, Arduino `WiFiProv`)
    /// over BLE or the device's access point.
    EspUnified,
    /// Improv Wi-Fi over Bluetooth LE.
    ImprovBle,
    /// Improv Wi-Fi over a serial port.
    ImprovSerial,
    /// A captive-portal form on the device's open access point (WiFiManager-style firmware).
    CaptivePortal,
}

/// How the channel to the device protects what is sent over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ChannelProtection {
    /// Encrypted and authenticated with the device's code (ESP security 1 or 2).
    Encrypted,
    /// Nothing is encrypted: the Wi-Fi password travels in clear (ESP security 0, Improv,
    /// captive portals). Allowed only as the app's security policy says.
    Cleartext,
}

/// How the flow ties the device to the customer. Further schemes (a vendor's own endpoint, a
/// fleet-provisioning certificate) are further variants, each a device declares in
/// its details (`binding_modes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum BindingMode {
    /// Unbox's claim: sign in, create a claim, push it to the device, wait for the device to
    /// redeem it and confirm. Needs a device with the `unbox-claim` endpoint.
    #[default]
    Claim,
    /// Wi-Fi only: no sign-in and no claim. The app binds the device its own way (for example
    /// by the code on its label); works with stock ESP-IDF and Arduino-ESP32 firmware.
    None,
}

/// What a connected device says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DeviceDetails {
    /// The protocol it speaks.
    pub protocol: DeviceProtocol,
    /// Its name (BLE advertisement or access-point SSID).
    pub name: String,
    /// Its provisioning protocol version, when it reports one (e.g. `v1.1`).
    pub protocol_version: Option<String>,
    /// Its firmware's name and version, when it reports them.
    pub firmware: Option<String>,
    /// The ESP security scheme it runs (ESP unified provisioning only).
    pub security: Option<SecurityLevel>,
    /// How the channel protects the Wi-Fi password.
    pub protection: ChannelProtection,
    /// Whether it can list the networks it sees.
    pub can_scan: bool,
    /// The binding modes it supports (whether it can bind: `Claim` is among them).
    pub binding_modes: Vec<BindingMode>,
    /// Its capabilities as it names them (`wifi_scan`, `claim`, ...).
    pub capabilities: Vec<String>,
    /// Its info as the device sent it (JSON), for apps that bind the device themselves.
    pub info_json: Option<String>,
}

impl DeviceDetails {
    /// Whether the device supports `mode`.
    pub fn supports(&self, mode: BindingMode) -> bool {
        self.binding_modes.contains(&mode)
    }
}

/// What provisioning reports while it waits for the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionStatus {
    /// The device waits for the person to authorize it (Improv): show "press the button on the
    /// device"; provisioning continues once it is pressed, or fails after `timeout`.
    AwaitingAuthorization {
        /// How long provisioning waits for the press.
        timeout: std::time::Duration,
    },
    /// The device is trying to join; recent ESP firmware says how many attempts remain.
    Connecting {
        /// Attempts left after a failed one, when reported.
        attempts_remaining: Option<u32>,
    },
    /// The next status read comes after `wait` (protocols that poll, for the timeline).
    NextReadIn {
        /// The pause before the read.
        wait: std::time::Duration,
    },
}

/// How provisioning ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisionOutcome {
    /// The device reported that it joined.
    Connected(ConnectedInfo),
    /// The device reported that it could not join.
    Failed(WifiFailure),
    /// The link to the device dropped before it reported (an access point following the
    /// router's channel, a BLE disconnect after apply): whether it joined is not known.
    Unconfirmed,
}

/// Receives provisioning status; called from the provisioning task, keep it quick.
pub type StatusSink<'a> = &'a (dyn Fn(ProvisionStatus) + Send + Sync);

/// Completes when the flow learns another way that the device is online (the backend saw it
/// redeem its claim): a protocol that polls reads the status at once then; others ignore it.
pub type Sooner<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// A connected device in setup mode, whatever protocol it speaks. Every protocol implements
/// this; the flow, the FFI and the CLI use only this. Dropping a call's future cancels it;
/// `close` may be called at any step.
#[async_trait]
pub trait DeviceHandle: Send + Sync {
    /// What the device says about itself.
    fn details(&self) -> &DeviceDetails;

    /// The networks the device sees, ready for a picker.
    async fn scan_networks(&self) -> Result<NetworkList, FlowError>;

    /// Hands the claim token (and the backend URL, when the device needs it) to the device;
    /// returns the device id it reports. Only for devices that support `BindingMode::Claim`.
    async fn hand_over_claim(
        &self,
        token: &SecretString,
        backend_url: Option<&Url>,
    ) -> Result<DeviceId, FlowError>;

    /// Sends the home network's credentials and tells the device to join. After a failed
    /// attempt it clears the failure first, so a corrected password can be sent again.
    async fn send_wifi(&self, network: &WifiCredentials) -> Result<(), FlowError>;

    /// Follows the device until it joined, failed, or the link dropped (unconfirmed); reads its
    /// status at once when `sooner` completes, if the protocol polls.
    async fn wait_wifi(
        &self,
        polling: StatusPolling,
        sooner: Sooner<'_>,
        on_status: StatusSink<'_>,
    ) -> Result<ProvisionOutcome, FlowError>;

    /// Reaches the device again (rejoins its access point or reconnects over BLE) after an
    /// unconfirmed outcome and follows it as `wait_wifi` does; `Unconfirmed` when it cannot be
    /// reached.
    async fn recheck(
        &self,
        polling: StatusPolling,
        on_status: StatusSink<'_>,
    ) -> Result<ProvisionOutcome, FlowError>;

    /// Ends the session and the link, and leaves the device's access point.
    async fn close(&self);

    /// Sends the credentials and follows the device: `send_wifi` then `wait_wifi`.
    async fn provision(
        &self,
        network: &WifiCredentials,
        polling: StatusPolling,
        on_status: StatusSink<'_>,
    ) -> Result<ProvisionOutcome, FlowError> {
        self.send_wifi(network).await?;
        self.wait_wifi(polling, Box::pin(std::future::pending()), on_status).await
    }
}
