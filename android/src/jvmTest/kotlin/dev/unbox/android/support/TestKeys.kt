package dev.unbox.android.support

import dev.unbox.android.storage.SecretKeySource
import javax.crypto.SecretKey
import javax.crypto.spec.SecretKeySpec

/** Fixed AES-256 keys standing in for the Keystore: [discard] moves on to the next one. */
class TestKeys(private val keys: List<SecretKey> = listOf(aes(1), aes(2), aes(3))) : SecretKeySource {
    @Volatile var discards = 0

    override fun key(): SecretKey = keys[discards.coerceAtMost(keys.size - 1)]

    override fun discard() {
        discards += 1
    }

    companion object {
        /** A fixed AES-256 key whose bytes all equal [seed]. */
        fun aes(seed: Int): SecretKey = SecretKeySpec(ByteArray(32) { seed.toByte() }, "AES")
    }
}
