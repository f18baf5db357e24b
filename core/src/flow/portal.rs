//! The flow's steps for a captive-portal device: join its access point, read its Wi-Fi page,
//! post the form (with the claim token in the firmware's claim field), leave, and confirm
//! through the backend's redemption, by finding the device on the home network, or not at all.

use super::reporter::Reporter;
use super::run::{Held, Onboarding};
use super::{FlowError, FlowStep, Onboarded, OnboardingRequest, PhoneCapability, PortalTarget};
use crate::binding::{Binding, Claim, DeviceId, IdempotencyKey};
use crate::portal::{PortalClient, PortalError, PortalPage, WIFI_PAGE, WIFI_PAGE_NO_SCAN, check_form};
use crate::secret::SecretString;
use crate::service_browser::wait_for_instance;

/// What the flow tells the app before it sends anything to a portal device.
pub const CLEARTEXT_WARNING: &str = "This device takes its Wi-Fi details over unencrypted HTTP without \
     authentication: anyone in range of its access point can read them";

impl Onboarding {
    /// Whether the app's policy lets the flow send secrets in clear to an unauthenticated
    /// device. (Stand-in until the protocol-neutral cleartext policy flag lands: allowed, as the
    /// protocol has no other way.)
    fn allows_cleartext(&self) -> bool {
        true
    }

    pub(super) async fn portal_steps(
        &self,
        request: &OnboardingRequest,
        target: &PortalTarget,
        claim: Option<Claim>,
        report: &Reporter<'_>,
        held: &mut Held,
    ) -> Result<Onboarded, FlowError> {
        if !self.allows_cleartext() {
            return Err(PortalError::CleartextRefused.into());
        }
        let (device_id, claim_field) = match (&claim, &target.device_id, &target.claim_parameter) {
            (None, _, _) => (None, None),
            (Some(_), Some(id), Some(field)) => (
                Some(DeviceId::new(id).map_err(|e| FlowError::CorruptState(e.into()))?),
                Some(field.as_str()),
            ),
            (Some(_), _, _) => return Err(PortalError::ClaimDetailsNeeded.into()),
        };

        report.started(FlowStep::ConnectDevice);
        let client = self
            .timed(FlowStep::ConnectDevice, async {
                let wifi = self
                    .phone_wifi
                    .as_ref()
                    .ok_or(FlowError::MissingCapability(PhoneCapability::WifiJoining))?;
                let client = PortalClient::new(&target.address, self.settings.timeouts.device)?;
                wifi.join_network(target.ssid.clone(), target.passphrase.clone()).await?;
                held.joined_ssid = Some(target.ssid.clone());
                Ok(client)
            })
            .await?;
        report.finished(FlowStep::ConnectDevice, format!("Joined {}", target.ssid));
        report.skipped(FlowStep::SecureSession, CLEARTEXT_WARNING);

        report.started(FlowStep::ScanWifi);
        let page = self
            .timed(FlowStep::ScanWifi, async { Ok(read_page(&client, request.scan_wifi).await?) })
            .await?;
        let message = match &page {
            Some(page) if page.networks.iter().any(|network| network.ssid == request.wifi.ssid) => {
                format!("The device sees {}", request.wifi.ssid)
            }
            Some(page) if !page.networks.is_empty() => {
                format!("The device does not see {} right now; trying anyway", request.wifi.ssid)
            }
            Some(_) => "The device listed no networks".to_owned(),
            None => "The device's portal serves no Wi-Fi page; sending the form as is".to_owned(),
        };
        report.finished(FlowStep::ScanWifi, message);

        request.wifi.validate()?;
        let ssid = SecretString::from(request.wifi.ssid.as_str());
        let mut fields: Vec<(&str, &SecretString)> = vec![("s", &ssid), ("p", &request.wifi.passphrase)];
        if let (Some(claim), Some(field)) = (&claim, claim_field) {
            if page.as_ref().is_none_or(|page| page.field(field).is_none()) {
                return Err(PortalError::NoClaimField(field.to_owned()).into());
            }
            fields.push((field, &claim.token));
        }
        fields.extend(target.parameters.iter().map(|parameter| (parameter.id.as_str(), &parameter.value)));
        check_form(page.as_ref(), &fields)?;

        // One form carries both: the claim step reports the post when there is a claim.
        let first = match claim_field {
            Some(_) => FlowStep::PushClaim,
            None => {
                report.skipped(FlowStep::PushClaim, "Wi-Fi only: no link code to send");
                FlowStep::PushWifi
            }
        };
        report.started(first);
        self.timed(first, async { Ok(client.save(&fields).await?) }).await?;
        if let Some(field) = claim_field {
            report.finished(FlowStep::PushClaim, format!("Link code sent in the `{field}` field"));
            report.started(FlowStep::PushWifi);
        }
        report.finished(FlowStep::PushWifi, "Wi-Fi details sent");
        report.skipped(FlowStep::WaitDeviceOnline, "The portal does not report whether the device joined");

        report.started(FlowStep::LeaveDevice);
        self.timed(FlowStep::LeaveDevice, async {
            self.release(held).await;
            Ok(())
        })
        .await?;
        report.finished(FlowStep::LeaveDevice, "Back on the internet");

        let binding = match (claim, device_id) {
            (Some(claim), Some(device_id)) => {
                Some(self.confirm_portal_claim(report, &claim, &device_id).await?)
            }
            _ => {
                self.look_for_device(request, target, report).await?;
                None
            }
        };
        Ok(Onboarded { binding, network: None })
    }

    /// Waits until the device redeemed the claim and confirms it for the device the app named.
    async fn confirm_portal_claim(
        &self,
        report: &Reporter<'_>,
        claim: &Claim,
        device_id: &DeviceId,
    ) -> Result<Binding, FlowError> {
        let binding = &self.account()?.binding;
        report.started(FlowStep::WaitRedemption);
        binding.wait_for_redemption(&claim.id, self.settings.timeouts.redemption).await?;
        report.finished(FlowStep::WaitRedemption, "The device checked in");
        report.started(FlowStep::Confirm);
        let key = IdempotencyKey::generate();
        let bound = self
            .timed(FlowStep::Confirm, async { Ok(binding.confirm(&claim.id, device_id, &key).await?) })
            .await?;
        report.finished(FlowStep::Confirm, "The device is now yours");
        Ok(bound)
    }

    /// In Wi-Fi-only mode: looks for the device on the home network when the app said how it
    /// announces itself and gave a browser; otherwise the outcome stays unconfirmed.
    async fn look_for_device(
        &self,
        request: &OnboardingRequest,
        target: &PortalTarget,
        report: &Reporter<'_>,
    ) -> Result<(), FlowError> {
        report.skipped(FlowStep::WaitRedemption, "Wi-Fi only: nothing to redeem");
        let (Some(query), Some(browser)) = (&target.announce, &self.service_browser) else {
            report.skipped(
                FlowStep::Confirm,
                "Unconfirmed: the portal never reports whether the device joined; check the device",
            );
            return Ok(());
        };
        report.started(FlowStep::Confirm);
        let limit = self.settings.timeouts.device_online;
        match wait_for_instance(browser.as_ref(), query, limit).await? {
            Some(found) => {
                report.finished(
                    FlowStep::Confirm,
                    format!("Found {} on {} at {}", found.name, request.wifi.ssid, found.address),
                );
                Ok(())
            }
            None => Err(PortalError::NotSeenOnNetwork {
                service: query.service_type.clone(),
                instance: query.instance.clone(),
                waited: limit,
            }
            .into()),
        }
    }
}

/// The Wi-Fi page, with the scan when asked (`/wifi`) or without (`/0wifi`); the other page
/// when the firmware serves only one; `None` when it serves neither.
async fn read_page(client: &PortalClient, scan: bool) -> Result<Option<PortalPage>, PortalError> {
    let (first, second) = if scan { (WIFI_PAGE, WIFI_PAGE_NO_SCAN) } else { (WIFI_PAGE_NO_SCAN, WIFI_PAGE) };
    for path in [first, second] {
        match client.wifi_page(path).await {
            Ok(page) => return Ok(Some(page)),
            Err(PortalError::NoSuchPage(_)) => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}
