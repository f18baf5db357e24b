package dev.unbox.android.storage

import android.annotation.TargetApi
import android.content.Context
import android.content.SharedPreferences
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import android.util.Base64
import dev.unbox.SecretStore
import java.io.IOException
import java.security.InvalidKeyException
import java.security.KeyStore
import java.security.UnrecoverableKeyException
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

/**
 * The library's [SecretStore] on Android: each value is sealed with AES-256-GCM under a key that
 * never leaves the Android Keystore, and the sealed blob (`version | IV | ciphertext`, Base64) is
 * kept in a private SharedPreferences file.
 *
 * A blob that cannot be opened any more is treated as absent and removed (see
 * [SealedSecretStore]): this happens when the Keystore key is gone or invalidated, or when the
 * preferences were restored from a backup onto another device, whose Keystore has no such key.
 * The library's manifest excludes the preferences file from backups ([BackupRules]); the key
 * follows [SealingKeyPolicy] (an unlocked phone from API 28).
 */
object KeystoreSecretStore {
    /** The default SharedPreferences file (`shared_prefs/dev.unbox.secrets.xml`). */
    const val DEFAULT_PREFERENCES = KeystoreFiles.PREFERENCES

    /** The default Keystore alias of the sealing key. */
    const val DEFAULT_KEY_ALIAS = KeystoreFiles.KEY_ALIAS

    /**
     * A store in [preferencesName] sealed under the Keystore key [keyAlias] (created on first use).
     * [onUnreadable] is told the name of each entry dropped because it could not be opened.
     */
    fun create(
        context: Context,
        preferencesName: String = DEFAULT_PREFERENCES,
        keyAlias: String = DEFAULT_KEY_ALIAS,
        onUnreadable: (name: String) -> Unit = {},
    ): SecretStore {
        val preferences = context.applicationContext.getSharedPreferences(preferencesName, Context.MODE_PRIVATE)
        return SealedSecretStore(AesGcmSealer(AndroidKeystoreKey(keyAlias)), PreferencesBackend(preferences), onUnreadable)
    }
}

/** An AES-256 key for GCM held by the Android Keystore under [alias]. */
internal class AndroidKeystoreKey(private val alias: String) : SecretKeySource {
    private var cached: SecretKey? = null

    @Synchronized
    override fun key(): SecretKey = cached ?: (stored() ?: generate()).also { cached = it }

    @Synchronized
    override fun discard() {
        cached = null
        keyStore().deleteEntry(alias)
    }

    private fun stored(): SecretKey? =
        try {
            keyStore().getKey(alias, null) as? SecretKey
        } catch (lost: UnrecoverableKeyException) {
            keyStore().deleteEntry(alias)
            null
        }

    override fun lockedOut(refusal: InvalidKeyException): Boolean = refusal is UserNotAuthenticatedException

    // Newer calls only behind the SDK_INT check below (animal-sniffer exempts this method).
    @TargetApi(Build.VERSION_CODES.P)
    private fun generate(): SecretKey {
        val policy = SealingKeyPolicy.forSdk(Build.VERSION.SDK_INT)
        val builder = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(policy.keySize)
        if (policy.unlockedDeviceRequired && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
            builder.setUnlockedDeviceRequired(true)
        }
        val spec = builder.build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, KEYSTORE).run {
            init(spec)
            generateKey()
        }
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(KEYSTORE).apply { load(null) }

    private companion object {
        const val KEYSTORE = "AndroidKeyStore"
    }
}

/** Blobs as Base64 strings in [preferences], written with `commit()` so a put is durable when it returns. */
internal class PreferencesBackend(private val preferences: SharedPreferences) : BlobBackend {
    override fun read(name: String): ByteArray? {
        val text = preferences.getString(name, null) ?: return null
        return try {
            Base64.decode(text, Base64.NO_WRAP)
        } catch (notBase64: IllegalArgumentException) {
            // Not written by this store: an empty blob, which does not decode and is dropped.
            ByteArray(0)
        }
    }

    override fun write(name: String, blob: ByteArray) {
        if (!preferences.edit().putString(name, Base64.encodeToString(blob, Base64.NO_WRAP)).commit()) {
            throw IOException("the preferences file could not be written")
        }
    }

    override fun remove(name: String) {
        if (!preferences.edit().remove(name).commit()) throw IOException("the preferences file could not be written")
    }
}
