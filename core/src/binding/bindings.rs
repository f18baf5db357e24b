//! The binding's life after setup: the customer's device list (paginated), unbinding, handing a
//! device to another account (an offer the receiver accepts while signed in); the device's own
//! check whether it is still bound is in the redeem module. Rules (`docs/binding-api.yaml`): a device has at most
//! one active binding; the same customer setting a device up again keeps its binding; another
//! customer's confirmed setup (the device was factory-reset, its PoP is proof of possession)
//! moves it and ends the previous owner's binding with the reason `rebound`.

use std::time::SystemTime;

use url::Url;

use crate::http::Method;
use zeroize::Zeroizing;

use super::client::{BindingClient, join, parse_body, protocol};
use super::error::BindingError;
use super::model::{DeviceId, IdempotencyKey, InvalidValue};
use super::wire::{
    AcceptTransferBody, BindingPageView, DeviceBindingView, OfferTransferBody, TransferOfferView, paths,
};
use crate::secret::SecretString;

/// Most bindings the backend returns on one page.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Longest binding id accepted (bytes).
pub const MAX_BINDING_ID_LEN: usize = 128;
/// Most pages [`BindingClient::all_bindings`] follows, so a backend that keeps answering with a
/// cursor cannot keep the app busy for ever.
const MAX_PAGES: usize = 1000;

/// A binding's id: 1-128 characters of `A-Z a-z 0-9 - _`, safe in a URL path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BindingId(String);

impl BindingId {
    /// Validates a binding id.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidValue> {
        let id = id.into();
        let what = "binding id";
        if id.is_empty() || id.len() > MAX_BINDING_ID_LEN {
            return Err(InvalidValue { what, reason: "it must be 1 to 128 characters long" });
        }
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(InvalidValue { what, reason: "only A-Z a-z 0-9 - _ are allowed" });
        }
        Ok(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BindingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a binding ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum EndReason {
    /// The owner removed the device.
    Unbound,
    /// Another account set the device up (after a factory reset).
    Rebound,
    /// The owner handed the device to another account.
    Transferred,
}

impl EndReason {
    /// The reason as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unbound => "unbound",
            Self::Rebound => "rebound",
            Self::Transferred => "transferred",
        }
    }

    /// Reads a wire reason.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Unbound, Self::Rebound, Self::Transferred].into_iter().find(|r| r.as_str() == text)
    }
}

/// One of the customer's devices, as the backend lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceBinding {
    /// The binding's id (to unbind or transfer it).
    pub binding_id: BindingId,
    /// The bound device.
    pub device_id: DeviceId,
    /// The device's name in the list.
    pub name: String,
    /// When the binding became active.
    pub bound_at: SystemTime,
    /// When the device last redeemed a claim confirmed into this binding.
    pub last_redemption_at: SystemTime,
    /// The OAuth client (app) whose user confirmed or accepted the binding.
    pub bound_by_client: String,
    /// When and why the binding ended; `None` while it is active.
    pub ended: Option<(SystemTime, EndReason)>,
}

impl DeviceBinding {
    fn from_view(view: DeviceBindingView) -> Result<Self, BindingError> {
        let ended = match (view.status.as_str(), view.ended_at, view.end_reason.as_deref()) {
            ("active", None, None) => None,
            ("ended", Some(at), Some(reason)) => Some((
                SystemTime::from(at),
                EndReason::parse(reason).ok_or_else(|| protocol(format!("unknown end reason `{reason}`")))?,
            )),
            (status, ..) => {
                return Err(protocol(format!("binding status `{status}` does not fit its end fields")));
            }
        };
        Ok(Self {
            binding_id: BindingId::new(view.binding_id).map_err(|e| protocol(e.to_string()))?,
            device_id: DeviceId::new(view.device_id).map_err(|e| protocol(e.to_string()))?,
            name: view.name,
            bound_at: SystemTime::from(view.bound_at),
            last_redemption_at: SystemTime::from(view.last_redemption_at),
            bound_by_client: view.bound_by_client,
            ended,
        })
    }
}

/// Which page of the device list to ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Page size (1-100); the backend's default (50) when `None`.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page; the first page when `None`.
    pub cursor: Option<String>,
    /// Also list ended bindings (with their reason), e.g. to show "set up by someone else".
    pub include_ended: bool,
}

/// One page of the device list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingPage {
    /// The bindings, oldest first.
    pub bindings: Vec<DeviceBinding>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A device offered to another account: the receiver accepts it with the code while signed in.
#[derive(Debug, Clone)]
pub struct TransferOffer {
    /// The offer's id.
    pub transfer_id: String,
    /// The single-use code to hand to the receiver (secret; redacted in `Debug`).
    pub code: SecretString,
    /// The binding offered.
    pub binding_id: BindingId,
    /// Its device.
    pub device_id: DeviceId,
    /// Until when the offer can be accepted.
    pub expires_at: SystemTime,
}

impl BindingClient {
    fn binding_url(&self, id: &BindingId, suffix: &str) -> Result<Url, BindingError> {
        join(self.base_url(), &format!("{}{}{suffix}", paths::BINDING_PREFIX, id.as_str()))
    }

    /// One page of the signed-in customer's devices.
    pub async fn list_bindings(&self, query: &ListQuery) -> Result<BindingPage, BindingError> {
        let mut url = join(self.base_url(), paths::BINDINGS)?;
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(limit) = query.limit {
                pairs.append_pair("limit", &limit.clamp(1, MAX_PAGE_SIZE).to_string());
            }
            if let Some(cursor) = &query.cursor {
                pairs.append_pair("cursor", cursor);
            }
            if query.include_ended {
                pairs.append_pair("include_ended", "true");
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let body = self.user_call(Method::GET, url).execute(&self.http, &self.retry).await?;
        let page: BindingPageView = parse_body(&body, "the binding list")?;
        if page.next_cursor.as_ref().is_some_and(|next| Some(next) == query.cursor.as_ref()) {
            return Err(protocol("the next page's cursor is the cursor just asked for"));
        }
        Ok(BindingPage {
            bindings: page.bindings.into_iter().map(DeviceBinding::from_view).collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
        })
    }

    /// Every page of the device list, followed to its end.
    pub async fn all_bindings(&self, include_ended: bool) -> Result<Vec<DeviceBinding>, BindingError> {
        let mut query = ListQuery { include_ended, ..ListQuery::default() };
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.list_bindings(&query).await?;
            all.extend(page.bindings);
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => return Ok(all),
            }
        }
        Err(protocol(format!("the device list did not end after {MAX_PAGES} pages")))
    }

    /// Removes a device from the customer's account. The device learns it at its next binding
    /// check. Removing a binding that already ended is harmless (idempotent DELETE).
    pub async fn unbind(&self, id: &BindingId) -> Result<(), BindingError> {
        let url = self.binding_url(id, "")?;
        self.user_call(Method::DELETE, url).execute(&self.http, &self.retry).await?;
        tracing::info!(binding_id = %id, "device unbound");
        Ok(())
    }

    /// Offers the device of binding `id` to another account. Retry with the same `key`.
    pub async fn offer_transfer(
        &self,
        id: &BindingId,
        key: &IdempotencyKey,
    ) -> Result<TransferOffer, BindingError> {
        let body = serde_json::to_vec(&OfferTransferBody::default())
            .map_err(|e| protocol(format!("could not encode the request: {e}")))?;
        let mut call = self.user_call(Method::POST, self.binding_url(id, paths::TRANSFERS_SUFFIX)?);
        call.body = Some(Zeroizing::new(body));
        call.idempotency_key = Some(key);
        let answer = call.execute(&self.http, &self.retry).await?;
        let offer: TransferOfferView = parse_body(&answer, "the transfer offer")?;
        let binding_id = BindingId::new(offer.binding_id).map_err(|e| protocol(e.to_string()))?;
        if &binding_id != id {
            return Err(protocol("the transfer offer names another binding"));
        }
        Ok(TransferOffer {
            transfer_id: offer.transfer_id,
            code: offer.transfer_code,
            binding_id,
            device_id: DeviceId::new(offer.device_id).map_err(|e| protocol(e.to_string()))?,
            expires_at: SystemTime::from(offer.expires_at),
        })
    }

    /// Accepts a transfer offer as the signed-in customer: the device moves to this account and
    /// the giver's binding ends with the reason `transferred`. Retry with the same `key`.
    pub async fn accept_transfer(
        &self,
        code: &SecretString,
        key: &IdempotencyKey,
    ) -> Result<DeviceBinding, BindingError> {
        let body = serde_json::to_vec(&AcceptTransferBody { transfer_code: code.clone() })
            .map_err(|e| protocol(format!("could not encode the request: {e}")))?;
        let mut call = self.user_call(Method::POST, join(self.base_url(), paths::ACCEPT_TRANSFER)?);
        call.body = Some(Zeroizing::new(body));
        call.idempotency_key = Some(key);
        let answer = call.execute(&self.http, &self.retry).await?;
        let binding = DeviceBinding::from_view(parse_body(&answer, "the accepted binding")?)?;
        tracing::info!(binding_id = %binding.binding_id, device_id = %binding.device_id, "transfer accepted");
        Ok(binding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_ids_are_path_safe() {
        assert!(BindingId::new("bnd_0123-abc").is_ok());
        assert!(BindingId::new("../x").is_err());
        assert!(BindingId::new("").is_err());
        assert!(BindingId::new("b".repeat(129)).is_err());
    }

    #[test]
    fn views_need_consistent_end_fields() {
        let at = time::OffsetDateTime::from(
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_900_000_000),
        );
        let view = DeviceBindingView {
            binding_id: "bnd_1".into(),
            device_id: "d1".into(),
            name: "Kitchen".into(),
            status: "ended".into(),
            bound_at: at,
            last_redemption_at: at,
            bound_by_client: "app".into(),
            ended_at: Some(at),
            end_reason: Some("rebound".into()),
        };
        let binding = DeviceBinding::from_view(view.clone()).expect("valid");
        assert_eq!(binding.ended.map(|(_, reason)| reason), Some(EndReason::Rebound));
        let half = DeviceBindingView { end_reason: None, ..view.clone() };
        assert!(DeviceBinding::from_view(half).is_err());
        let odd = DeviceBindingView { end_reason: Some("stolen".into()), ..view.clone() };
        assert!(DeviceBinding::from_view(odd).is_err());
        let active = DeviceBindingView { status: "active".into(), ended_at: None, end_reason: None, ..view };
        assert_eq!(DeviceBinding::from_view(active).expect("valid").ended, None);
    }
}
