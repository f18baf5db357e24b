//! The secret-store seam: small named secrets (tokens, keys) kept in the platform's secure
//! storage. Real stores: the desktop keyring (feature `keyring`), Keystore / Keychain in the
//! phone shells; [`MemorySecretStore`] for tests and short-lived processes.

use std::collections::HashMap;
#[cfg(feature = "keyring")]
use std::sync::Arc;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::UserAction;
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

    /// What the app should offer: try again (after unlocking the store, when it is locked).
    pub fn user_action(&self) -> UserAction {
        UserAction::Retry
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
        operation: impl FnOnce(keyring_core::Entry) -> keyring_core::Result<T> + Send + 'static,
    ) -> Result<T, SecretStoreError> {
        let service = self.service.clone();
        let owned_key = key.to_owned();
        // Keyring calls block on IPC with the platform's credential service.
        tokio::task::spawn_blocking(move || {
            let store = platform_store()?;
            store
                .build(&service, &owned_key, None)
                .and_then(operation)
                .map_err(|error| keyring_error(&owned_key, &error))
        })
        .await
        .map_err(|join| SecretStoreError::Failed { key: key.to_owned(), reason: join.to_string() })?
    }
}

/// The platform's credential store, opened on first use (that connects to the Secret Service,
/// the Keychain or the Credential Manager) and kept for the process; a failure to open it is
/// not kept, so a keyring started later is found.
#[cfg(feature = "keyring")]
fn platform_store() -> Result<Arc<keyring_core::CredentialStore>, SecretStoreError> {
    static OPENED: Mutex<Option<Arc<keyring_core::CredentialStore>>> = Mutex::new(None);
    let mut opened = OPENED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(store) = opened.as_ref() {
        return Ok(Arc::clone(store));
    }
    let store =
        open_platform_store().map_err(|error| SecretStoreError::Unavailable { reason: error.to_string() })?;
    *opened = Some(Arc::clone(&store));
    Ok(store)
}

#[cfg(all(feature = "keyring", target_os = "macos"))]
fn open_platform_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(all(feature = "keyring", target_os = "windows"))]
fn open_platform_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(all(
    feature = "keyring",
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn open_platform_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    Ok(dbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(all(
    feature = "keyring",
    not(any(target_os = "windows", all(unix, not(any(target_os = "ios", target_os = "android")))))
))]
fn open_platform_store() -> keyring_core::Result<Arc<keyring_core::CredentialStore>> {
    Err(keyring_core::Error::NotSupportedByStore("there is no desktop keyring on this platform".to_owned()))
}

/// Maps a keyring error by its `Display` text only: its `Debug` form may carry secret bytes.
#[cfg(feature = "keyring")]
fn keyring_error(key: &str, error: &keyring_core::Error) -> SecretStoreError {
    match error {
        keyring_core::Error::NoStorageAccess(_) | keyring_core::Error::NoDefaultStore => {
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
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(other) => Err(other),
        })
        .await
    }

    async fn put(&self, key: &str, value: SecretString) -> Result<(), SecretStoreError> {
        self.run(key, move |entry| entry.set_password(value.expose())).await
    }

    async fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        self.run(key, |entry| match entry.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
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
        let locked = keyring_error("k", &keyring_core::Error::NoDefaultStore);
        assert!(locked.is_retryable());
        let bad = keyring_error("k", &keyring_core::Error::BadEncoding(b"secret-bytes".to_vec()));
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

/// Secrets in a JSON file readable only by the user (mode 0600 on Unix): the desktop fallback
/// where no keyring service runs (servers, CI), and a small state file for pending claims.
#[derive(Debug)]
pub struct FileSecretStore {
    path: std::path::PathBuf,
    lock: tokio::sync::Mutex<()>,
}

impl FileSecretStore {
    /// A store kept in `path` (created on first write, with its parent directories).
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self { path: path.into(), lock: tokio::sync::Mutex::new(()) }
    }

    fn failed(&self, key: &str, error: impl std::fmt::Display) -> SecretStoreError {
        SecretStoreError::Failed { key: key.to_owned(), reason: format!("{}: {error}", self.path.display()) }
    }

    async fn load(&self, key: &str) -> Result<HashMap<String, String>, SecretStoreError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => {
                let bytes = zeroize::Zeroizing::new(bytes);
                serde_json::from_slice(&bytes).map_err(|e| self.failed(key, e))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
            Err(error) => Err(self.failed(key, error)),
        }
    }

    async fn save(&self, key: &str, entries: &HashMap<String, String>) -> Result<(), SecretStoreError> {
        if let Some(parent) = self.path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(|e| self.failed(key, e))?;
        }
        let bytes = zeroize::Zeroizing::new(serde_json::to_vec(entries).map_err(|e| self.failed(key, e))?);
        let temporary = self.path.with_extension("tmp");
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&temporary).await.map_err(|e| self.failed(key, e))?;
        tokio::io::AsyncWriteExt::write_all(&mut file, &bytes).await.map_err(|e| self.failed(key, e))?;
        file.sync_all().await.map_err(|e| self.failed(key, e))?;
        tokio::fs::rename(&temporary, &self.path).await.map_err(|e| self.failed(key, e))
    }
}

#[async_trait]
impl SecretStore for FileSecretStore {
    async fn get(&self, key: &str) -> Result<Option<SecretString>, SecretStoreError> {
        let _guard = self.lock.lock().await;
        let mut entries = self.load(key).await?;
        Ok(entries.remove(key).map(SecretString::new))
    }

    async fn put(&self, key: &str, value: SecretString) -> Result<(), SecretStoreError> {
        let _guard = self.lock.lock().await;
        let mut entries = self.load(key).await?;
        entries.insert(key.to_owned(), value.expose().to_owned());
        self.save(key, &entries).await
    }

    async fn delete(&self, key: &str) -> Result<(), SecretStoreError> {
        let _guard = self.lock.lock().await;
        let mut entries = self.load(key).await?;
        if entries.remove(key).is_some() {
            self.save(key, &entries).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod file_store_tests {
    use super::*;

    #[tokio::test]
    async fn keeps_secrets_across_instances_in_a_private_file() {
        let dir = std::env::temp_dir().join(format!("unbox-store-{}", uuid::Uuid::new_v4()));
        let path = dir.join("secrets.json");
        let store = FileSecretStore::new(&path);
        assert_eq!(store.get("a").await.unwrap(), None);
        store.put("a", SecretString::new("one")).await.unwrap();
        store.put("b", SecretString::new("two")).await.unwrap();
        let again = FileSecretStore::new(&path);
        assert_eq!(again.get("a").await.unwrap().unwrap().expose(), "one");
        again.delete("a").await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), None);
        assert_eq!(store.get("b").await.unwrap().unwrap().expose(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_corrupt_file_is_a_typed_error() {
        let dir = std::env::temp_dir().join(format!("unbox-store-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secrets.json");
        std::fs::write(&path, b"not json").unwrap();
        let error = FileSecretStore::new(&path).get("a").await.unwrap_err();
        assert!(matches!(error, SecretStoreError::Failed { .. }), "{error:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
