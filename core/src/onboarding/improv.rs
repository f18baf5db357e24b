//! Improv Wi-Fi behind the device handle, over BLE or a serial port (the client in
//! `crate::improv`). Improv has no claim channel: devices onboard in the Wi-Fi-only binding mode.
//! It has no encryption either: the channel is cleartext, which the policy allows by default.

use async_trait::async_trait;
use tokio::sync::Mutex;
use url::Url;

use super::device::{
    BindingMode, ChannelProtection, DeviceDetails, DeviceHandle, DeviceProtocol, ProvisionOutcome,
    ProvisionStatus, Sooner, StatusSink,
};
use super::networks::NetworkList;
use crate::binding::DeviceId;
use crate::device::{AuthMode, ConnectedInfo, StatusPolling, WifiCredentials, WifiFailure, WifiNetworkSeen};
use crate::flow::FlowError;
use crate::improv::{DeviceFault, ImprovClient, ImprovError, ImprovNetwork, ImprovProgress};
use crate::secret::SecretString;

/// A device speaking Improv Wi-Fi, with its link open.
pub struct ImprovDevice {
    details: DeviceDetails,
    client: Mutex<Option<ImprovClient>>,
    credentials: Mutex<Option<WifiCredentials>>,
}

impl ImprovDevice {
    /// The handle of an opened Improv client; reads the device's info when it offers it.
    pub async fn open(
        mut client: ImprovClient,
        name: &str,
        protocol: DeviceProtocol,
    ) -> Result<Self, FlowError> {
        let capabilities = client.capabilities();
        let offers = |bit| capabilities.is_none_or(|c| c.0 & bit != 0);
        let firmware = if offers(crate::improv::Capabilities::DEVICE_INFO) {
            match client.device_info().await {
                Ok(info) => Some(format!("{} {}", info.firmware, info.version)),
                // Older firmware (before 2.1) has no device info.
                Err(ImprovError::Device(DeviceFault::UnknownCommand)) => None,
                Err(error) => return Err(error.into()),
            }
        } else {
            None
        };
        let details = DeviceDetails {
            protocol,
            name: name.to_owned(),
            protocol_version: None,
            firmware,
            security: None,
            protection: ChannelProtection::Cleartext,
            can_scan: offers(crate::improv::Capabilities::SCAN),
            binding_modes: vec![BindingMode::None],
            capabilities: Vec::new(),
            info_json: None,
        };
        Ok(Self { details, client: Mutex::new(Some(client)), credentials: Mutex::new(None) })
    }
}

/// A network as Improv names its security (`WPA2`, `WPA/WPA2`, serial's `YES`), as the picker's.
fn seen(network: &ImprovNetwork) -> WifiNetworkSeen {
    let auth = match network.auth.as_str() {
        "NO" | "" => AuthMode::Open,
        "WEP" => AuthMode::Wep,
        "WPA" => AuthMode::WpaPsk,
        "WPA/WPA2" => AuthMode::WpaWpa2Psk,
        "WPA3" => AuthMode::Wpa3Psk,
        "WPA2/WPA3" => AuthMode::Wpa2Wpa3Psk,
        text if text.contains("EAP") => AuthMode::Wpa2Enterprise,
        // `WPA2`, serial's `YES`, and names this version does not know: a password is needed.
        _ => AuthMode::Wpa2Psk,
    };
    WifiNetworkSeen {
        ssid: network.ssid.clone(),
        ssid_bytes: network.ssid.as_bytes().to_vec(),
        bssid: None,
        channel: 0,
        rssi: network.rssi,
        auth,
    }
}

fn closed() -> FlowError {
    ImprovError::LinkClosed.into()
}

#[async_trait]
impl DeviceHandle for ImprovDevice {
    fn details(&self) -> &DeviceDetails {
        &self.details
    }

    async fn scan_networks(&self) -> Result<NetworkList, FlowError> {
        let mut client = self.client.lock().await;
        let networks = client.as_mut().ok_or_else(closed)?.scan_networks().await?;
        Ok(NetworkList::from_seen(&networks.iter().map(seen).collect::<Vec<_>>()))
    }

    async fn hand_over_claim(&self, _: &SecretString, _: Option<&Url>) -> Result<DeviceId, FlowError> {
        // Improv has no message that could carry a claim token.
        Err(FlowError::DeviceCannotBind)
    }

    async fn send_wifi(&self, network: &WifiCredentials) -> Result<(), FlowError> {
        // Improv sends and follows in one exchange (`wait_wifi`), after the authorization the
        // person may have to give there.
        *self.credentials.lock().await = Some(network.clone());
        Ok(())
    }

    async fn wait_wifi(
        &self,
        _: StatusPolling,
        _: Sooner<'_>,
        on_status: StatusSink<'_>,
    ) -> Result<ProvisionOutcome, FlowError> {
        let network = self.credentials.lock().await.clone().ok_or_else(closed)?;
        let mut client = self.client.lock().await;
        let client = client.as_mut().ok_or_else(closed)?;
        let mut progress = |progress| match progress {
            ImprovProgress::AuthorizationRequired { timeout } => {
                on_status(ProvisionStatus::AwaitingAuthorization { timeout })
            }
            ImprovProgress::Authorized => {}
            ImprovProgress::Provisioning => {
                on_status(ProvisionStatus::Connecting { attempts_remaining: None })
            }
        };
        match client.provision(&network.ssid, &network.passphrase, &mut progress).await {
            Ok(done) => Ok(ProvisionOutcome::Connected(ConnectedInfo {
                ip4_addr: String::new(),
                ssid: network.ssid.clone(),
                bssid: None,
                channel: 0,
                auth: AuthMode::Other(-1),
                redirect_url: done.redirect_url,
            })),
            Err(ImprovError::Device(DeviceFault::UnableToConnect)) => {
                Ok(ProvisionOutcome::Failed(WifiFailure::CouldNotJoin))
            }
            // The link went while the device was joining: whether it joined is not known.
            Err(ImprovError::Ble(_) | ImprovError::Serial(_) | ImprovError::LinkClosed) => {
                Ok(ProvisionOutcome::Unconfirmed)
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn recheck(&self, _: StatusPolling, _: StatusSink<'_>) -> Result<ProvisionOutcome, FlowError> {
        // An Improv device stops its service once provisioned: nothing to ask again.
        Ok(ProvisionOutcome::Unconfirmed)
    }

    async fn close(&self) {
        if let Some(client) = self.client.lock().await.take() {
            client.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onboarding::NetworkSecurity;

    #[test]
    fn improv_security_names_map_onto_the_picker() {
        let cases = [
            ("NO", NetworkSecurity::Open),
            ("WEP", NetworkSecurity::Wep),
            ("WPA", NetworkSecurity::Wpa),
            ("WPA2", NetworkSecurity::Wpa2),
            ("WPA/WPA2", NetworkSecurity::Wpa2),
            ("WPA2/WPA3", NetworkSecurity::Wpa2Wpa3),
            ("WPA3", NetworkSecurity::Wpa3),
            ("WPA2 EAP", NetworkSecurity::Enterprise),
            ("YES", NetworkSecurity::Wpa2),
        ];
        for (auth, security) in cases {
            let network = ImprovNetwork { ssid: "Home".into(), rssi: -60, auth: auth.into() };
            let list = NetworkList::from_seen(&[seen(&network)]);
            assert_eq!(list.networks[0].security, security, "{auth}");
        }
    }
}
