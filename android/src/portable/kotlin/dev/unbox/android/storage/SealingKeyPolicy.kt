package dev.unbox.android.storage

/**
 * What the Keystore key that seals the library's secrets requires, by API level: AES-256 for
 * GCM, and from API 28 an unlocked phone (`setUnlockedDeviceRequired`), so tokens and pending
 * claims cannot be read from a stolen, locked phone. A locked phone makes the store answer
 * "unlock it and try again" ([DeviceLockedException]); the secrets are kept.
 */
data class SealingKeyPolicy(
    /** Key size in bits. */
    val keySize: Int,
    /** Whether the key works only while the phone is unlocked. */
    val unlockedDeviceRequired: Boolean,
) {
    /** The policy per API level. */
    companion object {
        /** API level that added `setUnlockedDeviceRequired` (Android 9). */
        const val UNLOCKED_DEVICE_REQUIRED_SINCE = 28

        /** The policy on a phone running API level [sdkInt]. */
        fun forSdk(sdkInt: Int) = SealingKeyPolicy(
            keySize = 256,
            unlockedDeviceRequired = sdkInt >= UNLOCKED_DEVICE_REQUIRED_SINCE,
        )
    }
}

/**
 * The backup rules the library ships (`res/xml/unbox_backup_rules.xml` for API 23-30's
 * `fullBackupContent`, `res/xml/unbox_data_extraction_rules.xml` for API 31's
 * `dataExtractionRules`): the sealed secrets' preferences file never leaves the phone, because
 * its Keystore key cannot leave it either (restored elsewhere, the blobs would not open).
 */
object BackupRules {
    /** The SharedPreferences file the rules exclude, as the rules name it. */
    const val EXCLUDED_FILE = "${KeystoreFiles.PREFERENCES}.xml"
}

/** The names of the secret store's files and keys on a phone. */
object KeystoreFiles {
    /** The default SharedPreferences file (`shared_prefs/dev.unbox.secrets.xml`). */
    const val PREFERENCES = "dev.unbox.secrets"

    /** The default Keystore alias of the sealing key. */
    const val KEY_ALIAS = "dev.unbox.secrets.v1"
}
