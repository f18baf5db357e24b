package dev.unbox.android.storage

import android.content.Context
import android.os.Build
import android.security.keystore.KeyProperties
import android.util.Base64
import dev.unbox.android.robolectric.LibraryManifest
import dev.unbox.android.robolectric.ShellTestRunner
import dev.unbox.android.robolectric.TestKeystoreProvider
import java.io.File
import javax.xml.parsers.DocumentBuilderFactory
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RuntimeEnvironment
import org.w3c.dom.Element

/**
 * [KeystoreSecretStore] on Robolectric's SharedPreferences with [TestKeystoreProvider] in place of
 * the Android Keystore: the key it asks for at each API level, the blob it writes, what an
 * invalidated or missing key does, and that the file is kept out of backups.
 */
@RunWith(ShellTestRunner::class)
class KeystoreSecretStoreTest {
    private val app = RuntimeEnvironment.getApplication()
    private val dropped = mutableListOf<String>()
    private val preferences = app.getSharedPreferences(KeystoreSecretStore.DEFAULT_PREFERENCES, Context.MODE_PRIVATE)

    @Before
    fun freshKeystore() = TestKeystoreProvider.install()

    private fun store() = KeystoreSecretStore.create(app, onUnreadable = { dropped += it })

    @Test
    fun `the key is a 256-bit GCM Keystore key, needing an unlocked phone from API 28`(): Unit = runBlocking {
        store().put("refresh_token", "r-123")

        val spec = TestKeystoreProvider.specs.single()
        assertEquals(KeystoreSecretStore.DEFAULT_KEY_ALIAS, spec.keystoreAlias)
        assertEquals(256, spec.keySize)
        assertEquals(KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT, spec.purposes)
        assertArrayEquals(arrayOf(KeyProperties.BLOCK_MODE_GCM), spec.blockModes)
        assertArrayEquals(arrayOf(KeyProperties.ENCRYPTION_PADDING_NONE), spec.encryptionPaddings)
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) assertTrue(spec.isUnlockedDeviceRequired)

        store().put("access_token", "a-456")
        assertEquals("one key for all entries, made once", 1, TestKeystoreProvider.specs.size)
    }

    @Test
    fun `a secret is kept as Base64 of version, IV and ciphertext, and reads back`(): Unit = runBlocking {
        val secret = "refresh-token-0123456789"
        store().put("refresh_token", secret)

        val blob = Base64.decode(preferences.getString("refresh_token", null), Base64.NO_WRAP)
        assertEquals(SecretBlob.VERSION, blob[0])
        assertEquals(1 + SecretBlob.IV_LENGTH + secret.length + SecretBlob.TAG_LENGTH, blob.size)
        assertFalse("never the plaintext", String(blob, Charsets.ISO_8859_1).contains(secret))
        assertEquals(secret, store().get("refresh_token"))

        store().delete("refresh_token")
        assertNull(store().get("refresh_token"))
        assertFalse(preferences.contains("refresh_token"))
    }

    @Test
    fun `an invalidated key drops what it sealed, and the next secret gets a new key`(): Unit = runBlocking {
        store().put("refresh_token", "r-123")
        TestKeystoreProvider.invalidate(KeystoreSecretStore.DEFAULT_KEY_ALIAS)

        val fresh = store()
        assertNull(fresh.get("refresh_token"))
        assertEquals(listOf("refresh_token"), dropped)
        assertFalse(preferences.contains("refresh_token"))

        fresh.put("refresh_token", "r-456")
        assertEquals("r-456", store().get("refresh_token"))
        assertEquals("a second key was generated", 2, TestKeystoreProvider.specs.size)
    }

    @Test
    fun `secrets restored onto a phone without their key read as absent`(): Unit = runBlocking {
        store().put("refresh_token", "r-123")
        TestKeystoreProvider.install() // another phone: the preferences came along, the key did not

        assertNull(store().get("refresh_token"))
        assertEquals(listOf("refresh_token"), dropped)
    }

    @Test
    fun `the secrets file is what the manifest's backup and transfer rules exclude`(): Unit = runBlocking {
        store().put("refresh_token", "r-123")
        val file = "${KeystoreSecretStore.DEFAULT_PREFERENCES}.xml"
        assertTrue("the store writes shared_prefs/$file", File(app.dataDir, "shared_prefs/$file").exists())

        assertEquals("@xml/unbox_backup_rules", LibraryManifest.applicationAttribute("fullBackupContent"))
        assertEquals("@xml/unbox_data_extraction_rules", LibraryManifest.applicationAttribute("dataExtractionRules"))
        val backup = rules("unbox_backup_rules")
        assertEquals(listOf("sharedpref" to file), excluded(backup))
        val extraction = rules("unbox_data_extraction_rules")
        for (section in listOf("cloud-backup", "device-transfer")) {
            assertEquals(section, listOf("sharedpref" to file), excluded(extraction.getElementsByTagName(section).item(0) as Element))
        }
    }

    private fun rules(name: String): Element =
        DocumentBuilderFactory.newInstance().newDocumentBuilder()
            .parse(File(LibraryManifest.shellDir, "src/main/res/xml/$name.xml")).documentElement

    private fun excluded(scope: Element): List<Pair<String, String>> =
        scope.getElementsByTagName("exclude").let { nodes ->
            (0 until nodes.length).map { nodes.item(it) as Element }.map { it.getAttribute("domain") to it.getAttribute("path") }
        }
}
