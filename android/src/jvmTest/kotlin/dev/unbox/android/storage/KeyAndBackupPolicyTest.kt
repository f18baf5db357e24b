package dev.unbox.android.storage

import dev.unbox.SecretStoreException
import dev.unbox.android.support.MemoryBackend
import dev.unbox.android.support.TestKeys
import java.io.File
import java.security.InvalidKeyException
import javax.crypto.SecretKey
import javax.xml.parsers.DocumentBuilderFactory
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.w3c.dom.Element

/** The sealing key's requirements per API level, a locked phone, and the shipped backup rules. */
class KeyAndBackupPolicyTest {
    private val android = File(System.getProperty("unbox.android.dir") ?: "android")

    @Test
    fun `the key needs an unlocked phone from API 28`() {
        assertEquals(SealingKeyPolicy(keySize = 256, unlockedDeviceRequired = false), SealingKeyPolicy.forSdk(24))
        assertFalse(SealingKeyPolicy.forSdk(27).unlockedDeviceRequired)
        for (sdk in listOf(28, 29, 33, 35)) assertTrue(SealingKeyPolicy.forSdk(sdk).unlockedDeviceRequired, "API $sdk")
    }

    /** A key that refuses to work while the phone is locked, as the Keystore's does then. */
    private class LockedPhoneKeys(private val keys: TestKeys = TestKeys()) : SecretKeySource by keys {
        var locked = false
        class NotUnlocked : InvalidKeyException("User not authenticated")

        override fun key(): SecretKey = if (locked) throw NotUnlocked() else keys.key()

        override fun lockedOut(refusal: InvalidKeyException) = refusal is NotUnlocked

        val discards get() = keys.discards
    }

    @Test
    fun `a locked phone keeps the key and the secrets and says to unlock it`(): Unit = runBlocking {
        val keys = LockedPhoneKeys()
        val backend = MemoryBackend()
        val store = SealedSecretStore(AesGcmSealer(keys), backend)
        store.put("tokens", "refresh-token")
        keys.locked = true
        val reading = assertThrows(SecretStoreException.Unavailable::class.java) { runBlocking { store.get("tokens") } }
        assertTrue(reading.reason.contains("unlock"), reading.reason)
        assertThrows(SecretStoreException.Unavailable::class.java) { runBlocking { store.put("tokens", "newer") } }
        keys.locked = false
        assertEquals("refresh-token", store.get("tokens"))
        assertEquals(0, keys.discards, "the key survives the lock")
    }

    private fun excludes(rules: File, section: String?): List<Pair<String, String>> {
        val document = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(rules)
        val root = document.documentElement
        val scope = if (section == null) root else root.getElementsByTagName(section).item(0) as Element
        val nodes = scope.getElementsByTagName("exclude")
        return (0 until nodes.length).map { nodes.item(it) as Element }.map { it.getAttribute("domain") to it.getAttribute("path") }
    }

    @Test
    fun `backups and device transfers leave the sealed secrets out`() {
        val secrets = "sharedpref" to BackupRules.EXCLUDED_FILE
        val xml = File(android, "src/main/res/xml")
        assertEquals(listOf(secrets), excludes(File(xml, "unbox_backup_rules.xml"), null))
        val extraction = File(xml, "unbox_data_extraction_rules.xml")
        for (section in listOf("cloud-backup", "device-transfer")) {
            assertEquals(listOf(secrets), excludes(extraction, section), section)
        }
        val manifest = File(android, "src/main/AndroidManifest.xml").readText()
        assertTrue(manifest.contains("android:fullBackupContent=\"@xml/unbox_backup_rules\""), "manifest")
        assertTrue(manifest.contains("android:dataExtractionRules=\"@xml/unbox_data_extraction_rules\""), "manifest")
        assertEquals("dev.unbox.secrets.xml", BackupRules.EXCLUDED_FILE)
    }
}
