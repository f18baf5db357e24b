package dev.unbox.android.storage

import dev.unbox.SecretStore
import dev.unbox.SecretStoreException
import java.io.IOException
import java.security.GeneralSecurityException
import java.security.ProviderException
import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/** Durable storage of named blobs (SharedPreferences on a phone). Implementations are thread-safe. */
interface BlobBackend {
    /** The blob stored under [name], or null. Throws [IOException] when the storage fails. */
    fun read(name: String): ByteArray?

    /** Stores [blob] under [name] durably. Throws [IOException] when the storage fails. */
    fun write(name: String, blob: ByteArray)

    /** Removes [name]; removing a missing name succeeds. Throws [IOException] when the storage fails. */
    fun remove(name: String)
}

/**
 * The library's [SecretStore] over a [BlobBackend], every value sealed by [sealer].
 *
 * A stored value that cannot be opened (damaged, or sealed under a key that is gone: the Keystore
 * key was invalidated, or app data was restored on another device) is treated as absent: it is
 * removed, [onUnreadable] is told the entry's name, and `get` returns null. The library then acts
 * as if it had never been stored (the person signs in again; a pending claim is forgotten).
 * Storage and keystore failures are thrown as [SecretStoreException].
 */
class SealedSecretStore(
    private val sealer: AesGcmSealer,
    private val backend: BlobBackend,
    private val onUnreadable: (name: String) -> Unit = {},
    private val io: CoroutineContext = Dispatchers.IO,
) : SecretStore {
    override suspend fun get(key: String): String? = withContext(io) {
        val stored = guarded(key) { backend.read(key) } ?: return@withContext null
        try {
            val plaintext = guarded(key) { sealer.open(key, SecretBlob.decode(stored)) }
            String(plaintext, Charsets.UTF_8).also { plaintext.fill(0) }
        } catch (unreadable: UnreadableSecretException) {
            guarded(key) { backend.remove(key) }
            onUnreadable(key)
            null
        }
    }

    override suspend fun put(key: String, value: String) = withContext(io) {
        val plaintext = value.toByteArray(Charsets.UTF_8)
        try {
            val blob = guarded(key) { sealer.seal(key, plaintext) }
            guarded(key) { backend.write(key, blob.encode()) }
        } finally {
            plaintext.fill(0)
        }
    }

    override suspend fun delete(key: String) = withContext(io) {
        guarded(key) { backend.remove(key) }
    }

    /** Runs [block], turning storage and keystore failures into the library's typed errors. */
    private inline fun <T> guarded(key: String, block: () -> T): T =
        try {
            block()
        } catch (failure: IOException) {
            throw SecretStoreException.Failed(key, "the app's storage failed: ${failure.message}")
        } catch (failure: GeneralSecurityException) {
            throw SecretStoreException.Unavailable("the keystore refused: ${failure.javaClass.simpleName} ${failure.message}")
        } catch (failure: ProviderException) {
            // The Android Keystore reports a locked or failing keystore this way (unchecked).
            throw SecretStoreException.Unavailable("the keystore is unavailable: ${failure.message}")
        }
}
