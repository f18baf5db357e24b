package dev.unbox.android.flow

import android.Manifest
import android.content.Intent
import android.net.ConnectivityManager
import android.net.NetworkInfo
import android.net.Uri
import android.os.Build
import android.os.Looper
import dev.unbox.Onboarded
import dev.unbox.OnboardingClient
import dev.unbox.android.auth.AuthorizationActivity
import dev.unbox.android.auth.CustomTabsAuthorizationAgent
import dev.unbox.android.auth.RedirectActivity
import dev.unbox.android.auth.RedirectMatch
import dev.unbox.android.robolectric.InstalledBrowsers
import dev.unbox.android.robolectric.LibraryManifest
import dev.unbox.android.robolectric.Phone
import dev.unbox.android.robolectric.RecordingConnectivityManager
import dev.unbox.android.robolectric.ShellTestRunner
import dev.unbox.android.robolectric.TestKeystoreProvider
import dev.unbox.android.storage.KeystoreSecretStore
import dev.unbox.android.support.SimulatorWorld
import dev.unbox.android.wifi.AndroidPhoneWifi
import dev.unbox.discoverAuthSession
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowNetwork
import org.robolectric.shadows.ShadowNetworkInfo
import org.robolectric.shadows.ShadowScanResult

/**
 * One whole onboarding where the phone's side is the shell's real Android code under Robolectric
 * (the Custom Tabs sign-in with its activities, the Keystore store, the Wi-Fi scan and join) and
 * the rest is the library's in-process simulator: the join "succeeds" in Robolectric's
 * ConnectivityManager and the core then reaches the simulated device and cloud on loopback. The
 * test's thread is the system and the person: it creates the activities the shell starts, opens
 * the sign-in page over HTTP as the browser would, and brings the requested networks up.
 */
//
// Each API level runs in a JVM of its own (the `onboarding` execution of the Robolectric pom): every
// Robolectric SDK sandbox loads its own copy of the generated bindings, but the process has one
// native library, whose callback tables point at the sandbox that registered last. Both copies
// number their foreign objects from the same start, so a Rust object of the API 24 run freed late
// removed the API 35 run's PhoneWifi from its handle map (leaveNetwork then failed with "Invalid
// handle" and the leave step timed out). An app has one class loader; only the test shares a JVM.
abstract class AndroidShellOnboarding {
    private val app = RuntimeEnvironment.getApplication()
    private val info = SimulatorWorld.info
    private val library = CoroutineScope(SupervisorJob() + Dispatchers.IO)
    private val http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()

    @After
    fun stop() = library.cancel()

    @Test
    fun `a SoftAP onboarding runs on the Android shell to the device's binding`(): Unit = runBlocking {
        LibraryManifest.install(requireNotNull(RedirectMatch.scheme(info.redirectUri)))
        InstalledBrowsers.install("com.android.chrome", customTabs = true)
        TestKeystoreProvider.install()
        Phone.grant(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION, "android.permission.NEARBY_WIFI_DEVICES")
        Phone.location(enabled = true)
        Phone.wifi().isWifiEnabled = true
        val request = SimulatorWorld.softApRequest(0)
        shadowOf(Phone.wifi()).setScanResults(
            listOf(
                ShadowScanResult.newInstance(info.homeSsid, "aa:bb:cc:00:00:01", "[WPA2-PSK-CCMP][ESS]", -50, 2437),
                ShadowScanResult.newInstance(request.deviceName, "24:0a:c4:00:00:09", "[WPA2-PSK-CCMP][ESS]", -40, 2412),
            ),
        )

        val store = KeystoreSecretStore.create(app)
        val wifi = AndroidPhoneWifi(app)
        val onboarding = library.async {
            val account = discoverAuthSession(SimulatorWorld.authConfig(), CustomTabsAuthorizationAgent(app), store)
            val client = OnboardingClient(account, info.cloudUrl, null, wifi, store, SimulatorWorld.simulator.settings())
            client.onboardingFlow(request).toList()
        }

        val joined = mutableSetOf<ConnectivityManager.NetworkCallback>()
        var signIns = 0
        val deadline = System.nanoTime() + 120_000_000_000
        while (!onboarding.isCompleted && System.nanoTime() < deadline) {
            shadowOf(Looper.getMainLooper()).idle() // broadcasts, e.g. the scan's results
            shadowOf(app).nextStartedActivity?.let { started ->
                assertEquals(AuthorizationActivity::class.java.name, started.component?.className)
                signIn(started)
                signIns += 1
            }
            for ((callback, _) in Phone.connectivityShadow().registered()) {
                if (joined.add(callback)) bringUp(callback)
            }
            Thread.sleep(5)
        }

        val updates = onboarding.await()
        val finished = updates.last() as OnboardingUpdate.Finished
        val onboarded = finished.result as Onboarded
        assertTrue(onboarded.binding!!.deviceId.isNotEmpty())
        assertEquals(info.homeSsid, onboarded.network?.ssid)
        assertEquals("one sign-in through the Custom Tab", 1, signIns)
        assertEquals("one join of the device's access point", 1, joined.size)
        assertEquals("left again: the process is unbound", null, Phone.connectivity().boundNetworkForProcess)
        assertTrue("and the request released", Phone.connectivityShadow().registered().isEmpty())
        assertTrue("the sign-in is kept in the Keystore store", app.getSharedPreferences(KeystoreSecretStore.DEFAULT_PREFERENCES, 0).all.isNotEmpty())
    }

    /** The system shows the sign-in activity; the person's browser loads the page and follows the redirect back. */
    private fun signIn(host: Intent) {
        val activity = Robolectric.buildActivity(AuthorizationActivity::class.java, host).setup()
        val page = requireNotNull(shadowOf(activity.get()).nextStartedActivity) { "the sign-in opened no browser" }
        activity.pause().stop()
        // The simulated provider consents at once and answers with the redirect to the app.
        val response = http.send(HttpRequest.newBuilder(URI(page.dataString!!)).GET().build(), HttpResponse.BodyHandlers.discarding())
        val callback = response.headers().firstValue("location").orElseThrow()
        val redirect = Robolectric.buildActivity(
            RedirectActivity::class.java,
            Intent(Intent.ACTION_VIEW, Uri.parse(callback)).addCategory(Intent.CATEGORY_BROWSABLE),
        ).create()
        val back = requireNotNull(shadowOf(redirect.get()).nextStartedActivity) { "the redirect was not handed back" }
        (if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) activity.restart() else activity.restart().start())
            .newIntent(back).resume()
    }

    /** The system joins the requested access point (named as Android 7-9 check it) and reports it up. */
    private fun bringUp(callback: ConnectivityManager.NetworkCallback) {
        val network = ShadowNetwork.newInstance(100)
        val ssid = "\"${SimulatorWorld.softApRequest(0).deviceName}\""
        val state = ShadowNetworkInfo.newInstance(NetworkInfo.DetailedState.CONNECTED, ConnectivityManager.TYPE_WIFI, 0, true, true)
        shadowOf(state).setExtraInfo(ssid)
        Phone.connectivityShadow().addNetwork(network, state)
        callback.onAvailable(network)
    }
}

/** The legacy join (`WifiConfiguration`, Android 7-9). */
@RunWith(ShellTestRunner::class)
@Config(sdk = [24], shadows = [RecordingConnectivityManager::class])
class AndroidShellOnboardingApi24Test : AndroidShellOnboarding()

/** The join through `WifiNetworkSpecifier` (Android 10+), at the newest level. */
@RunWith(ShellTestRunner::class)
@Config(sdk = [35], shadows = [RecordingConnectivityManager::class])
class AndroidShellOnboardingApi35Test : AndroidShellOnboarding()
