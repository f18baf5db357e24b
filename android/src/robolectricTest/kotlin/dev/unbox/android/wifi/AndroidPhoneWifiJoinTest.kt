package dev.unbox.android.wifi

import android.net.NetworkCapabilities
import android.net.NetworkRequest
import android.net.wifi.WifiConfiguration
import android.os.Build
import dev.unbox.PhoneWifiException
import dev.unbox.android.robolectric.Phone
import dev.unbox.android.robolectric.RecordingConnectivityManager
import dev.unbox.android.robolectric.ShellTestRunner
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowNetwork
import org.robolectric.shadows.ShadowNetworkInfo

/**
 * [AndroidPhoneWifi] joining a device's access point on Robolectric's ConnectivityManager and
 * WifiManager: the request it makes, the process bound on success and unbound on leave, and the
 * system's callbacks turned into the library's typed errors. API 29+ join with a network
 * specifier, API 24-28 with a saved configuration.
 */
@RunWith(ShellTestRunner::class)
@Config(shadows = [RecordingConnectivityManager::class])
class AndroidPhoneWifiJoinTest {
    private val connectivity = Phone.connectivity()
    private val shadowConnectivity = Phone.connectivityShadow()

    @Before
    fun wifiOn() {
        Phone.wifi().isWifiEnabled = true
    }

    @Test
    @Config(sdk = [29, 33, 35])
    fun `Android 10 and later request the access point with a specifier, bind on success and unbind on leave`(): Unit = runBlocking {
        val wifi = AndroidPhoneWifi(RuntimeEnvironment.getApplication())
        val join = startJoin(wifi, PASSPHRASE)

        val request = shadowConnectivity.requests.single()
        assertLocalWifiOnly(request)
        val configuration = specifierConfiguration(request)
        assertEquals("\"$SSID\"", configuration.SSID)
        assertEquals("\"$PASSPHRASE\"", configuration.preSharedKey)
        assertTrue(configuration.allowedKeyManagement.get(WifiConfiguration.KeyMgmt.WPA_PSK))
        assertEquals("the specifier path saves no network", 0, Phone.wifi().configuredNetworks.size)

        val network = ShadowNetwork.newInstance(41)
        shadowConnectivity.networkCallbacks.single().onAvailable(network)
        join.await()
        assertEquals(network, connectivity.boundNetworkForProcess)

        wifi.leaveNetwork(SSID)
        assertNull(connectivity.boundNetworkForProcess)
        assertTrue("the request is released", shadowConnectivity.networkCallbacks.isEmpty())
    }

    @Test
    @Config(sdk = [29, 35])
    fun `an open access point is requested without a passphrase`(): Unit = runBlocking {
        val join = startJoin(AndroidPhoneWifi(RuntimeEnvironment.getApplication()), null)
        val configuration = specifierConfiguration(shadowConnectivity.requests.single())
        assertTrue(configuration.allowedKeyManagement.get(WifiConfiguration.KeyMgmt.NONE))
        shadowConnectivity.networkCallbacks.single().onAvailable(ShadowNetwork.newInstance(42))
        join.await()
    }

    @Test
    @Config(sdk = [29, 33, 35])
    fun `a network the phone cannot find or the person declines is JoinFailed, and the request is released`(): Unit = runBlocking {
        val join = startJoin(AndroidPhoneWifi(RuntimeEnvironment.getApplication()), PASSPHRASE)

        shadowConnectivity.networkCallbacks.single().onUnavailable()

        val failure = failure(join)
        assertTrue(failure is PhoneWifiException.JoinFailed)
        assertEquals(SSID, (failure as PhoneWifiException.JoinFailed).ssid)
        assertTrue(shadowConnectivity.networkCallbacks.isEmpty())
        assertNull(connectivity.boundNetworkForProcess)
    }

    @Test
    fun `a lost access point unbinds the process, and the next join starts afresh`(): Unit = runBlocking {
        val wifi = AndroidPhoneWifi(RuntimeEnvironment.getApplication())
        val network = ShadowNetwork.newInstance(43)
        val join = startJoin(wifi, PASSPHRASE)
        available(network)
        join.await()
        assertEquals(network, connectivity.boundNetworkForProcess)

        shadowConnectivity.networkCallbacks.single().onLost(network)
        assertNull("the app's traffic no longer goes to the vanished network", connectivity.boundNetworkForProcess)

        val again = startJoin(wifi, PASSPHRASE)
        assertEquals("the earlier request was released before the new one", 1, shadowConnectivity.networkCallbacks.size)
        val second = ShadowNetwork.newInstance(44)
        available(second)
        again.await()
        assertEquals(second, connectivity.boundNetworkForProcess)
    }

    @Test
    fun `the library giving up on a join releases what the join set up`(): Unit = runBlocking {
        val join = startJoin(AndroidPhoneWifi(RuntimeEnvironment.getApplication()), PASSPHRASE)
        join.cancel()
        yield()
        assertTrue(shadowConnectivity.networkCallbacks.isEmpty())
        assertTrue("no saved configuration is left behind", Phone.wifi().configuredNetworks.isEmpty())
        assertNull(connectivity.boundNetworkForProcess)
    }

    @Test
    @Config(sdk = [24, 28])
    fun `Android 7 to 9 save a configuration, switch to it, bind, and remove it on leave`(): Unit = runBlocking {
        val wifiManager = shadowOf(Phone.wifi())
        val wifi = AndroidPhoneWifi(RuntimeEnvironment.getApplication())
        val join = startJoin(wifi, PASSPHRASE)

        val saved = Phone.wifi().configuredNetworks.single()
        assertEquals("\"$SSID\"", saved.SSID)
        assertEquals("\"$PASSPHRASE\"", saved.preSharedKey)
        assertEquals(saved.networkId to true, wifiManager.lastEnabledNetwork.let { it.first to it.second })
        assertLocalWifiOnly(shadowConnectivity.requests.single())

        // Another Wi-Fi network (the one being left) comes up first: not ours, keep waiting.
        val other = ShadowNetwork.newInstance(50)
        shadowConnectivity.addNetwork(other, wifiInfo("\"HomeNet\""))
        shadowConnectivity.networkCallbacks.single().onAvailable(other)
        yield()
        assertFalse(join.isCompleted)

        val network = ShadowNetwork.newInstance(51)
        shadowConnectivity.addNetwork(network, wifiInfo("\"$SSID\""))
        shadowConnectivity.networkCallbacks.single().onAvailable(network)
        join.await()
        assertEquals(network, connectivity.boundNetworkForProcess)

        wifi.leaveNetwork(SSID)
        assertNull(connectivity.boundNetworkForProcess)
        assertTrue(Phone.wifi().configuredNetworks.isEmpty())
        assertTrue(shadowConnectivity.networkCallbacks.isEmpty())
    }

    @Test
    @Config(sdk = [24, 28])
    fun `Android 7 to 9 refusing the configuration is JoinFailed`(): Unit = runBlocking {
        shadowOf(Phone.wifi()).setAddNetworkFailure()
        try {
            AndroidPhoneWifi(RuntimeEnvironment.getApplication()).joinNetwork(SSID, PASSPHRASE)
            fail("joined although Android refused the configuration")
        } catch (refused: PhoneWifiException.JoinFailed) {
            assertTrue(refused.message!!, refused.message!!.contains("refused"))
        }
        assertTrue(shadowConnectivity.networkCallbacks.isEmpty())
    }

    @Test
    fun `Wi-Fi turned off and a bad passphrase fail before the system is asked`(): Unit = runBlocking {
        val wifi = AndroidPhoneWifi(RuntimeEnvironment.getApplication())
        try {
            wifi.joinNetwork(SSID, "short")
            fail("a 5-character passphrase was accepted")
        } catch (bad: PhoneWifiException.JoinFailed) {
            // WifiJoinRules said why.
        }
        Phone.wifi().isWifiEnabled = false
        try {
            wifi.joinNetwork(SSID, PASSPHRASE)
            fail("joined with Wi-Fi off")
        } catch (off: PhoneWifiException.Unavailable) {
            assertTrue(off.message!!, off.message!!.contains("Wi-Fi is turned off"))
        }
        assertTrue(shadowConnectivity.requests.isEmpty())
    }

    /** Starts a join and lets it run until it waits for the system. */
    private suspend fun CoroutineScope.startJoin(wifi: AndroidPhoneWifi, passphrase: String?): Deferred<Unit> {
        // Supervised: a failing join fails its await, not the test's scope.
        val join = async(SupervisorJob()) { wifi.joinNetwork(SSID, passphrase) }
        yield()
        return join
    }

    /** The system reports the device's network up (named as the legacy path checks it). */
    private fun available(network: android.net.Network) {
        shadowConnectivity.addNetwork(network, wifiInfo("\"$SSID\""))
        shadowConnectivity.networkCallbacks.single().onAvailable(network)
    }

    private fun wifiInfo(extraInfo: String) =
        ShadowNetworkInfo.newInstance(
            android.net.NetworkInfo.DetailedState.CONNECTED, android.net.ConnectivityManager.TYPE_WIFI, 0, true, true,
        ).also { shadowOf(it).setExtraInfo(extraInfo) }

    private suspend fun failure(call: Deferred<*>): Throwable {
        try {
            call.await()
        } catch (failed: Throwable) {
            return failed
        }
        fail("the join succeeded")
        error("unreachable")
    }

    private companion object {
        const val SSID = "PROV_1A2B3C"
        const val PASSPHRASE = "device-ap-pass"

        /** Wi-Fi transport without the internet capability: the device's access point has none. */
        fun assertLocalWifiOnly(request: NetworkRequest) {
            val capabilities = hidden<NetworkCapabilities>(request)
            assertTrue(capabilities.hasTransport(NetworkCapabilities.TRANSPORT_WIFI))
            assertFalse(capabilities.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET))
            if (Build.VERSION.SDK_INT < Build.VERSION_CODES.Q) {
                assertNull("no specifier before Android 10", named(capabilities, "mNetworkSpecifier"))
            }
        }

        /** The configuration a WifiNetworkSpecifier carries (a hidden field on every level). */
        fun specifierConfiguration(request: NetworkRequest): WifiConfiguration =
            hidden(requireNotNull(named(hidden<NetworkCapabilities>(request), "mNetworkSpecifier")) { "the request has no specifier" })

        /** The field [name] of [owner] (hidden, and of another type before API 26). */
        fun named(owner: Any, name: String): Any? =
            owner.javaClass.getDeclaredField(name).apply { isAccessible = true }.get(owner)

        /** The one field of type [T] of [owner]'s class (the platform keeps these hidden). */
        inline fun <reified T> hidden(owner: Any): T {
            val field = generateSequence(owner.javaClass as Class<*>) { it.superclass }
                .flatMap { it.declaredFields.asSequence() }
                .first { T::class.java.isAssignableFrom(it.type) }
            field.isAccessible = true
            return field.get(owner) as T
        }
    }
}
