//! The customer's devices after setup, as methods of [`OnboardingClient`]: the backend's list,
//! unbinding, and handing a device to another account (an offer the receiver accepts while
//! signed in). The rules live in the core (`unbox_core::binding::bindings`) and the backend.

use std::time::SystemTime;

use unbox_core::binding::{
    self as core, BindingError, BindingId, EndReason, IdempotencyKey, check_transfer_code,
};
use unbox_core::secret::SecretString;

use crate::flow::OnboardingClient;
use crate::runtime::on_runtime;

// The two records below are the bindings' own: the core's ids are checked newtypes (they cross
// as text), its end is a pair of time and reason (two nullable fields here), and a transfer
// code, a secret inside the library, crosses as text because the person must hand it over.

/// One of the account's devices, as the backend lists it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountDevice {
    /// The binding's id: pass it to `unbind` or `offerTransfer`.
    pub binding_id: String,
    /// The bound device.
    pub device_id: String,
    /// The device's name in the list.
    pub name: String,
    /// When the binding became active.
    pub bound_at: SystemTime,
    /// When the device last redeemed a claim confirmed into this binding.
    pub last_redemption_at: SystemTime,
    /// The OAuth client (app) whose user confirmed or accepted the binding.
    pub bound_by_client: String,
    /// When the binding ended; null while it is active.
    pub ended_at: Option<SystemTime>,
    /// Why it ended; null while it is active.
    pub end_reason: Option<EndReason>,
}

impl From<core::DeviceBinding> for AccountDevice {
    fn from(binding: core::DeviceBinding) -> Self {
        Self {
            binding_id: binding.binding_id.as_str().to_owned(),
            device_id: binding.device_id.as_str().to_owned(),
            name: binding.name,
            bound_at: binding.bound_at,
            last_redemption_at: binding.last_redemption_at,
            bound_by_client: binding.bound_by_client,
            ended_at: binding.ended.map(|(at, _)| at),
            end_reason: binding.ended.map(|(_, reason)| reason),
        }
    }
}

/// A device offered to another account: show the code to the person, who hands it to the
/// receiver; the receiver's app calls `acceptTransfer` with it.
#[derive(uniffi::Record)]
pub struct TransferOffer {
    /// The offer's id.
    pub transfer_id: String,
    /// The single-use code to hand over (a secret: show it, never log it).
    pub code: String,
    /// The binding offered.
    pub binding_id: String,
    /// Its device.
    pub device_id: String,
    /// Until when the offer can be accepted.
    pub expires_at: SystemTime,
}

fn binding_id(text: String) -> Result<BindingId, DevicesError> {
    BindingId::new(text).map_err(|error| {
        DevicesError::InvalidRequest(format!("{error}; pass a `bindingId` from `devices()`"))
    })
}

#[uniffi::export]
impl OnboardingClient {
    /// The signed-in account's devices, every page of the backend's list, oldest first;
    /// `include_ended` adds those that left the account, with the reason (e.g. "set up by
    /// someone else").
    pub async fn devices(&self, include_ended: bool) -> Result<Vec<AccountDevice>, DevicesError> {
        let binding = self.binding.clone();
        on_runtime(async move {
            let all = binding.all_bindings(include_ended).await?;
            Ok(all.into_iter().map(AccountDevice::from).collect())
        })
        .await
    }

    /// Removes a device from the account; the device learns it at its next binding check.
    /// Removing a device that already left is no error.
    pub async fn unbind(&self, binding_id: String) -> Result<(), DevicesError> {
        let id = self::binding_id(binding_id)?;
        let binding = self.binding.clone();
        on_runtime(async move { Ok(binding.unbind(&id).await?) }).await
    }

    /// Offers a device to another account, without a factory reset: the receiver accepts it
    /// with the offer's code; until then the device stays on this account.
    pub async fn offer_transfer(&self, binding_id: String) -> Result<TransferOffer, DevicesError> {
        let id = self::binding_id(binding_id)?;
        let binding = self.binding.clone();
        on_runtime(async move {
            let offer = binding.offer_transfer(&id, &IdempotencyKey::generate()).await?;
            Ok(TransferOffer {
                transfer_id: offer.transfer_id,
                code: offer.code.expose().to_owned(),
                binding_id: offer.binding_id.as_str().to_owned(),
                device_id: offer.device_id.as_str().to_owned(),
                expires_at: offer.expires_at,
            })
        })
        .await
    }

    /// Accepts a device offered to the signed-in account with the code its owner handed over:
    /// the device moves here and leaves the giver's account (reason `Transferred`).
    pub async fn accept_transfer(&self, code: String) -> Result<AccountDevice, DevicesError> {
        let code = SecretString::new(code);
        check_transfer_code(&code).map_err(|error| {
            DevicesError::CheckTransferCode(format!("{error}; check the code the device's owner gave you"))
        })?;
        let binding = self.binding.clone();
        on_runtime(
            async move { Ok(binding.accept_transfer(&code, &IdempotencyKey::generate()).await?.into()) },
        )
        .await
    }
}

/// Why a call about the account's devices failed. The variant is what the app should offer the
/// person; the message says what happened and what to do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum DevicesError {
    /// Transient trouble (no network, backend busy): offer to try again.
    #[error("{0}")]
    Retry(String),
    /// The person must sign in again.
    #[error("{0}")]
    SignIn(String),
    /// The device is no longer on this account (removed, set up or accepted elsewhere): list
    /// the devices again.
    #[error("{0}")]
    RefreshDevices(String),
    /// The transfer code is malformed, unknown, used, cancelled or expired: check it, or ask the
    /// device's owner for a new one.
    #[error("{0}")]
    CheckTransferCode(String),
    /// Nothing the person can do: update the app or contact support.
    #[error("{0}")]
    ContactSupport(String),
    /// The app passed something unusable (a bug in the app).
    #[error("{0}")]
    InvalidRequest(String),
}

impl From<BindingError> for DevicesError {
    fn from(error: BindingError) -> Self {
        use unbox_core::UserAction as A;
        let message = error.to_string();
        match error {
            BindingError::BindingNotFound => Self::RefreshDevices(message),
            BindingError::TransferNotFound => Self::CheckTransferCode(message),
            _ => match error.user_action() {
                A::Retry => Self::Retry(message),
                A::SignIn => Self::SignIn(message),
                _ => Self::ContactSupport(message),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn errors_offer_what_the_person_can_do() {
        let cases = [
            (BindingError::BindingNotFound, "RefreshDevices"),
            (BindingError::TransferNotFound, "CheckTransferCode"),
            (BindingError::Unauthorized { reason: "refused".into() }, "SignIn"),
            (BindingError::BackendUnreachable { attempts: 3, last: "HTTP 503".into() }, "Retry"),
            (BindingError::Protocol { reason: "odd".into() }, "ContactSupport"),
        ];
        for (error, variant) in cases {
            let message = error.to_string();
            let converted = DevicesError::from(error);
            assert_eq!(converted.to_string(), message);
            assert!(format!("{converted:?}").starts_with(variant), "{converted:?}");
        }
        assert!(matches!(binding_id("../x".into()), Err(DevicesError::InvalidRequest(_))));
    }

    #[test]
    fn an_ended_binding_crosses_with_its_time_and_reason() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        let binding = core::DeviceBinding {
            binding_id: BindingId::new("bnd_1").unwrap(),
            device_id: core::DeviceId::new("dev-1").unwrap(),
            name: "Kitchen".into(),
            bound_at: at,
            last_redemption_at: at,
            bound_by_client: "app".into(),
            ended: Some((at + Duration::from_secs(60), EndReason::Rebound)),
        };
        let device = AccountDevice::from(binding);
        assert_eq!((device.binding_id.as_str(), device.device_id.as_str()), ("bnd_1", "dev-1"));
        assert_eq!(device.ended_at, Some(at + Duration::from_secs(60)));
        assert_eq!(device.end_reason, Some(EndReason::Rebound));
    }
}
