package dev.unbox.android.wifi

import android.Manifest
import android.net.wifi.ScanResult
import android.net.wifi.WifiSsid
import android.os.Build
import android.os.Looper
import dev.unbox.PhoneWifiException
import dev.unbox.WifiNetwork
import dev.unbox.android.robolectric.Phone
import dev.unbox.android.robolectric.ShellTestRunner
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowScanResult

/**
 * [AndroidPhoneWifi.scanNetworks] on Robolectric's WifiManager: a scan answered by
 * SCAN_RESULTS_AVAILABLE_ACTION, a throttled scan falling back to the cached results, and the
 * permissions and location setting each API level needs.
 */
@RunWith(ShellTestRunner::class)
class AndroidPhoneWifiScanTest {
    private val app = RuntimeEnvironment.getApplication()
    private val wifiManager = shadowOf(Phone.wifi())

    @Before
    fun phoneReady() {
        Phone.wifi().isWifiEnabled = true
        Phone.grant(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)
        Phone.location(enabled = true)
        wifiManager.setScanResults(
            listOf(
                result("HomeNet", "aa:bb:cc:00:00:01", "[WPA2-PSK-CCMP][ESS]", -70, 2437),
                result("HomeNet", "aa:bb:cc:00:00:02", "[WPA2-PSK-CCMP][ESS]", -48, 5180),
                result("PROV_1A2B3C", "24:0a:c4:00:00:09", "[WPA2-PSK-CCMP][ESS]", -40, 2412),
                result("CafeOpen", "aa:bb:cc:00:00:03", "[ESS]", -80, 2462),
                result("", "aa:bb:cc:00:00:04", "[WPA2-PSK-CCMP][ESS]", -60, 2412),
            ),
        )
    }

    @Test
    fun `a scan answered by the system lists each network once, strongest first`(): Unit = runBlocking {
        val wifi = AndroidPhoneWifi(app, WifiSettings(scanTimeoutMillis = 3_600_000))
        val scan = async { wifi.scanNetworks() }
        yield()
        assertEquals("waiting for the scan's broadcast", 1, shadowOf(app).registeredReceivers.size)

        shadowOf(Looper.getMainLooper()).idle() // the system delivers SCAN_RESULTS_AVAILABLE_ACTION

        val networks = withTimeout(10_000) { scan.await() }
        assertEquals(listOf("PROV_1A2B3C", "HomeNet", "CafeOpen"), networks.map(WifiNetwork::ssid))
        val home = networks[1]
        assertEquals(-48, home.rssi.toInt())
        assertEquals(36, home.channel?.toInt())
        assertTrue(home.secured)
        assertTrue(!networks[2].secured)
        assertTrue("the receiver is unregistered", shadowOf(app).registeredReceivers.isEmpty())
    }

    @Test
    fun `a throttled scan returns the cached results at once`(): Unit = runBlocking {
        wifiManager.setStartScanSucceeds(false) // Android refuses: the app scanned too often
        val wifi = AndroidPhoneWifi(app, WifiSettings(scanTimeoutMillis = 3_600_000))

        val networks = withTimeout(10_000) { wifi.scanNetworks() }

        assertEquals(listOf("PROV_1A2B3C", "HomeNet", "CafeOpen"), networks.map(WifiNetwork::ssid))
        assertTrue(shadowOf(app).registeredReceivers.isEmpty())
    }

    @Test
    fun `a scan the system never answers ends at the timeout with the cached results`(): Unit = runBlocking {
        val wifi = AndroidPhoneWifi(app, WifiSettings(scanTimeoutMillis = 1))
        // The broadcast stays queued on the main looper, which this test does not run.
        val networks = withTimeout(10_000) { wifi.scanNetworks() }
        assertEquals(3, networks.size)
    }

    @Test
    fun `a scan without location permission or with location off is Unavailable with the reason`(): Unit = runBlocking {
        shadowOf(app).denyPermissions(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)
        val wifi = AndroidPhoneWifi(app)
        val needed = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) "ACCESS_FINE_LOCATION" else "ACCESS_COARSE_LOCATION"
        unavailable(wifi).let { assertTrue(it, it.contains(needed)) }

        Phone.grant(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)
        Phone.location(enabled = false)
        unavailable(wifi).let { assertTrue(it, it.contains("location setting is off")) }

        Phone.location(enabled = true)
        Phone.wifi().isWifiEnabled = false
        unavailable(wifi).let { assertTrue(it, it.contains("Wi-Fi is turned off")) }
    }

    private suspend fun unavailable(wifi: AndroidPhoneWifi): String {
        try {
            wifi.scanNetworks()
        } catch (unavailable: PhoneWifiException.Unavailable) {
            return unavailable.message!!
        }
        fail("the scan ran")
        error("unreachable")
    }

    /** A scan result as the system makes it (from API 33 the SSID is also a WifiSsid). */
    private fun result(ssid: String, bssid: String, capabilities: String, level: Int, frequency: Int): ScanResult =
        ShadowScanResult.newInstance(ssid, bssid, capabilities, level, frequency).also { result ->
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
                val field = ScanResult::class.java.declaredFields.first { it.type == WifiSsid::class.java }
                field.isAccessible = true
                field.set(result, WifiSsid.fromBytes(ssid.toByteArray()))
            }
        }
}
