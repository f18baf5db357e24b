//! The secret-store seam: small named secrets (tokens, keys) kept in the platform's secure
//! storage. Real stores: the desktop keyring (feature `keyring`), Keystore / Keychain in the
//! phone shells; [`MemorySecretStore`] for tests and short-lived processes.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::secret::SecretString;

/// Secure storage for named secrets. Keys are plain, stable names (for example
/// `unbox.auth.tokens`); values are secrets and never appear in logs or errors.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Reads the secret stored under `key`, or `None` when nothing is stored there.
    async fn get(&self, key: &str) -> Result<Option<SecretString>, SecretStoreError>;
    /// Stores `value` under `key`, replacing any previous value.
    async fn put(&self, key: &str, value: SecretString) -> Result<(), SecretStoreError>;
    /// Removes the secret under `key`; removing a missing key succeeds.
    async fn delete(&self, key: &str) -> Result<(), SecretStoreError>;
}

/// Why the secure storage could not be used. Never carries a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretStoreError {
    /// The storage service is missing, locked or refused access.
    #[error(
        "the secure storage is not available ({reason}); unlock the keychain/keyring or start its service, then retry"
    )]
    Unavailable {
        /// What the platform said.
        reason: String,
    },
    /// The storage refused or failed the operation on `key`.
    #[error(
        "the secure storage could not handle `{key}` ({reason}); retry, or clear the entry and sign in again"
    )]
    Failed {
        /// The entry concerned.
        key: String,
        /// What the platform said.
        reason: String,
    },
}

impl SecretStoreError {
    /// Whether trying again later may succeed (a locked or starting store).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// Secrets held in process memory only: gone when the process ends. For tests, simulators and
/// platforms without secure storage.
#[derive(Default)]
pub struct MemorySecretStore {
    entries: Mutex<HashMap<String, SecretString>>,
}

impl MemorySecretStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, SecretString>> {
        // A panic while holding the lock cannot leave the map half-updated, so a poisoned lock
        // is still safe to use.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for MemorySecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<String> = self.entries().keys().cloned().collect();
        keys.sort();
        f.debug_struct("MemorySecretStore").field("keys", &keys).finish()
    }
}

#[async_trait]
impl SecretStore for MemorySecretStore {
    async fn get(&self, key: &str) -> Result<Option<SecretString>, SecretStoreError> {
        Ok(self.entries().get(key).cloned())
    }

    async fn put(&self, key: &str, value: SecretString) -> Result<(), SecretStoreError> {
        self.entries().insert(key.to_owned(), value);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        self.entries().remove(key);
        Ok(())
    }
}

/// The desktop keyring: macOS Keychain, Windows Credential Manager, or the freedesktop Secret
/// Service (GNOME Keyring, KWallet) on Linux and BSD.
#[cfg(feature = "keyring")]
#[derive(Debug, Clone)]
pub struct KeyringSecretStore {
    service: String,
}

#[cfg(feature = "keyring")]
impl KeyringSecretStore {
    /// A store whose entries are filed under `service` (for example `"unbox"`); each key becomes
    /// the entry's user name.
    pub fn new(service: impl Into<String>) -> Self {
        Self { service: service.into() }
    }

    async fn run<T: Send + 'static>(
        &self,
        key: &str,
        operation: impl FnOnce(keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T, SecretStoreError> {
        let service = self.service.clone();
        let owned_key = key.to_owned();
        // Keyring calls block on IPC with the platform's credential service.
        let outcome = tokio::task::spawn_blocking(move || {
            keyring::Entry::new(&service, &owned_key).and_then(operation)
        })
        .await
        .map_err(|join| SecretStoreError::Failed { key: key.to_owned(), reason: join.to_string() })?;
        outcome.map_err(|error| keyring_error(key, &error))
    }
}

/// Maps a keyring error by its `Display` text only: its `Debug` form may carry secret bytes.
#[cfg(feature = "keyring")]
fn keyring_error(key: &str, error: &keyring::Error) -> SecretStoreError {
    match error {
        keyring::Error::NoStorageAccess(_) | keyring::Error::NoDefaultStore => {
            SecretStoreError::Unavailable { reason: error.to_string() }
        }
        _ => SecretStoreError::Failed { key: key.to_owned(), reason: error.to_string() },
    }
}

#[cfg(feature = "keyring")]
#[async_trait]
impl SecretStore for KeyringSecretStore {
    async fn get(&self, key: &str) -> Result<Option<SecretString>, SecretStoreError> {
        self.run(key, |entry| match entry.get_password() {
            Ok(value) => Ok(Some(SecretString::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(other) => Err(other),
        })
        .await
    }

    async fn put(&self, key: &str, value: SecretString) -> Result<(), SecretStoreError> {
        self.run(key, move |entry| entry.set_password(value.expose())).await
    }

    async fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        self.run(key, |entry| match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(other) => Err(other),
        })
        .await
    }
}

#[cfg(all(test, feature = "keyring"))]
mod keyring_tests {
    use super::*;

    #[test]
    fn keyring_errors_map_by_meaning_without_secret_bytes() {
        let locked = keyring_error("k", &keyring::Error::NoDefaultStore);
        assert!(locked.is_retryable());
        let bad = keyring_error("k", &keyring::Error::BadEncoding(b"secret-bytes".to_vec()));
        assert!(matches!(&bad, SecretStoreError::Failed { key, .. } if key == "k"));
        assert!(!format!("{bad:?}").contains("secret-bytes"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_round_trips_and_deletes() {
        let store = MemorySecretStore::new();
        assert_eq!(store.get("a").await, Ok(None));
        store.put("a", SecretString::new("one")).await.unwrap();
        store.put("a", SecretString::new("two")).await.unwrap();
        assert_eq!(store.get("a").await.unwrap().unwrap().expose(), "two");
        store.delete("a").await.unwrap();
        store.delete("a").await.unwrap();
        assert_eq!(store.get("a").await, Ok(None));
    }

    #[tokio::test]
    async fn memory_store_debug_lists_keys_not_values() {
        let store = MemorySecretStore::new();
        store.put("tokens", SecretString::new("very-secret-value")).await.unwrap();
        let shown = format!("{store:?}");
        assert!(shown.contains("tokens"));
        assert!(!shown.contains("very-secret-value"));
    }
}
