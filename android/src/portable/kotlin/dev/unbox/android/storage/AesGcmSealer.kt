package dev.unbox.android.storage

import java.security.GeneralSecurityException
import java.security.InvalidKeyException
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** Where the sealing key comes from (the Android Keystore on a phone, any AES key in tests). */
interface SecretKeySource {
    /** The current key, created on first use. */
    fun key(): SecretKey

    /** Forgets the current key because it can no longer be used; the next [key] makes a new one. */
    fun discard()

    /**
     * Whether [refusal] only means the key cannot be used right now (the phone is locked, for a
     * key that needs an unlocked device): the key and the secrets under it are then kept.
     */
    fun lockedOut(refusal: InvalidKeyException): Boolean = false
}

/** The key exists but cannot be used until the person unlocks the phone. */
class DeviceLockedException(cause: Throwable) :
    GeneralSecurityException("the phone is locked; unlock it and try again", cause)

/**
 * Seals secrets with AES-256-GCM under a key from [keys]. Each blob is bound to the name it is
 * stored under (the name is the associated data), so a blob copied to another entry does not open.
 * The cipher picks a fresh random IV for every seal (the Keystore insists on it).
 */
class AesGcmSealer(private val keys: SecretKeySource) {
    /**
     * Seals [plaintext] for the entry [name]. A key the platform rejects as invalid (a Keystore key
     * invalidated by a lock-screen change) is discarded and the seal retried once with a new key.
     */
    fun seal(name: String, plaintext: ByteArray): SecretBlob {
        val cipher = try {
            encryptingCipher(keys.key())
        } catch (invalid: InvalidKeyException) {
            if (keys.lockedOut(invalid)) throw DeviceLockedException(invalid)
            keys.discard()
            encryptingCipher(keys.key())
        }
        cipher.updateAAD(associatedData(name))
        return SecretBlob(cipher.iv, cipher.doFinal(plaintext))
    }

    /**
     * Opens the blob stored under [name]. Throws [UnreadableSecretException] when it was not sealed
     * for that name under the current key; an invalidated key is discarded on the way.
     */
    fun open(name: String, blob: SecretBlob): ByteArray {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        try {
            cipher.init(Cipher.DECRYPT_MODE, keys.key(), GCMParameterSpec(SecretBlob.TAG_LENGTH * 8, blob.iv))
        } catch (invalid: InvalidKeyException) {
            if (keys.lockedOut(invalid)) throw DeviceLockedException(invalid)
            keys.discard()
            throw UnreadableSecretException("the key that sealed this secret is no longer usable", invalid)
        }
        cipher.updateAAD(associatedData(name))
        return try {
            cipher.doFinal(blob.ciphertext)
        } catch (badTag: AEADBadTagException) {
            throw UnreadableSecretException("the stored secret does not authenticate under the current key", badTag)
        } catch (failure: GeneralSecurityException) {
            throw UnreadableSecretException("the stored secret cannot be decrypted: ${failure.javaClass.simpleName}", failure)
        }
    }

    private fun encryptingCipher(key: SecretKey): Cipher =
        Cipher.getInstance(TRANSFORMATION).apply { init(Cipher.ENCRYPT_MODE, key) }

    private fun associatedData(name: String): ByteArray = (AAD_PREFIX + name).toByteArray(Charsets.UTF_8)

    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val AAD_PREFIX = "dev.unbox.secret.v1:"
    }
}
