package dev.unbox.android.wifi

import dev.unbox.phoneWifiJoinProblem
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Scan results to library records, join methods, passphrase and SSID rules. */
class WifiRulesTest {
    private fun entry(ssid: String?, level: Int, frequency: Int = 2437, capabilities: String = "[WPA2-PSK-CCMP][ESS]", bssid: String? = "24:0a:c4:00:00:01") =
        ScanEntry(ssid, bssid, level, frequency, capabilities)

    @Test
    fun `scan results become one record per network, strongest first`() {
        val networks = WifiScanMapping.toNetworks(
            listOf(
                entry("\"HomeNet\"", -70, 5180),
                entry("HomeNet", -50, 2412, bssid = "aa:bb:cc:dd:ee:ff"),
                entry("PROV_1A2B3C", -40, 2462, "[ESS]"),
                entry("", -30),
                entry(null, -30),
                entry("<unknown ssid>", -30),
            ),
        )
        assertEquals(listOf("PROV_1A2B3C", "HomeNet"), networks.map { it.ssid })
        val home = networks[1]
        assertEquals((-50).toShort(), home.rssi)
        assertEquals(1.toUShort(), home.channel)
        assertArrayEquals(byteArrayOf(0xaa.toByte(), 0xbb.toByte(), 0xcc.toByte(), 0xdd.toByte(), 0xee.toByte(), 0xff.toByte()), home.bssid)
        assertTrue(home.secured)
        assertFalse(networks[0].secured)
    }

    @Test
    fun `frequencies map to channels in all three bands`() {
        assertEquals(listOf(1, 6, 13, 14), listOf(2412, 2437, 2472, 2484).map { WifiScanMapping.channel(it)?.toInt() })
        assertEquals(listOf(36, 165), listOf(5180, 5825).map { WifiScanMapping.channel(it)?.toInt() })
        assertEquals(listOf(2, 1, 233), listOf(5935, 5955, 7115).map { WifiScanMapping.channel(it)?.toInt() })
        assertNull(WifiScanMapping.channel(0))
        assertNull(WifiScanMapping.channel(60_480))
    }

    @Test
    fun `personal, enterprise and WEP networks need a secret, open and OWE ones do not`() {
        for (secured in listOf("[WPA2-PSK-CCMP][ESS]", "[RSN-SAE-CCMP][ESS]", "[WEP][ESS]", "[WPA2-EAP/SHA1-CCMP][ESS]")) {
            assertTrue(WifiScanMapping.isSecured(secured), secured)
        }
        for (open in listOf("[ESS]", "[RSN-OWE-CCMP][ESS]", "")) assertFalse(WifiScanMapping.isSecured(open), open)
        assertNull(WifiScanMapping.bssidBytes("not:a:mac"))
        assertNull(WifiScanMapping.bssidBytes("zz:bb:cc:dd:ee:ff"))
        assertNotNull(WifiScanMapping.bssidBytes("00:11:22:33:44:55"))
    }

    @Test
    fun `Android 10 and later join with a network specifier, older releases with a configuration`() {
        assertEquals(JoinMethod.LEGACY_CONFIGURATION, JoinMethod.forApiLevel(24))
        assertEquals(JoinMethod.LEGACY_CONFIGURATION, JoinMethod.forApiLevel(28))
        assertEquals(JoinMethod.NETWORK_SPECIFIER, JoinMethod.forApiLevel(29))
        assertEquals(JoinMethod.NETWORK_SPECIFIER, JoinMethod.forApiLevel(35))
    }

    @Test
    fun `passphrases and SSIDs are checked before the platform sees them, by the library's rule`() {
        val device = "PROV_1A2B3C"
        assertNull(phoneWifiJoinProblem(device, "setup-1234"))
        assertNull(phoneWifiJoinProblem(device, "a".repeat(63)))
        assertNull(phoneWifiJoinProblem(device, "0123456789abcdef".repeat(4)))
        assertNull(phoneWifiJoinProblem(device, null))
        assertEquals("a WPA2 passphrase has 8 to 63 characters, not 7", phoneWifiJoinProblem(device, "short77"))
        assertNotNull(phoneWifiJoinProblem(device, "g".repeat(64)))
        assertEquals("a WPA2 passphrase contains only printable ASCII characters", phoneWifiJoinProblem(device, "pässwort-123"))
        assertEquals("a network name has 1 to 32 bytes, not 0", phoneWifiJoinProblem("", "setup-1234"))
        assertNotNull(phoneWifiJoinProblem("ü".repeat(17), null))
    }

    @Test
    fun `legacy configurations quote names and passphrases but not raw keys`() {
        assertEquals("\"PROV_1A2B3C\"", WifiJoinRules.quotedSsid("PROV_1A2B3C"))
        assertEquals("\"setup-1234\"", WifiJoinRules.preSharedKey("setup-1234"))
        assertEquals("ab".repeat(32), WifiJoinRules.preSharedKey("ab".repeat(32)))
        assertTrue(WifiJoinRules.isCurrent("\"PROV_1A2B3C\"", "PROV_1A2B3C"))
        assertFalse(WifiJoinRules.isCurrent("<unknown ssid>", "PROV_1A2B3C"))
        assertFalse(WifiJoinRules.isCurrent(null, "PROV_1A2B3C"))
    }
}
