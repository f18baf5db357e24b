//! The staged onboarding, for apps with screens of their own: `connect` of [`OnboardingClient`]
//! gives a [`SetupSession`] (the device's details), whose steps are `scanNetworks`,
//! `provision`, `bind` and `close`; and the network picker the one-call `run` shows through a
//! foreign [`NetworkChooser`]. The order of the steps and their rules are the core's
//! (`unbox_core::flow::SetupSession`).

use std::sync::Arc;

use async_trait::async_trait;
use unbox_core::flow as core;
use unbox_core::onboarding::{self as onboarding, BindingMode, DeviceDetails, NetworkSecurity, WifiBand};
use unbox_core::secret::SecretString;

use crate::flow::{
    DeviceBinding, DeviceCredentials, DeviceNetwork, DeviceTarget, FlowObserver, ForeignObserver,
    OnboardingClient, OnboardingError, WifiCredentials, binding_mode,
};
use crate::runtime::{CancelHandle, on_runtime, spawn_detached};

// The picker's records are the bindings' own: the core's BSSID is a fixed array (it crosses as
// bytes) and what the core answers by method (a passphrase needed, a warning) crosses as fields.

/// One network in the picker.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PickerNetwork {
    /// Its name.
    pub ssid: String,
    /// Signal of its strongest access point, in dBm.
    pub rssi: i32,
    /// The same as bars, 0 to 4.
    pub bars: u8,
    /// How it is secured.
    pub security: NetworkSecurity,
    /// Whether the picker should ask for a password.
    pub needs_passphrase: bool,
    /// What the picker must tell the person about it (an open or WEP network, an enterprise
    /// network that cannot be set up this way), if anything.
    pub warning: Option<String>,
    /// Channel of its strongest access point (0 when not reported).
    pub channel: u32,
    /// Band of that channel.
    pub band: WifiBand,
    /// Its strongest access point (6 bytes), when reported.
    pub bssid: Option<Vec<u8>>,
    /// How many more access points share the name.
    pub other_access_points: u32,
}

/// What a device's scan gives a picker: the networks, strongest first, plus entering a network
/// by name for hidden ones (always offer it).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NetworkList {
    /// One entry per network name, strongest first.
    pub networks: Vec<PickerNetwork>,
    /// How many hidden access points (no name) were left out; the person enters their name.
    pub hidden: u32,
}

impl From<onboarding::NetworkList> for NetworkList {
    fn from(list: onboarding::NetworkList) -> Self {
        let networks = list
            .networks
            .into_iter()
            .map(|network| PickerNetwork {
                needs_passphrase: network.needs_passphrase(),
                warning: network.warning().map(str::to_owned),
                ssid: network.ssid,
                rssi: network.rssi,
                bars: network.bars,
                security: network.security,
                channel: network.channel,
                band: network.band,
                bssid: network.bssid.map(Vec::from),
                other_access_points: network.other_access_points,
            })
            .collect();
        Self { networks, hidden: list.hidden }
    }
}

/// Shows the networks the device sees and lets the person choose one, or enter a hidden
/// network's name, and type its password.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait NetworkChooser: Send + Sync {
    /// The chosen network with its password (empty for an open one), or null when the person
    /// cancels (the onboarding then ends with `OnboardingError.Cancelled`).
    async fn choose(&self, networks: NetworkList) -> Option<WifiCredentials>;
}

/// The shell's chooser, as the core's.
pub(crate) struct ForeignChooser(pub(crate) Arc<dyn NetworkChooser>);

#[async_trait]
impl core::NetworkChooser for ForeignChooser {
    async fn choose(&self, networks: onboarding::NetworkList) -> Option<core::ChosenNetwork> {
        let chosen = self.0.choose(networks.into()).await?;
        Some(core::ChosenNetwork { ssid: chosen.ssid, passphrase: SecretString::new(chosen.passphrase) })
    }
}

/// The device a staged session connects to, and how to bind it.
#[derive(uniffi::Record)]
pub struct SetupRequest {
    /// The device's service name, e.g. `PROV_1A2B3C`.
    pub device_name: String,
    /// How to reach it.
    pub target: DeviceTarget,
    /// How it proves who it is.
    pub credentials: DeviceCredentials,
    /// Wi-Fi only: no sign-in and no claim (`bind` is not needed); the app binds the device its
    /// own way.
    pub wifi_only: bool,
}

impl TryFrom<SetupRequest> for core::SetupRequest {
    type Error = OnboardingError;

    fn try_from(request: SetupRequest) -> Result<Self, OnboardingError> {
        Ok(Self {
            device_name: request.device_name,
            target: request.target.try_into()?,
            credentials: request.credentials.try_into()?,
            binding: binding_mode(request.wifi_only),
        })
    }
}

#[uniffi::export]
impl OnboardingClient {
    /// Connects to a device for a staged onboarding (apps with their own screens): in claim
    /// mode signs in and creates the claim first, while the phone still has internet, then joins
    /// the device's access point or connects over Bluetooth and opens its session. `cancel`
    /// stops the connection, and later any step of the session (which then closes).
    pub async fn connect(
        &self,
        request: SetupRequest,
        observer: Arc<dyn FlowObserver>,
        cancel: Arc<CancelHandle>,
    ) -> Result<Arc<SetupSession>, OnboardingError> {
        let request = core::SetupRequest::try_from(request)?;
        let onboarding = Arc::clone(&self.onboarding);
        on_runtime(async move {
            let session = onboarding.connect(&request, &ForeignObserver(observer), &cancel.token()).await?;
            Ok(Arc::new(SetupSession { inner: Arc::new(session) }))
        })
        .await
    }
}

/// A device connected step by step: `details()`, then `scanNetworks`, `provision` (again after
/// a wrong password), `bind` in claim mode, and `disconnect`, which may come at any step and leaves
/// the device's access point. One step runs at a time; each reports its steps to the observer
/// it is given. Cancelling a step's coroutine or task stops it; the session stays open.
#[derive(uniffi::Object)]
pub struct SetupSession {
    inner: Arc<core::SetupSession>,
}

impl std::fmt::Debug for SetupSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupSession").field("details", self.inner.details()).finish()
    }
}

#[uniffi::export]
impl SetupSession {
    /// What the device says about itself: protocol and version, security, capabilities, the
    /// binding modes it supports.
    pub fn details(&self) -> DeviceDetails {
        self.inner.details().clone()
    }

    /// How this session binds the device (`Claim`: call `bind` after `provision`).
    pub fn binding_mode(&self) -> BindingMode {
        self.inner.binding()
    }

    /// The networks the device sees, for a picker (empty when it cannot scan: let the person
    /// enter a network by name, as for hidden ones).
    pub async fn scan_networks(
        &self,
        observer: Arc<dyn FlowObserver>,
    ) -> Result<NetworkList, OnboardingError> {
        let session = Arc::clone(&self.inner);
        on_runtime(async move { Ok(session.scan_networks(&ForeignObserver(observer)).await?.into()) }).await
    }

    /// Sends the home network to the device (after its claim, in claim mode) and follows it,
    /// reporting its status to `observer`, until it joined: its network, or null when the link
    /// dropped before it reported (unconfirmed: in claim mode `bind` decides; otherwise have the
    /// person check the device's light or app). A wrong password is
    /// `OnboardingError.EnterWifiPassword`: ask again and call `provision` again.
    pub async fn provision(
        &self,
        wifi: WifiCredentials,
        observer: Arc<dyn FlowObserver>,
    ) -> Result<Option<DeviceNetwork>, OnboardingError> {
        let session = Arc::clone(&self.inner);
        on_runtime(async move {
            let network = session.provision(&wifi.into(), &ForeignObserver(observer)).await?;
            Ok(network.map(DeviceNetwork::from))
        })
        .await
    }

    /// Claim mode, after `provision`: leaves the device (the phone gets its internet back),
    /// waits until the device redeemed its claim and confirms the binding.
    pub async fn bind(&self, observer: Arc<dyn FlowObserver>) -> Result<DeviceBinding, OnboardingError> {
        let session = Arc::clone(&self.inner);
        on_runtime(async move { Ok(session.bind(&ForeignObserver(observer)).await?.into()) }).await
    }

    /// Ends the session at any step: stops a running step, closes the device's session and
    /// leaves its access point. Idempotent; later steps fail. (Named so because Kotlin's
    /// `close()` frees the object, which also ends the session, in the background.)
    pub async fn disconnect(&self) {
        let session = Arc::clone(&self.inner);
        on_runtime(async move { session.close().await }).await
    }
}

impl Drop for SetupSession {
    /// A session the app forgot to close is closed in the background, so the phone does not
    /// stay on the device's access point.
    fn drop(&mut self) {
        let session = Arc::clone(&self.inner);
        spawn_detached(async move { session.close().await });
    }
}

#[cfg(test)]
mod tests {
    use unbox_core::device::{AuthMode, WifiNetworkSeen};

    use super::*;

    #[test]
    fn the_picker_list_says_what_the_core_answers_by_method() {
        let seen = |ssid: &str, rssi, auth| WifiNetworkSeen {
            ssid: ssid.into(),
            ssid_bytes: ssid.as_bytes().to_vec(),
            bssid: Some([1, 2, 3, 4, 5, 6]),
            channel: 6,
            rssi,
            auth,
        };
        let core_list = onboarding::NetworkList::from_seen(&[
            seen("home", -50, AuthMode::Wpa2Psk),
            seen("cafe", -60, AuthMode::Open),
            seen("", -40, AuthMode::Wpa2Psk),
        ]);
        let list = NetworkList::from(core_list);
        assert_eq!(list.hidden, 1);
        let [home, cafe] = &list.networks[..] else { panic!("two networks: {list:?}") };
        assert_eq!((home.ssid.as_str(), home.bars, home.band), ("home", 4, WifiBand::Ghz2_4));
        assert!(home.needs_passphrase && home.warning.is_none());
        assert_eq!(home.bssid.as_deref(), Some(&[1, 2, 3, 4, 5, 6][..]));
        assert!(!cafe.needs_passphrase && cafe.warning.as_deref().is_some_and(|w| w.contains("open")));
    }

    #[test]
    fn a_setup_request_binds_as_its_switch_says_and_checks_its_target() {
        let request = |wifi_only, target| SetupRequest {
            device_name: "PROV_1A2B3C".into(),
            target,
            credentials: DeviceCredentials::Sec1 { pop: "abcd1234".into() },
            wifi_only,
        };
        let ble = || DeviceTarget::Ble {
            peripheral_id: "AA".into(),
            service: unbox_core::discovery::ESP_IDF_DEFAULT_SERVICE_UUID,
        };
        let wifi_only = core::SetupRequest::try_from(request(true, ble())).unwrap();
        assert_eq!(wifi_only.binding, BindingMode::None);
        let claim = core::SetupRequest::try_from(request(false, ble())).unwrap();
        assert_eq!(claim.binding, BindingMode::Claim);
        assert!(!format!("{claim:?}").contains("abcd1234"), "the proof of possession is redacted");
        let wifi_code = crate::qr::parse_onboarding_code("WIFI:S:home;T:nopass;;".into()).unwrap();
        let not_a_device = DeviceTarget::SoftApFromCode { code: wifi_code, address: "192.168.4.1:80".into() };
        let bad = core::SetupRequest::try_from(request(false, not_a_device));
        assert!(matches!(bad, Err(OnboardingError::InvalidRequest(_))));
    }
}
