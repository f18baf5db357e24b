//! Claims pushed to a device but not yet confirmed, kept in the secret store so an interrupted
//! flow (app killed, phone offline) can resume by waiting on the claim.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::error::FlowError;
use crate::platform::secret_store::SecretStore;
use crate::secret::SecretString;

/// Where pending claims are stored.
pub const PENDING_CLAIMS_KEY: &str = "unbox.flow.pending_claims";

/// A claim the device accepted, waiting for redemption and confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingClaim {
    /// The device's service name, for the person.
    pub device_name: String,
    /// The claim.
    pub claim_id: String,
    /// The device id the device reported over the secure session.
    pub device_id: String,
    /// The idempotency key of the confirmation, reused on every retry.
    pub confirm_key: String,
    /// Whether the backend's confirm waits for the redemption (one call instead of a long-poll
    /// and a confirm); `false` for claims stored before the field existed.
    #[serde(default)]
    pub confirm_waits: bool,
}

/// The pending claims of one store, read and written as a whole under a lock.
pub struct PendingClaims {
    store: Arc<dyn SecretStore>,
    lock: Mutex<()>,
}

impl PendingClaims {
    /// Pending claims kept in `store`.
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Self { store, lock: Mutex::new(()) }
    }

    async fn load(&self) -> Result<BTreeMap<String, PendingClaim>, FlowError> {
        let Some(text) = self.store.get(PENDING_CLAIMS_KEY).await? else { return Ok(BTreeMap::new()) };
        match serde_json::from_str(text.expose()) {
            Ok(claims) => Ok(claims),
            Err(error) => {
                self.store.delete(PENDING_CLAIMS_KEY).await?;
                Err(FlowError::CorruptState(error.into()))
            }
        }
    }

    async fn save(&self, claims: &BTreeMap<String, PendingClaim>) -> Result<(), FlowError> {
        if claims.is_empty() {
            return Ok(self.store.delete(PENDING_CLAIMS_KEY).await?);
        }
        let text = serde_json::to_string(claims).map_err(|e| FlowError::CorruptState(e.into()))?;
        Ok(self.store.put(PENDING_CLAIMS_KEY, SecretString::new(text)).await?)
    }

    /// Every pending claim.
    pub async fn list(&self) -> Result<Vec<PendingClaim>, FlowError> {
        let _guard = self.lock.lock().await;
        Ok(self.load().await?.into_values().collect())
    }

    /// Records a claim the device accepted.
    pub async fn add(&self, claim: PendingClaim) -> Result<(), FlowError> {
        let _guard = self.lock.lock().await;
        let mut claims = self.load().await?;
        claims.insert(claim.claim_id.clone(), claim);
        self.save(&claims).await
    }

    /// Forgets a claim (confirmed, or dead).
    pub async fn remove(&self, claim_id: &str) -> Result<(), FlowError> {
        let _guard = self.lock.lock().await;
        let mut claims = self.load().await?;
        if claims.remove(claim_id).is_some() {
            self.save(&claims).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::secret_store::MemorySecretStore;

    fn claim(id: &str) -> PendingClaim {
        PendingClaim {
            device_name: "PROV_1".into(),
            claim_id: id.into(),
            device_id: "dev-1".into(),
            confirm_key: "key".into(),
            confirm_waits: true,
        }
    }

    #[test]
    fn claims_stored_before_confirm_waits_existed_read_as_without_it() {
        let stored = r#"{"device_name":"PROV_1","claim_id":"a","device_id":"dev-1","confirm_key":"key"}"#;
        let claim: PendingClaim = serde_json::from_str(stored).unwrap();
        assert!(!claim.confirm_waits);
    }

    #[tokio::test]
    async fn adds_lists_and_removes() {
        let store = Arc::new(MemorySecretStore::new());
        let pending = PendingClaims::new(store.clone());
        pending.add(claim("a")).await.unwrap();
        pending.add(claim("b")).await.unwrap();
        assert_eq!(pending.list().await.unwrap().len(), 2);
        pending.remove("a").await.unwrap();
        assert_eq!(pending.list().await.unwrap(), vec![claim("b")]);
        pending.remove("b").await.unwrap();
        assert_eq!(store.get(PENDING_CLAIMS_KEY).await.unwrap(), None);
    }

    #[tokio::test]
    async fn corrupt_state_is_discarded_with_a_typed_error() {
        let store = Arc::new(MemorySecretStore::new());
        store.put(PENDING_CLAIMS_KEY, SecretString::new("{not json")).await.unwrap();
        let pending = PendingClaims::new(store.clone());
        assert!(matches!(pending.list().await, Err(FlowError::CorruptState(_))));
        assert!(pending.list().await.unwrap().is_empty());
    }
}
