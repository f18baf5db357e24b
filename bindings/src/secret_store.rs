//! Secure storage the shell provides (Android Keystore-backed storage, the iOS Keychain) for the
//! sign-in tokens, adapted to the core's [`SecretStore`](unbox_core::platform::secret_store::SecretStore).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use unbox_core::platform::secret_store::{self as core, MemorySecretStore};
use unbox_core::secret::SecretString;

/// Secure storage for small named secrets. Values are secrets: never log them.
#[uniffi::export(with_foreign)]
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// The secret stored under `key`, or null when there is none.
    async fn get(&self, key: String) -> Result<Option<String>, SecretStoreError>;
    /// Stores `value` under `key`, replacing any previous value.
    async fn put(&self, key: String, value: String) -> Result<(), SecretStoreError>;
    /// Removes the secret under `key`; removing a missing key succeeds.
    async fn delete(&self, key: String) -> Result<(), SecretStoreError>;
}

/// A store in process memory only, forgotten when the process ends: for tests, and for shells
/// that must not keep a sign-in.
#[uniffi::export]
pub fn memory_secret_store() -> Arc<dyn SecretStore> {
    Arc::new(InMemory(MemorySecretStore::new()))
}

/// Why the secure storage could not be used. Thrown by the shell's store; never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SecretStoreError {
    /// The storage is missing, locked or refused access; trying later may work.
    Unavailable {
        /// What the platform said.
        reason: String,
    },
    /// The storage refused or failed the operation on `key`.
    Failed {
        /// The entry concerned.
        key: String,
        /// What the platform said.
        reason: String,
    },
}

impl fmt::Display for SecretStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        core::SecretStoreError::from(self.clone()).fmt(f)
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SecretStoreError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Unavailable {
            reason: format!("the app's secure storage failed unexpectedly: {}", error.reason),
        }
    }
}

impl From<SecretStoreError> for core::SecretStoreError {
    fn from(error: SecretStoreError) -> Self {
        match error {
            SecretStoreError::Unavailable { reason } => Self::Unavailable { reason },
            SecretStoreError::Failed { key, reason } => Self::Failed { key, reason },
        }
    }
}

impl From<core::SecretStoreError> for SecretStoreError {
    fn from(error: core::SecretStoreError) -> Self {
        match error {
            core::SecretStoreError::Unavailable { reason } => Self::Unavailable { reason },
            core::SecretStoreError::Failed { key, reason } => Self::Failed { key, reason },
        }
    }
}

/// The core's memory store seen as an FFI store.
struct InMemory(MemorySecretStore);

#[async_trait]
impl SecretStore for InMemory {
    async fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
        let value = core::SecretStore::get(&self.0, &key).await?;
        Ok(value.map(|secret| secret.expose().to_owned()))
    }

    async fn put(&self, key: String, value: String) -> Result<(), SecretStoreError> {
        Ok(core::SecretStore::put(&self.0, &key, SecretString::new(value)).await?)
    }

    async fn delete(&self, key: String) -> Result<(), SecretStoreError> {
        Ok(core::SecretStore::delete(&self.0, &key).await?)
    }
}

/// A shell's store seen as the core's store.
pub(crate) struct ForeignSecretStore(pub(crate) Arc<dyn SecretStore>);

#[async_trait]
impl core::SecretStore for ForeignSecretStore {
    async fn get(&self, key: &str) -> Result<Option<SecretString>, core::SecretStoreError> {
        Ok(self.0.get(key.to_owned()).await?.map(SecretString::new))
    }

    async fn put(&self, key: &str, value: SecretString) -> Result<(), core::SecretStoreError> {
        Ok(self.0.put(key.to_owned(), value.expose().to_owned()).await?)
    }

    async fn delete(&self, key: &str) -> Result<(), core::SecretStoreError> {
        Ok(self.0.delete(key.to_owned()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unbox_core::platform::secret_store::SecretStore as _;

    #[tokio::test]
    async fn the_memory_store_round_trips_through_the_adapter() {
        let store = ForeignSecretStore(memory_secret_store());
        assert_eq!(store.get("k").await, Ok(None));
        store.put("k", SecretString::new("v")).await.unwrap();
        assert_eq!(store.get("k").await.unwrap().unwrap().expose(), "v");
        store.delete("k").await.unwrap();
        assert_eq!(store.get("k").await, Ok(None));
    }

    #[test]
    fn errors_convert_both_ways_with_the_core_message() {
        let failed = SecretStoreError::Failed { key: "k".into(), reason: "denied".into() };
        let core_error = core::SecretStoreError::from(failed.clone());
        assert_eq!(failed.to_string(), core_error.to_string());
        assert_eq!(SecretStoreError::from(core_error), failed);
        let unexpected = SecretStoreError::from(uniffi::UnexpectedUniFFICallbackError::new("boom"));
        assert!(core::SecretStoreError::from(unexpected).is_retryable());
    }
}
