//! The one-call onboarding: [`OnboardingClient::run`] takes one device from setup mode to online
//! and bound to the signed-in account, reporting every step to a [`FlowObserver`].

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use unbox_core::binding::BindingClient;
use unbox_core::device::{SecurityPolicy, StatusPolling, WifiCredentials as CoreWifiCredentials};
use unbox_core::flow as core;
use unbox_core::flow::{Confirmation, FlowEvent, StepTimeouts};
use unbox_core::secret::SecretString;
use unbox_core::security::ClientCredentials;
use url::Url;
use uuid::Uuid;

use crate::auth::AuthSession;
use crate::ble::{BleCentral, core_central};
use crate::phone_wifi::{ForeignPhoneWifi, PhoneWifi};
use crate::qr::OnboardingCode;
use crate::runtime::{CancelHandle, on_runtime};
use crate::secret_store::{ForeignSecretStore, SecretStore};
use crate::setup::{ForeignChooser, NetworkChooser};
use unbox_core::onboarding::DeviceDetails;
use unbox_core::platform::service_browser::{ServiceBrowser, ServiceQuery};

/// Receives the events of a run, on the library's threads; keep it quick (post to the UI thread).
#[uniffi::export(with_foreign)]
pub trait FlowObserver: Send + Sync {
    /// One event.
    fn on_event(&self, event: FlowEvent);
}

/// Asks the person for the Wi-Fi password again after the device reported it wrong.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait WifiPasswordPrompt: Send + Sync {
    /// The new password for `ssid`, or null when the person gives up. `attempt` counts from 1.
    async fn ask_again(&self, ssid: String, attempt: u32) -> Option<String>;
}

// The request types below are the shells' own: secrets cross as text and are wrapped into the
// core's zeroized `SecretString` as they arrive, a scanned code crosses as the object that keeps
// its secrets inside the library, and text the core holds typed (a URL) is checked into a typed
// `InvalidRequest`.

/// How to reach the device.
#[derive(uniffi::Enum)]
pub enum DeviceTarget {
    /// Over Bluetooth LE.
    Ble {
        /// The peripheral as the BLE stack names it (from discovery).
        peripheral_id: String,
        /// The provisioning service UUID.
        service: Uuid,
    },
    /// Over the device's own access point.
    SoftAp {
        /// The access point's SSID.
        ssid: String,
        /// Its passphrase (a secret), null for an open access point.
        passphrase: Option<String>,
        /// The device's HTTP address on that network, `192.168.4.1:80` on ESP devices.
        address: String,
    },
    /// Over the access point a device's scanned setup code names: its SSID is the device's
    /// name and its passphrase, if the code has one, stays inside the library.
    SoftApFromCode {
        /// The parsed code.
        code: Arc<OnboardingCode>,
        /// The device's HTTP address on that network, `192.168.4.1:80` on ESP devices.
        address: String,
    },
    /// An Improv Wi-Fi device over Bluetooth LE (ESPHome and others). Improv has no encryption:
    /// the Wi-Fi password travels in clear, which `allowCleartextProtocols` decides, and no
    /// claim: onboard it with `wifiOnly`.
    ImprovBle {
        /// The peripheral as the BLE stack names it (from discovery).
        peripheral_id: String,
    },
    /// A captive-portal device (WiFiManager-style firmware): its open access point and the web
    /// form there. Cleartext, as for Improv.
    Portal {
        /// The access point's SSID.
        ssid: String,
        /// Its passphrase (a secret), null for an open access point (WiFiManager's default).
        passphrase: Option<String>,
        /// The portal's address on that network, `192.168.4.1:80`.
        address: String,
        /// Custom parameters to fill in, by the firmware's parameter ids.
        parameters: Vec<PortalParameter>,
        /// The form field that carries the claim token, for the claim binding (the firmware
        /// must declare it); null for Wi-Fi only.
        claim_parameter: Option<String>,
        /// The device's id from its label or code, for the claim binding: the backend confirms
        /// the claim only if this device redeemed it.
        device_id: Option<String>,
        /// How the device announces itself once online, to confirm a Wi-Fi-only onboarding
        /// with the client's service browser; null: the outcome is unconfirmed.
        announce: Option<ServiceQuery>,
    },
}

/// One custom parameter of a captive portal's form.
#[derive(uniffi::Record)]
pub struct PortalParameter {
    /// The parameter's id (the form field's name).
    pub id: String,
    /// Its value (treated as a secret: it may be a key or a password).
    pub value: String,
}

/// How the device proves who it is. Secrets are wrapped as soon as they arrive.
#[derive(uniffi::Enum)]
pub enum DeviceCredentials {
    /// The credentials in the device's scanned Espressif QR code (they never leave the library).
    FromCode {
        /// The parsed code.
        code: Arc<OnboardingCode>,
    },
    /// Security 0: none.
    Sec0,
    /// Security 1 with the proof of possession printed on the device.
    Sec1 {
        /// The proof of possession.
        pop: String,
    },
    /// Security 2 with the SRP username and password.
    Sec2 {
        /// The username, `wifiprov` on Espressif examples.
        username: String,
        /// The password (the QR code's `pop`).
        password: String,
    },
}

/// The home network for the device.
#[derive(uniffi::Record)]
pub struct WifiCredentials {
    /// The network name.
    pub ssid: String,
    /// Its passphrase (a secret).
    pub passphrase: String,
}

/// One device to onboard.
#[derive(uniffi::Record)]
pub struct OnboardingRequest {
    /// The device's service name, e.g. `PROV_1A2B3C`.
    pub device_name: String,
    /// How to reach it.
    pub target: DeviceTarget,
    /// How it proves who it is.
    pub credentials: DeviceCredentials,
    /// The home network it should join; null: the person chooses among the networks the device
    /// sees (use `runChoosing` with a `NetworkChooser`).
    pub wifi: Option<WifiCredentials>,
    /// Whether to let the device scan first (to check it sees the network).
    pub scan_wifi: bool,
    /// Wi-Fi only: no sign-in and no claim; the app binds the device its own way. Works with
    /// stock ESP firmware that has no `unbox-claim` endpoint.
    pub wifi_only: bool,
    /// The setup code this onboarding started from, if any; the result hands it back, so that
    /// the result alone holds what an app binding the device itself needs.
    #[uniffi(default = None)]
    pub code: Option<Arc<OnboardingCode>>,
}

impl TryFrom<OnboardingRequest> for core::OnboardingRequest {
    type Error = OnboardingError;

    fn try_from(request: OnboardingRequest) -> Result<Self, OnboardingError> {
        let wifi = request.wifi.map(CoreWifiCredentials::from);
        Ok(Self {
            device_name: request.device_name,
            target: request.target.try_into()?,
            credentials: request.credentials.try_into()?,
            wifi,
            scan_wifi: request.scan_wifi,
            binding: binding_mode(request.wifi_only),
            code: request.code.map(|code| code.payload().clone()),
        })
    }
}

/// The binding mode of a request's `wifi_only` switch.
pub(crate) fn binding_mode(wifi_only: bool) -> core::BindingMode {
    if wifi_only { core::BindingMode::None } else { core::BindingMode::Claim }
}

impl From<WifiCredentials> for CoreWifiCredentials {
    fn from(wifi: WifiCredentials) -> Self {
        CoreWifiCredentials::new(wifi.ssid, SecretString::new(wifi.passphrase))
    }
}

impl TryFrom<DeviceTarget> for core::DeviceTarget {
    type Error = OnboardingError;

    fn try_from(target: DeviceTarget) -> Result<Self, OnboardingError> {
        Ok(match target {
            DeviceTarget::Ble { peripheral_id, service } => {
                core::DeviceTarget::Ble { peripheral_id, service }
            }
            DeviceTarget::SoftAp { ssid, passphrase, address } => {
                core::DeviceTarget::SoftAp { ssid, passphrase: passphrase.map(SecretString::new), address }
            }
            DeviceTarget::SoftApFromCode { code, address } => {
                core::DeviceTarget::softap_from_code(code.payload(), address)
                    .map_err(|error| OnboardingError::InvalidRequest(error.to_string()))?
            }
            DeviceTarget::ImprovBle { peripheral_id } => {
                core::DeviceTarget::Ble { peripheral_id, service: unbox_core::improv::ble::SERVICE_UUID }
            }
            DeviceTarget::Portal {
                ssid,
                passphrase,
                address,
                parameters,
                claim_parameter,
                device_id,
                announce,
            } => core::DeviceTarget::Portal(core::PortalTarget {
                ssid,
                passphrase: passphrase.map(SecretString::new),
                address,
                parameters: parameters
                    .into_iter()
                    .map(|p| unbox_core::portal::PortalParameter {
                        id: p.id,
                        value: SecretString::new(p.value),
                    })
                    .collect(),
                claim_parameter,
                device_id,
                announce,
            }),
        })
    }
}

impl TryFrom<DeviceCredentials> for ClientCredentials {
    type Error = OnboardingError;

    fn try_from(credentials: DeviceCredentials) -> Result<Self, OnboardingError> {
        Ok(match credentials {
            DeviceCredentials::FromCode { code } => code
                .payload()
                .device_credentials()
                .map_err(|error| OnboardingError::InvalidRequest(error.to_string()))?,
            DeviceCredentials::Sec0 => ClientCredentials::Sec0,
            DeviceCredentials::Sec1 { pop } => ClientCredentials::Sec1 { pop: SecretString::new(pop) },
            DeviceCredentials::Sec2 { username, password } => {
                ClientCredentials::Sec2 { username, password: SecretString::new(password) }
            }
        })
    }
}

/// Settings of the onboarding; start from `defaultOnboardingSettings()`. The weak-security
/// switches are flat here (the core groups them in a policy) and the device backend URL is text,
/// checked when the settings are used.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OnboardingSettings {
    /// Accept devices running security 0 (the Wi-Fi password travels unencrypted).
    pub allow_unencrypted: bool,
    /// Accept security 1 devices without a proof of possession.
    pub allow_sec1_without_pop: bool,
    /// Accept security 2 devices on patch version 0, whose firmware encrypts every message
    /// with one fixed nonce (anyone nearby can read the Wi-Fi password); off by default.
    pub allow_sec2_static_nonce: bool,
    /// Accept devices whose protocol has no encryption at all (Improv, captive portals); on
    /// by default, with a warning event.
    pub allow_cleartext_protocols: bool,
    /// Time limit of each step.
    pub timeouts: StepTimeouts,
    /// How to follow the device while it joins.
    pub polling: StatusPolling,
    /// The backend URL sent to the device with the claim (null: the firmware's default).
    pub device_backend_url: Option<String>,
    /// How many times to ask for the Wi-Fi password again.
    pub max_password_retries: u32,
}

/// The core's default settings.
#[uniffi::export]
pub fn default_onboarding_settings() -> OnboardingSettings {
    core::OnboardingSettings::default().into()
}

impl From<core::OnboardingSettings> for OnboardingSettings {
    fn from(settings: core::OnboardingSettings) -> Self {
        Self {
            allow_unencrypted: settings.policy.allow_unencrypted,
            allow_sec1_without_pop: settings.policy.allow_sec1_without_pop,
            allow_sec2_static_nonce: settings.policy.allow_sec2_static_nonce,
            allow_cleartext_protocols: settings.policy.allow_cleartext_protocols,
            timeouts: settings.timeouts,
            polling: settings.polling,
            device_backend_url: settings.device_backend_url.map(String::from),
            max_password_retries: settings.max_password_retries,
        }
    }
}

impl TryFrom<OnboardingSettings> for core::OnboardingSettings {
    type Error = OnboardingError;

    fn try_from(settings: OnboardingSettings) -> Result<Self, OnboardingError> {
        let device_backend_url = settings
            .device_backend_url
            .map(|text| {
                Url::parse(&text).map_err(|error| {
                    OnboardingError::InvalidRequest(format!(
                        "the device backend URL `{text}` is invalid: {error}"
                    ))
                })
            })
            .transpose()?;
        Ok(Self {
            policy: SecurityPolicy {
                allow_unencrypted: settings.allow_unencrypted,
                allow_sec1_without_pop: settings.allow_sec1_without_pop,
                allow_sec2_static_nonce: settings.allow_sec2_static_nonce,
                allow_cleartext_protocols: settings.allow_cleartext_protocols,
            },
            timeouts: settings.timeouts,
            polling: settings.polling,
            device_backend_url,
            max_password_retries: settings.max_password_retries,
        })
    }
}

// The results cross as records of their own: the core's ids are checked newtypes and its BSSID a
// fixed array, which cross as text and bytes.

/// The account binding the onboarding confirmed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceBinding {
    /// The backend's binding id.
    pub binding_id: String,
    /// The claim that bound the device.
    pub claim_id: String,
    /// The device's id.
    pub device_id: String,
    /// When the binding was made.
    pub bound_at: SystemTime,
}

/// The home network as the device joined it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceNetwork {
    /// The device's IPv4 address.
    pub ip4_addr: String,
    /// The network joined.
    pub ssid: String,
    /// The access point joined (6 bytes), when reported.
    pub bssid: Option<Vec<u8>>,
    /// The channel.
    pub channel: i32,
    /// Where the device asks the person to continue (Improv's redirect URL, e.g. ESPHome's
    /// `http://name.local`): open it for them; null from ESP devices.
    pub redirect_url: Option<String>,
}

/// A successful onboarding.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Onboarded {
    /// The confirmed binding (null for a Wi-Fi-only onboarding).
    pub binding: Option<DeviceBinding>,
    /// The device's network, when the run saw it join (null when resumed or unconfirmed).
    pub network: Option<DeviceNetwork>,
    /// How the run knows the device is online.
    pub confirmation: Confirmation,
    /// What the device said about itself (null when resumed): what an app that binds the device
    /// itself needs, with the address in `network` and the setup code's fields in `code`.
    pub device: Option<DeviceDetails>,
    /// The setup code the request started from (null when it gave none, or when resumed).
    pub code: Option<Arc<OnboardingCode>>,
}

impl From<core::Onboarded> for Onboarded {
    fn from(done: core::Onboarded) -> Self {
        Self {
            binding: done.binding.map(DeviceBinding::from),
            network: done.network.map(DeviceNetwork::from),
            confirmation: done.confirmation,
            device: done.device,
            code: done.code.map(|payload| Arc::new(OnboardingCode::from(payload))),
        }
    }
}

impl From<unbox_core::binding::Binding> for DeviceBinding {
    fn from(binding: unbox_core::binding::Binding) -> Self {
        Self {
            binding_id: binding.binding_id,
            claim_id: binding.claim_id.as_str().to_owned(),
            device_id: binding.device_id.as_str().to_owned(),
            bound_at: binding.bound_at,
        }
    }
}

impl From<unbox_core::device::ConnectedInfo> for DeviceNetwork {
    fn from(network: unbox_core::device::ConnectedInfo) -> Self {
        Self {
            ip4_addr: network.ip4_addr,
            ssid: network.ssid,
            bssid: network.bssid.map(Vec::from),
            channel: network.channel,
            redirect_url: network.redirect_url,
        }
    }
}

/// A claim pushed to a device whose binding is not confirmed yet (see `resume` of `OnboardingClient`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingClaim {
    /// The device's service name.
    pub device_name: String,
    /// The claim.
    pub claim_id: String,
    /// The device's id.
    pub device_id: String,
}

/// The onboarding service of the app: one per signed-in account, shared by every run. It also
/// manages the account's devices after setup (`devices`, `unbind`, transfers).
#[derive(uniffi::Object)]
pub struct OnboardingClient {
    /// The core service, shared with the staged sessions it opens (`crate::setup`).
    pub(crate) onboarding: Arc<core::Onboarding>,
    /// The account's binding backend, for the calls after setup (`crate::devices`).
    pub(crate) binding: BindingClient,
}

impl std::fmt::Debug for OnboardingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnboardingClient")
            .field("settings", self.onboarding.settings())
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl OnboardingClient {
    /// An onboarding service over `account`'s sign-in and the binding backend at `backend_url`.
    /// `ble` and `phone_wifi` are what this phone can do (either may be null); `store` keeps
    /// pending claims so an interrupted onboarding can be resumed. `service_browser` finds
    /// captive-portal devices on the home network after setup (they never report their join);
    /// without it such a Wi-Fi-only onboarding ends unconfirmed.
    #[uniffi::constructor(default(service_browser = None))]
    pub fn new(
        account: Arc<AuthSession>,
        backend_url: String,
        ble: Option<Arc<dyn BleCentral>>,
        phone_wifi: Option<Arc<dyn PhoneWifi>>,
        store: Arc<dyn SecretStore>,
        settings: OnboardingSettings,
        service_browser: Option<Arc<dyn ServiceBrowser>>,
    ) -> Result<Arc<Self>, OnboardingError> {
        let url = Url::parse(&backend_url).map_err(|error| {
            OnboardingError::InvalidRequest(format!("the backend URL `{backend_url}` is invalid: {error}"))
        })?;
        let session = account.core();
        let binding = BindingClient::new(&url, session.clone()).map_err(core::FlowError::from)?;
        let ble = ble.map(core_central);
        let phone_wifi = phone_wifi.map(|wifi| {
            Arc::new(ForeignPhoneWifi(wifi)) as Arc<dyn unbox_core::platform::phone_wifi::PhoneWifi>
        });
        let mut onboarding = core::Onboarding::new(
            session,
            binding.clone(),
            ble,
            phone_wifi,
            Arc::new(ForeignSecretStore(store)),
            settings.try_into()?,
        );
        if let Some(browser) = service_browser {
            onboarding = onboarding.with_service_browser(browser);
        }
        Ok(Arc::new(Self { onboarding: Arc::new(onboarding), binding }))
    }

    /// Runs the whole onboarding of one device. `cancel` stops it at once (the device session is
    /// closed and the phone leaves the device's network) with `OnboardingError.Cancelled`;
    /// `prompt` (optional) is asked for a new Wi-Fi password when the device reports it wrong.
    /// The request must name the Wi-Fi network; to let the person choose it, use `runChoosing`.
    pub async fn run(
        &self,
        request: OnboardingRequest,
        observer: Arc<dyn FlowObserver>,
        prompt: Option<Arc<dyn WifiPasswordPrompt>>,
        cancel: Arc<CancelHandle>,
    ) -> Result<Onboarded, OnboardingError> {
        self.run_with(request, observer, prompt, None, cancel).await
    }

    /// Runs the whole onboarding as `run` does; when the request has no Wi-Fi network (null),
    /// `chooser` shows the networks the device sees and returns the person's choice (null
    /// cancels the run). A wrong password is still asked again through `prompt`.
    pub async fn run_choosing(
        &self,
        request: OnboardingRequest,
        observer: Arc<dyn FlowObserver>,
        prompt: Option<Arc<dyn WifiPasswordPrompt>>,
        chooser: Arc<dyn NetworkChooser>,
        cancel: Arc<CancelHandle>,
    ) -> Result<Onboarded, OnboardingError> {
        self.run_with(request, observer, prompt, Some(chooser), cancel).await
    }

    /// Finishes every onboarding interrupted after its claim reached the device: waits for each
    /// device to check in and confirms.
    pub async fn resume(
        &self,
        observer: Arc<dyn FlowObserver>,
        cancel: Arc<CancelHandle>,
    ) -> Result<Vec<Onboarded>, OnboardingError> {
        let onboarding = Arc::clone(&self.onboarding);
        on_runtime(async move {
            let observer = ForeignObserver(observer);
            let done = onboarding.resume(&observer, &cancel.token()).await?;
            Ok(done.into_iter().map(Onboarded::from).collect())
        })
        .await
    }

    /// Claims pushed to devices whose binding is not confirmed yet.
    pub async fn pending_claims(&self) -> Result<Vec<PendingClaim>, OnboardingError> {
        let onboarding = Arc::clone(&self.onboarding);
        on_runtime(async move {
            let claims = onboarding.pending_claims().await?;
            Ok(claims
                .into_iter()
                .map(|claim| PendingClaim {
                    device_name: claim.device_name,
                    claim_id: claim.claim_id,
                    device_id: claim.device_id,
                })
                .collect())
        })
        .await
    }
}

impl OnboardingClient {
    /// One run, with the person's choice of network when `chooser` is given.
    async fn run_with(
        &self,
        request: OnboardingRequest,
        observer: Arc<dyn FlowObserver>,
        prompt: Option<Arc<dyn WifiPasswordPrompt>>,
        chooser: Option<Arc<dyn NetworkChooser>>,
        cancel: Arc<CancelHandle>,
    ) -> Result<Onboarded, OnboardingError> {
        let request = core::OnboardingRequest::try_from(request)?;
        let onboarding = Arc::clone(&self.onboarding);
        on_runtime(async move {
            let observer = ForeignObserver(observer);
            let prompt = prompt.map(ForeignPrompt);
            let prompt = prompt.as_ref().map(|prompt| prompt as &dyn core::WifiPasswordPrompt);
            let chooser = chooser.map(ForeignChooser);
            let chooser = chooser.as_ref().map(|chooser| chooser as &dyn core::NetworkChooser);
            let done = onboarding.run_choosing(&request, &observer, prompt, chooser, &cancel.token()).await?;
            Ok(done.into())
        })
        .await
    }
}

/// The shell's observer, as the core's.
pub(crate) struct ForeignObserver(pub(crate) Arc<dyn FlowObserver>);

impl core::FlowObserver for ForeignObserver {
    fn on_event(&self, event: FlowEvent) {
        self.0.on_event(event);
    }
}

struct ForeignPrompt(Arc<dyn WifiPasswordPrompt>);

#[async_trait]
impl core::WifiPasswordPrompt for ForeignPrompt {
    async fn ask_again(&self, ssid: String, attempt: u32) -> Option<SecretString> {
        self.0.ask_again(ssid, attempt).await.map(SecretString::new)
    }
}

/// Why onboarding stopped. The variant is what the app should offer the person (the core's
/// `user_action`); the message says what happened and what to do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum OnboardingError {
    /// The person cancelled; offer nothing.
    #[error("{0}")]
    Cancelled(String),
    /// Transient trouble: offer to try again as is.
    #[error("{0}")]
    Retry(String),
    /// The device rejected the Wi-Fi password: ask for it again.
    #[error("{0}")]
    EnterWifiPassword(String),
    /// The device cannot find or join the network: check its name, move the device closer to
    /// the router.
    #[error("{0}")]
    CheckWifiNetwork(String),
    /// The device is out of reach: move closer, check it is in setup mode, retry.
    #[error("{0}")]
    MoveCloser(String),
    /// The device rejected its proof of possession: check its code or QR code.
    #[error("{0}")]
    CheckDeviceCode(String),
    /// The person must sign in again.
    #[error("{0}")]
    SignIn(String),
    /// A new claim is needed: start over.
    #[error("{0}")]
    StartOver(String),
    /// A permission or radio is missing: fix the phone's settings.
    #[error("{0}")]
    FixPhoneSettings(String),
    /// Nothing the person can do: update the app or contact support.
    #[error("{0}")]
    ContactSupport(String),
    /// The app passed something unusable (a bug in the app).
    #[error("{0}")]
    InvalidRequest(String),
}

impl From<core::FlowError> for OnboardingError {
    fn from(error: core::FlowError) -> Self {
        use unbox_core::UserAction as A;
        let message = error.to_string();
        match error.user_action() {
            A::None => Self::Cancelled(message),
            A::Retry => Self::Retry(message),
            A::EnterWifiPassword => Self::EnterWifiPassword(message),
            A::CheckWifiNetwork => Self::CheckWifiNetwork(message),
            A::MoveCloser => Self::MoveCloser(message),
            A::CheckDeviceCode => Self::CheckDeviceCode(message),
            A::SignIn => Self::SignIn(message),
            A::StartOver => Self::StartOver(message),
            A::FixPhoneSettings => Self::FixPhoneSettings(message),
            A::ContactSupport => Self::ContactSupport(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use unbox_core::device::{DeviceError, WifiFailure};

    use super::*;
    use crate::qr::parse_onboarding_code;

    fn request(credentials: DeviceCredentials, target: DeviceTarget) -> OnboardingRequest {
        OnboardingRequest {
            device_name: "PROV_1A2B3C".into(),
            target,
            credentials,
            wifi: Some(WifiCredentials {
                ssid: "HomeNet".into(),
                passphrase: "correct horse battery".into(),
            }),
            scan_wifi: true,
            wifi_only: false,
            code: None,
        }
    }

    fn softap() -> DeviceTarget {
        DeviceTarget::SoftAp {
            ssid: "PROV_1A2B3C".into(),
            passphrase: None,
            address: "192.168.4.1:80".into(),
        }
    }

    #[test]
    fn requests_take_credentials_from_the_scanned_code() {
        let code = parse_onboarding_code(
            r#"{"ver":"v1","name":"PROV_1A2B3C","username":"wifiprov","pop":"abcd1234","transport":"softap"}"#
                .into(),
        )
        .unwrap();
        let converted =
            core::OnboardingRequest::try_from(request(DeviceCredentials::FromCode { code }, softap()))
                .unwrap();
        let ClientCredentials::Sec2 { username, password, .. } = converted.credentials else {
            panic!("expected security 2 credentials");
        };
        assert_eq!((username.as_str(), password.expose()), ("wifiprov", "abcd1234"));
        let wifi = converted.wifi.as_ref().unwrap();
        assert_eq!(wifi.passphrase.expose(), "correct horse battery");
        assert!(!format!("{wifi:?}").contains("correct horse"));
    }

    #[test]
    fn a_softap_target_from_the_code_keeps_its_passphrase_inside() {
        let code = parse_onboarding_code(
            r#"{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"softap","password":"setup-1234"}"#.into(),
        )
        .unwrap();
        let target = DeviceTarget::SoftApFromCode { code: code.clone(), address: "192.168.4.1:80".into() };
        let converted =
            core::OnboardingRequest::try_from(request(DeviceCredentials::FromCode { code }, target)).unwrap();
        let core::DeviceTarget::SoftAp { ssid, passphrase, address } = converted.target else {
            panic!("expected a SoftAP target");
        };
        assert_eq!((ssid.as_str(), address.as_str()), ("PROV_1A2B3C", "192.168.4.1:80"));
        assert_eq!(passphrase.as_ref().map(SecretString::expose), Some("setup-1234"));
    }

    #[test]
    fn unusable_requests_are_invalid_requests() {
        let wifi_code = parse_onboarding_code("WIFI:S:home;T:nopass;;".into()).unwrap();
        let not_a_device = core::OnboardingRequest::try_from(request(
            DeviceCredentials::FromCode { code: wifi_code },
            softap(),
        ));
        assert!(matches!(not_a_device, Err(OnboardingError::InvalidRequest(_))));
        let wifi_code = parse_onboarding_code("WIFI:S:home;T:nopass;;".into()).unwrap();
        let no_access_point = core::OnboardingRequest::try_from(request(
            DeviceCredentials::Sec0,
            DeviceTarget::SoftApFromCode { code: wifi_code, address: "192.168.4.1:80".into() },
        ));
        assert!(matches!(no_access_point, Err(OnboardingError::InvalidRequest(_))));
    }

    #[test]
    fn settings_round_trip_to_the_core_defaults() {
        let settings = default_onboarding_settings();
        let back = core::OnboardingSettings::try_from(settings.clone()).unwrap();
        assert_eq!(OnboardingSettings::from(back), settings);
        let bad = OnboardingSettings { device_backend_url: Some("not a url".into()), ..settings.clone() };
        assert!(matches!(core::OnboardingSettings::try_from(bad), Err(OnboardingError::InvalidRequest(_))));
        // Weak device channels stay refused unless the app opts in, one by one.
        assert!(
            !settings.allow_unencrypted
                && !settings.allow_sec1_without_pop
                && !settings.allow_sec2_static_nonce
        );
        let opted_in = OnboardingSettings { allow_sec2_static_nonce: true, ..settings };
        let policy = core::OnboardingSettings::try_from(opted_in).unwrap().policy;
        assert!(policy.allow_sec2_static_nonce && !policy.allow_unencrypted);
    }

    #[test]
    fn wifi_only_requests_bind_nothing() {
        let mut wifi_only = request(DeviceCredentials::Sec0, softap());
        wifi_only.wifi_only = true;
        let core_request = core::OnboardingRequest::try_from(wifi_only).unwrap();
        assert_eq!(core_request.binding, core::BindingMode::None);
        let claim = core::OnboardingRequest::try_from(request(DeviceCredentials::Sec0, softap())).unwrap();
        assert_eq!(claim.binding, core::BindingMode::Claim);
    }

    #[test]
    fn errors_are_grouped_by_the_core_user_action_and_keep_its_message() {
        let cases = [
            (core::FlowError::Cancelled, "Cancelled"),
            (core::FlowError::Device(DeviceError::Wifi(WifiFailure::AuthError)), "EnterWifiPassword"),
            (core::FlowError::Device(DeviceError::Wifi(WifiFailure::NetworkNotFound)), "CheckWifiNetwork"),
            (core::FlowError::ClaimExpiredBeforePush, "StartOver"),
            (core::FlowError::Device(DeviceError::InvalidSsid { len: 40 }), "CheckWifiNetwork"),
            (core::FlowError::Device(DeviceError::InvalidPassphrase { len: 5 }), "EnterWifiPassword"),
            (core::FlowError::DeviceCannotBind, "ContactSupport"),
            (core::FlowError::MissingCapability(core::PhoneCapability::Bluetooth), "FixPhoneSettings"),
        ];
        for (error, variant) in cases {
            let message = error.to_string();
            let converted = OnboardingError::from(error);
            assert_eq!(converted.to_string(), message);
            assert!(format!("{converted:?}").starts_with(variant), "{converted:?}");
        }
    }
}
