package dev.unbox.android.storage

/** A stored secret that cannot be opened: damaged, from another format, or sealed with a key
 *  that is gone (the Keystore key was invalidated, or the data was restored on another device). */
class UnreadableSecretException(reason: String, cause: Throwable? = null) : Exception(reason, cause)

/**
 * The stored form of one sealed secret: `version (1 byte) | IV (12 bytes) | ciphertext`, where
 * the ciphertext is AES-GCM output with its 16-byte tag at the end.
 */
class SecretBlob(val iv: ByteArray, val ciphertext: ByteArray) {
    init {
        require(iv.size == IV_LENGTH) { "an AES-GCM IV is $IV_LENGTH bytes, not ${iv.size}" }
        require(ciphertext.size >= TAG_LENGTH) { "an AES-GCM ciphertext carries a $TAG_LENGTH-byte tag" }
    }

    /** The bytes to store. */
    fun encode(): ByteArray = byteArrayOf(VERSION) + iv + ciphertext

    /** The format's constants and its decoder. */
    companion object {
        /** The only format version written. */
        const val VERSION: Byte = 1

        /** Length of the GCM IV (nonce). */
        const val IV_LENGTH = 12

        /** Length of the GCM authentication tag. */
        const val TAG_LENGTH = 16

        /** Reads stored bytes; throws [UnreadableSecretException] when they are not a version-1 blob. */
        fun decode(bytes: ByteArray): SecretBlob {
            if (bytes.isEmpty()) throw UnreadableSecretException("the stored secret is empty")
            if (bytes[0] != VERSION) {
                throw UnreadableSecretException("the stored secret has format version ${bytes[0]}, expected $VERSION")
            }
            if (bytes.size < 1 + IV_LENGTH + TAG_LENGTH) {
                throw UnreadableSecretException("the stored secret is truncated (${bytes.size} bytes)")
            }
            return SecretBlob(bytes.copyOfRange(1, 1 + IV_LENGTH), bytes.copyOfRange(1 + IV_LENGTH, bytes.size))
        }
    }
}
