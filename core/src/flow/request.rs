//! What the app asks of the flow (one device: how to reach it, how it proves itself, the home
//! network, how to bind it) and what it gets back.

use async_trait::async_trait;
use uuid::Uuid;

use crate::binding::Binding;
use crate::device::{ConnectedInfo, WifiCredentials};
pub use crate::onboarding::BindingMode;
use crate::onboarding::{DeviceDetails, NetworkList};
use crate::platform::service_browser::ServiceQuery;
use crate::portal::PortalParameter;
use crate::qr::{OnboardingPayload, QrError};
use crate::secret::SecretString;
use crate::security::ClientCredentials;
use crate::transport::TransportKind;

/// How to reach the device.
#[derive(Debug, Clone)]
pub enum DeviceTarget {
    /// Over Bluetooth LE.
    Ble {
        /// The peripheral as the BLE stack names it.
        peripheral_id: String,
        /// The provisioning service UUID.
        service: Uuid,
    },
    /// Over the device's own access point.
    SoftAp {
        /// The access point's SSID.
        ssid: String,
        /// Its passphrase (`None` for an open access point).
        passphrase: Option<SecretString>,
        /// The device's HTTP address on that network (`192.168.4.1:80` on ESP devices).
        address: String,
    },
    /// A captive-portal device (WiFiManager-style firmware) through its access point.
    Portal(PortalTarget),
    /// An Improv Wi-Fi device on a serial port of this computer (desktops only).
    #[cfg(feature = "improv-serial")]
    ImprovSerial {
        /// The port's path (`/dev/ttyUSB0`, `COM3`).
        port: String,
        /// Its rate: the firmware's console rate ([`crate::improv::serial::DEFAULT_BAUD_RATE`]
        /// on ESPHome).
        baud: u32,
    },
}

/// A captive-portal device: its access point, its portal and what to put in its form.
#[derive(Debug, Clone)]
pub struct PortalTarget {
    /// The access point's SSID (WiFiManager's default is `ESP32_` or `ESP_` + the chip id).
    pub ssid: String,
    /// Its passphrase (`None` for an open access point, WiFiManager's default).
    pub passphrase: Option<SecretString>,
    /// The portal's address on that network (`192.168.4.1:80`).
    pub address: String,
    /// Custom parameters to fill in the form, by the firmware's parameter ids.
    pub parameters: Vec<PortalParameter>,
    /// The form field that carries the claim token, for the claim binding (the firmware must
    /// declare it and redeem the token once online).
    pub claim_parameter: Option<String>,
    /// The device's id, for the claim binding: the portal cannot report it, so the app gives
    /// the one on the device's label or code. The backend confirms the claim only if this device
    /// redeemed it, so a listener who read the token off the open access point and redeemed it
    /// with another device gets nothing.
    pub device_id: Option<String>,
    /// How the device announces itself on the home network once online (DNS-SD), to confirm
    /// its join in Wi-Fi-only mode; without it (or without a service browser) the outcome is
    /// unconfirmed, as the portal never reports the join.
    pub announce: Option<ServiceQuery>,
}

impl DeviceTarget {
    /// The access point named in a device's scanned setup code: its SSID is the device's name,
    /// its passphrase the one printed in the code (if any), and `address` the device's HTTP
    /// address there. A code stating the BLE transport is [`QrError::BluetoothOnly`]; any other
    /// kind of code is [`QrError::NotADeviceCode`].
    pub fn softap_from_code(code: &OnboardingPayload, address: impl Into<String>) -> Result<Self, QrError> {
        match code {
            OnboardingPayload::Espressif(device) if device.transport == Some(TransportKind::Ble) => {
                Err(QrError::BluetoothOnly { name: device.name.clone() })
            }
            OnboardingPayload::Espressif(device) => Ok(Self::SoftAp {
                ssid: device.name.clone(),
                passphrase: device.softap_password.clone(),
                address: address.into(),
            }),
            other => Err(QrError::NotADeviceCode { kind: other.kind() }),
        }
    }
}

/// One device to onboard.
#[derive(Debug, Clone)]
pub struct OnboardingRequest {
    /// The device's service name (for messages and the pending-claim record).
    pub device_name: String,
    /// How to reach it.
    pub target: DeviceTarget,
    /// Its proof of possession or security 2 credentials.
    pub credentials: ClientCredentials,
    /// The home network it should join; `None`: the person chooses among the networks the
    /// device sees (a `NetworkChooser` is needed).
    pub wifi: Option<WifiCredentials>,
    /// Whether to let the device scan first (to check it can see the network).
    pub scan_wifi: bool,
    /// How to bind the device to the customer.
    pub binding: BindingMode,
    /// The setup code (QR) this onboarding started from, if any: handed back in
    /// [`Onboarded::code`] so that the outcome alone holds what an app binding the device itself
    /// needs. The flow reaches the device by `target` and `credentials` alone.
    pub code: Option<OnboardingPayload>,
}

/// The outcome of a successful onboarding.
#[derive(Debug, Clone)]
pub struct Onboarded {
    /// The active binding (`None` in [`BindingMode::None`]).
    pub binding: Option<Binding>,
    /// The device's connection, when the flow saw it join (absent when resumed or unconfirmed).
    pub network: Option<ConnectedInfo>,
    /// How the flow knows the device is online.
    pub confirmation: Confirmation,
    /// What the device said about itself (absent when resumed): what an app that binds the
    /// device itself needs (its name and info JSON), with the address in `network` and the
    /// fields of its setup code in `code`.
    pub device: Option<DeviceDetails>,
    /// The setup code (QR) the onboarding started from, as the request gave it (absent when
    /// resumed): its name, transport, security, username and PoP.
    pub code: Option<OnboardingPayload>,
}

/// How the flow knows the device joined the home network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Confirmation {
    /// The device reported that it joined.
    Reported,
    /// The device redeemed its claim at the backend (the link to it dropped before it could
    /// report, or the flow was resumed).
    Redeemed,
    /// Neither: the link to the device dropped after the credentials were sent and it could not
    /// be reached again. It has probably joined; have the person check its light or its app.
    Unconfirmed,
}

/// The network the person chose in the picker, with its passphrase (empty for an open one).
#[derive(Debug, Clone)]
pub struct ChosenNetwork {
    /// The network's name: one of the list, or typed for a hidden network.
    pub ssid: String,
    /// Its passphrase.
    pub passphrase: SecretString,
}

/// Shows the networks the device sees and lets the person choose one (or enter a hidden
/// network's name) and type its password.
#[async_trait]
pub trait NetworkChooser: Send + Sync {
    /// The chosen network, or `None` when the person cancels.
    async fn choose(&self, networks: NetworkList) -> Option<ChosenNetwork>;
}

/// Asks the person for the Wi-Fi password again after the device reported it wrong.
#[async_trait]
pub trait WifiPasswordPrompt: Send + Sync {
    /// Returns the new password, or `None` when the person gives up.
    async fn ask_again(&self, ssid: String, attempt: u32) -> Option<SecretString>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::{PayloadKind, parse};

    #[test]
    fn a_device_code_names_its_access_point() {
        let code = parse(
            r#"{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"softap","password":"setup-1234"}"#,
        )
        .unwrap();
        let DeviceTarget::SoftAp { ssid, passphrase, address } =
            DeviceTarget::softap_from_code(&code, "192.168.4.1:80").unwrap()
        else {
            panic!("expected a SoftAP target");
        };
        assert_eq!((ssid.as_str(), address.as_str()), ("PROV_1A2B3C", "192.168.4.1:80"));
        assert_eq!(passphrase.map(|p| p.expose().to_owned()).as_deref(), Some("setup-1234"));

        let open = parse(r#"{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234"}"#).unwrap();
        assert!(matches!(
            DeviceTarget::softap_from_code(&open, "192.168.4.1:80"),
            Ok(DeviceTarget::SoftAp { passphrase: None, .. })
        ));
        let ble = parse(r#"{"ver":"v1","name":"PROV_1A2B3C","pop":"abcd1234","transport":"ble"}"#).unwrap();
        let error = DeviceTarget::softap_from_code(&ble, "192.168.4.1:80").unwrap_err();
        assert_eq!(error, QrError::BluetoothOnly { name: "PROV_1A2B3C".into() });
        assert!(error.to_string().contains("connect to it over Bluetooth"), "{error}");
        let network = parse("WIFI:T:WPA;S:home;P:secret12;;").unwrap();
        assert_eq!(
            DeviceTarget::softap_from_code(&network, "192.168.4.1:80").unwrap_err(),
            QrError::NotADeviceCode { kind: PayloadKind::WifiNetwork }
        );
    }
}
