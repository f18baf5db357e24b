//! The one rule for channels without encryption (ESP security 0, Improv, captive portals): allowed
//! only as the app's security policy says, and reported to the app as a warning when used.

use super::device::{ChannelProtection, DeviceDetails, DeviceProtocol};
use crate::device::{DeviceError, PolicyRefusal, SecurityPolicy};

impl SecurityPolicy {
    /// Whether a device speaking `protocol` may be sent secrets in clear. ESP unified
    /// provisioning has encryption, so its security 0 is a downgrade the app must opt into
    /// (`allow_unencrypted`, off by default); the other protocols have none at all
    /// (`allow_cleartext_protocols`, on by default, since that is how they work).
    pub fn cleartext_refusal(&self, protocol: DeviceProtocol) -> Option<PolicyRefusal> {
        match protocol {
            DeviceProtocol::EspUnified => (!self.allow_unencrypted).then_some(PolicyRefusal::Unencrypted),
            _ => (!self.allow_cleartext_protocols).then_some(PolicyRefusal::CleartextProtocol),
        }
    }

    /// Checks a connected device's channel before any secret is sent; returns the warning the
    /// app is shown when the channel is cleartext and allowed.
    pub fn check_channel(&self, details: &DeviceDetails) -> Result<Option<String>, DeviceError> {
        if details.protection == ChannelProtection::Encrypted {
            return Ok(None);
        }
        if let Some(refusal) = self.cleartext_refusal(details.protocol) {
            return Err(DeviceError::RefusedByPolicy(refusal));
        }
        Ok(Some(format!(
            "{} does not encrypt its setup connection: anyone nearby can read the Wi-Fi password",
            details.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onboarding::BindingMode;

    fn device(protocol: DeviceProtocol, protection: ChannelProtection) -> DeviceDetails {
        DeviceDetails {
            protocol,
            name: "dev".into(),
            protocol_version: None,
            firmware: None,
            security: None,
            protection,
            can_scan: false,
            binding_modes: vec![BindingMode::None],
            capabilities: vec![],
            info_json: None,
        }
    }

    #[test]
    fn cleartext_is_refused_or_warned_as_the_policy_says() {
        let default = SecurityPolicy::default();
        let esp_sec0 = device(DeviceProtocol::EspUnified, ChannelProtection::Cleartext);
        let improv = device(DeviceProtocol::ImprovBle, ChannelProtection::Cleartext);
        let encrypted = device(DeviceProtocol::EspUnified, ChannelProtection::Encrypted);
        assert_eq!(default.check_channel(&encrypted).unwrap(), None);
        assert!(matches!(
            default.check_channel(&esp_sec0),
            Err(DeviceError::RefusedByPolicy(PolicyRefusal::Unencrypted))
        ));
        let warning = default.check_channel(&improv).unwrap().unwrap();
        assert!(warning.contains("anyone nearby can read the Wi-Fi password"), "{warning}");

        let strict = SecurityPolicy { allow_cleartext_protocols: false, ..default };
        let refused = strict.check_channel(&improv).unwrap_err();
        assert!(matches!(refused, DeviceError::RefusedByPolicy(PolicyRefusal::CleartextProtocol)));
        assert_eq!(refused.user_action(), crate::UserAction::ContactSupport);
        let opted_in = SecurityPolicy { allow_unencrypted: true, ..default };
        assert!(opted_in.check_channel(&esp_sec0).unwrap().is_some());
    }
}
