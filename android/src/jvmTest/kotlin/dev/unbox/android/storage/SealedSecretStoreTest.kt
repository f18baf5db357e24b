package dev.unbox.android.storage

import dev.unbox.SecretStoreException
import dev.unbox.android.auth.AuthorizationBroker
import dev.unbox.android.support.BrokeredBrowser
import dev.unbox.android.support.MemoryBackend
import dev.unbox.android.support.SimulatorWorld
import dev.unbox.android.support.TestKeys
import dev.unbox.discoverAuthSession
import java.util.Collections
import javax.crypto.SecretKey
import javax.crypto.spec.SecretKeySpec
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The sealed secret store: blob format, AES-GCM sealing, unreadable entries, storage failures. */
class SealedSecretStoreTest {
    private val backend = MemoryBackend()
    private val keys = TestKeys()
    private val dropped: MutableList<String> = Collections.synchronizedList(mutableListOf())
    private val store = SealedSecretStore(AesGcmSealer(keys), backend, onUnreadable = { dropped.add(it) })

    @Test
    fun `a stored secret reads back and is gone once deleted`(): Unit = runBlocking {
        assertNull(store.get("tokens"))
        store.put("tokens", "refresh-token-ü")
        assertEquals("refresh-token-ü", store.get("tokens"))
        store.put("tokens", "newer")
        assertEquals("newer", store.get("tokens"))
        store.delete("tokens")
        assertNull(store.get("tokens"))
        store.delete("tokens")
        assertTrue(dropped.isEmpty())
    }

    @Test
    fun `the blob is version, IV and ciphertext with tag, and never the plaintext`(): Unit = runBlocking {
        store.put("a", "correct horse battery")
        store.put("b", "correct horse battery")
        val a = backend.blobs.getValue("a")
        val b = backend.blobs.getValue("b")
        assertEquals(SecretBlob.VERSION, a[0])
        assertEquals(1 + SecretBlob.IV_LENGTH + "correct horse battery".length + SecretBlob.TAG_LENGTH, a.size)
        assertFalse(String(a, Charsets.ISO_8859_1).contains("horse"))
        assertFalse(a.copyOfRange(1, 13).contentEquals(b.copyOfRange(1, 13)), "every seal draws a fresh IV")
        val decoded = SecretBlob.decode(a)
        assertArrayEquals(a, decoded.encode())
    }

    @Test
    fun `malformed blobs are typed errors of the codec`() {
        assertThrows(UnreadableSecretException::class.java) { SecretBlob.decode(ByteArray(0)) }
        assertThrows(UnreadableSecretException::class.java) { SecretBlob.decode(byteArrayOf(2) + ByteArray(40)) }
        assertThrows(UnreadableSecretException::class.java) { SecretBlob.decode(byteArrayOf(1) + ByteArray(27)) }
        assertEquals(0, SecretBlob.decode(byteArrayOf(1) + ByteArray(28)).ciphertext.size - SecretBlob.TAG_LENGTH)
    }

    @Test
    fun `a blob that does not open is treated as absent, removed and reported`(): Unit = runBlocking {
        store.put("moved", "secret")
        backend.blobs["elsewhere"] = backend.blobs.getValue("moved") // bound to its name
        store.put("tampered", "secret")
        backend.blobs.getValue("tampered")[20] = (backend.blobs.getValue("tampered")[20] + 1).toByte()
        backend.blobs["future"] = byteArrayOf(9) + ByteArray(40)
        backend.blobs["short"] = byteArrayOf(1, 2, 3)

        for (name in listOf("elsewhere", "tampered", "future", "short")) assertNull(store.get(name), name)

        assertEquals(listOf("elsewhere", "tampered", "future", "short"), dropped)
        assertEquals(setOf("moved"), backend.blobs.keys)
        assertEquals("secret", store.get("moved"))
    }

    @Test
    fun `secrets sealed under a lost key read as absent`(): Unit = runBlocking {
        store.put("tokens", "secret")
        keys.discard() // the Keystore key was deleted and a new one made
        assertNull(store.get("tokens"))
        assertEquals(listOf("tokens"), dropped)
        store.put("tokens", "fresh")
        assertEquals("fresh", store.get("tokens"))
    }

    @Test
    fun `an invalidated key is discarded, then sealing retries once with a new key`(): Unit = runBlocking {
        val invalidated = TestKeys(listOf(notAnAesKey(), TestKeys.aes(7)))
        val sealed = SealedSecretStore(AesGcmSealer(invalidated), backend)
        sealed.put("tokens", "secret")
        assertEquals(1, invalidated.discards)
        assertEquals("secret", sealed.get("tokens"))
    }

    @Test
    fun `an invalidated key found when opening is discarded and the entry dropped`(): Unit = runBlocking {
        store.put("tokens", "secret")
        val invalidated = TestKeys(listOf(notAnAesKey(), TestKeys.aes(7)))
        val reopened = SealedSecretStore(AesGcmSealer(invalidated), backend, onUnreadable = { dropped.add(it) })
        assertNull(reopened.get("tokens"))
        assertEquals(1, invalidated.discards)
        assertEquals(listOf("tokens"), dropped)
    }

    @Test
    fun `a failing storage is a typed error naming the entry, never the value`(): Unit = runBlocking {
        backend.failing = true
        val error = assertThrows(SecretStoreException.Failed::class.java) { runBlocking { store.put("tokens", "hunter2") } }
        assertEquals("tokens", error.key)
        assertFalse(error.message!!.contains("hunter2"))
        assertThrows(SecretStoreException.Failed::class.java) { runBlocking { store.get("tokens") } }
        assertThrows(SecretStoreException.Failed::class.java) { runBlocking { store.delete("tokens") } }
    }

    @Test
    fun `the library keeps its sign-in in the sealed store, and a lost key signs the person out`(): Unit = runBlocking {
        val session = discoverAuthSession(SimulatorWorld.authConfig(), BrokeredBrowser(AuthorizationBroker()), store)
        session.signIn()
        assertTrue(session.isSignedIn())
        assertTrue(backend.blobs.isNotEmpty())
        assertTrue(backend.blobs.values.all { it[0] == SecretBlob.VERSION })

        val sameKey = SealedSecretStore(AesGcmSealer(TestKeys()), backend)
        assertTrue(discoverAuthSession(SimulatorWorld.authConfig(), BrokeredBrowser(AuthorizationBroker()), sameKey).isSignedIn())

        val otherKey = SealedSecretStore(AesGcmSealer(TestKeys(listOf(TestKeys.aes(9)))), backend)
        assertFalse(discoverAuthSession(SimulatorWorld.authConfig(), BrokeredBrowser(AuthorizationBroker()), otherKey).isSignedIn())
    }

    /** A key the AES cipher refuses with InvalidKeyException, as a Keystore key after invalidation. */
    private fun notAnAesKey(): SecretKey = SecretKeySpec(ByteArray(8), "DES")
}
