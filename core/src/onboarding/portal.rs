//! Captive-portal devices behind the device handle: the form's fields read at open (`/0wifi`),
//! the scan from `/wifi`, the claim token kept for the one form post, `/wifisave`, and the join
//! confirmed on the home network (DNS-SD) after leaving the access point, or unconfirmed: the
//! portal never reports it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use url::Url;

use super::connect::{Connector, JoinedAccessPoint, OpenRequest};
use super::device::{
    BindingMode, ChannelProtection, DeviceDetails, DeviceHandle, DeviceProtocol, ProvisionOutcome, Sooner,
    StatusSink,
};
use super::networks::NetworkList;
use crate::binding::DeviceId;
use crate::device::{AuthMode, ConnectedInfo, StatusPolling, WifiCredentials, WifiNetworkSeen};
use crate::flow::{FlowError, PortalTarget};
use crate::platform::service_browser::{ServiceBrowser, wait_for_instance};
use crate::portal::{PortalClient, PortalError, PortalPage, WIFI_PAGE, WIFI_PAGE_NO_SCAN, check_form};
use crate::secret::SecretString;

/// A WiFiManager-style device whose portal the phone reached.
pub struct PortalDevice {
    details: DeviceDetails,
    client: PortalClient,
    target: PortalTarget,
    /// The form's fields, when the firmware serves a Wi-Fi page.
    page: Option<PortalPage>,
    access_point: Option<Arc<JoinedAccessPoint>>,
    browser: Option<Arc<dyn ServiceBrowser>>,
    /// The claim token, posted with the Wi-Fi details in the one form.
    claim_token: Mutex<Option<SecretString>>,
    /// The home network last sent, for the confirmation's report.
    home_ssid: Mutex<Option<String>>,
}

impl PortalDevice {
    /// Reads the portal's form without a scan (`/0wifi`, or `/wifi` when the firmware serves
    /// only that); a portal serving neither is still usable, its form unchecked.
    pub(super) async fn open(
        connector: &Connector,
        target: &PortalTarget,
        access_point: Option<Arc<JoinedAccessPoint>>,
        request: &OpenRequest,
    ) -> Result<Self, FlowError> {
        let client = PortalClient::new(&target.address, connector.exchange_timeout())?;
        let page = read_page(&client, WIFI_PAGE_NO_SCAN, WIFI_PAGE).await?;
        let declares_claim = target
            .claim_parameter
            .as_deref()
            .is_some_and(|field| page.as_ref().is_some_and(|page| page.field(field).is_some()));
        let mut binding_modes = vec![BindingMode::None];
        if declares_claim && target.device_id.is_some() {
            binding_modes.push(BindingMode::Claim);
        }
        let details = DeviceDetails {
            protocol: DeviceProtocol::CaptivePortal,
            name: request.device_name.clone(),
            protocol_version: None,
            firmware: None,
            security: None,
            protection: ChannelProtection::Cleartext,
            can_scan: page.is_some(),
            binding_modes,
            capabilities: page
                .iter()
                .flat_map(|page| page.fields.iter().map(|field| field.name.clone()))
                .collect(),
            info_json: None,
        };
        Ok(Self {
            details,
            client,
            target: target.clone(),
            page,
            access_point,
            browser: connector.service_browser(),
            claim_token: Mutex::new(None),
            home_ssid: Mutex::new(None),
        })
    }
}

/// The first of two pages the firmware serves; `None` when it serves neither.
async fn read_page(
    client: &PortalClient,
    first: &str,
    second: &str,
) -> Result<Option<PortalPage>, PortalError> {
    for path in [first, second] {
        match client.wifi_page(path).await {
            Ok(page) => return Ok(Some(page)),
            Err(PortalError::NoSuchPage(_)) => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

/// A page's network as a scan result: WiFiManager shows quality = 2 × (RSSI + 100), so RSSI is
/// quality / 2 − 100; a lock says secured, not how (taken as WPA2).
fn seen(page: &PortalPage) -> Vec<WifiNetworkSeen> {
    page.networks
        .iter()
        .map(|network| WifiNetworkSeen {
            ssid: network.ssid.clone(),
            ssid_bytes: network.ssid.as_bytes().to_vec(),
            bssid: None,
            channel: 0,
            rssi: i32::from(network.quality.unwrap_or(0)) / 2 - 100,
            auth: if network.secured { AuthMode::Wpa2Psk } else { AuthMode::Open },
        })
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[async_trait]
impl DeviceHandle for PortalDevice {
    fn details(&self) -> &DeviceDetails {
        &self.details
    }

    /// `/wifi`: the device scans while it answers.
    async fn scan_networks(&self) -> Result<NetworkList, FlowError> {
        let page = read_page(&self.client, WIFI_PAGE, WIFI_PAGE_NO_SCAN).await?.unwrap_or_default();
        Ok(NetworkList::from_seen(&seen(&page)))
    }

    /// Keeps the token for the form; the device id is the one the app gave (the portal cannot
    /// report one), which the backend confirms only if that device redeemed.
    async fn hand_over_claim(
        &self,
        token: &SecretString,
        _backend_url: Option<&Url>,
    ) -> Result<DeviceId, FlowError> {
        let (Some(_), Some(id)) = (&self.target.claim_parameter, &self.target.device_id) else {
            return Err(PortalError::ClaimDetailsNeeded.into());
        };
        let device_id = DeviceId::new(id).map_err(|e| FlowError::CorruptState(e.into()))?;
        *lock(&self.claim_token) = Some(token.clone());
        Ok(device_id)
    }

    /// Checks the form against the firmware's fields, then posts it; the firmware answers at
    /// once, before it tries the network.
    async fn send_wifi(&self, network: &WifiCredentials) -> Result<(), FlowError> {
        network.validate()?;
        let ssid = SecretString::from(network.ssid.as_str());
        let token = lock(&self.claim_token).clone();
        let mut fields: Vec<(&str, &SecretString)> = vec![("s", &ssid), ("p", &network.passphrase)];
        if let (Some(token), Some(field)) = (&token, self.target.claim_parameter.as_deref()) {
            if self.page.as_ref().is_none_or(|page| page.field(field).is_none()) {
                return Err(PortalError::NoClaimField(field.to_owned()).into());
            }
            fields.push((field, token));
        }
        fields
            .extend(self.target.parameters.iter().map(|parameter| (parameter.id.as_str(), &parameter.value)));
        check_form(self.page.as_ref(), &fields)?;
        self.client.save(&fields).await?;
        *lock(&self.home_ssid) = Some(network.ssid.clone());
        Ok(())
    }

    /// The portal never reports the join.
    async fn wait_wifi(
        &self,
        _polling: StatusPolling,
        _sooner: Sooner<'_>,
        _on_status: StatusSink<'_>,
    ) -> Result<ProvisionOutcome, FlowError> {
        Ok(ProvisionOutcome::Unconfirmed)
    }

    /// Leaves the access point and looks for the device's announcement on the home network
    /// (within the polling deadline), when the app said what it announces and gave a browser.
    async fn recheck(
        &self,
        polling: StatusPolling,
        _on_status: StatusSink<'_>,
    ) -> Result<ProvisionOutcome, FlowError> {
        let (Some(query), Some(browser)) = (&self.target.announce, &self.browser) else {
            return Ok(ProvisionOutcome::Unconfirmed);
        };
        if let Some(access_point) = &self.access_point {
            access_point.leave().await;
        }
        let Some(found) = wait_for_instance(browser.as_ref(), query, polling.deadline).await? else {
            return Ok(ProvisionOutcome::Unconfirmed);
        };
        tracing::info!(instance = %found.name, address = %found.address, "portal device found on the home network");
        Ok(ProvisionOutcome::Connected(ConnectedInfo {
            ip4_addr: found.address,
            ssid: lock(&self.home_ssid).clone().unwrap_or_default(),
            bssid: None,
            channel: 0,
            // The announcement does not say how the device is secured on the network.
            auth: AuthMode::Other(0),
            redirect_url: None,
        }))
    }

    async fn close(&self) {
        if let Some(access_point) = &self.access_point {
            access_point.leave().await;
        }
    }
}
