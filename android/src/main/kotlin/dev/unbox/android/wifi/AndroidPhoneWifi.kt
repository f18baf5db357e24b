package dev.unbox.android.wifi

import android.content.Context
import android.net.ConnectivityManager
import android.net.wifi.WifiManager
import android.os.Build
import dev.unbox.PhoneWifi
import dev.unbox.PhoneWifiException
import dev.unbox.WifiNetwork
import dev.unbox.android.permissions.Capability
import dev.unbox.android.permissions.UnboxPermissions
import dev.unbox.phoneWifiJoinProblem

/** Time limits of the phone's Wi-Fi operations. */
data class WifiSettings(
    /** Longest wait for a scan's results before the cached ones are used. */
    val scanTimeoutMillis: Long = 10_000,
)

/**
 * The library's [PhoneWifi] on Android. Joining uses `WifiNetworkSpecifier` from Android 10 (the
 * system asks the person to confirm) and a `WifiConfiguration` on Android 7-9; either way the
 * process is then bound to the device's network (`bindProcessToNetwork`), so the library's native
 * sockets reach the device although that network has no internet. Leaving unbinds the process and
 * releases the network. Scanning uses `WifiManager.startScan` and falls back to the cached results
 * when Android throttles scans.
 */
class AndroidPhoneWifi(
    context: Context,
    settings: WifiSettings = WifiSettings(),
) : PhoneWifi {
    private val appContext = context.applicationContext
    private val wifi: WifiManager = requireNotNull(appContext.getSystemService(WifiManager::class.java)) { "no Wi-Fi service" }
    private val connectivity: ConnectivityManager =
        requireNotNull(appContext.getSystemService(ConnectivityManager::class.java)) { "no connectivity service" }
    private val joiner: NetworkJoiner = when (JoinMethod.forApiLevel(Build.VERSION.SDK_INT)) {
        JoinMethod.NETWORK_SPECIFIER -> SpecifierJoiner(connectivity)
        JoinMethod.LEGACY_CONFIGURATION -> LegacyJoiner(wifi, connectivity)
    }
    private val scanner = WifiScanner(appContext, wifi, settings.scanTimeoutMillis)

    override suspend fun joinNetwork(ssid: String, passphrase: String?) {
        phoneWifiJoinProblem(ssid, passphrase)?.let { throw PhoneWifiException.JoinFailed(ssid, it) }
        if (!wifi.isWifiEnabled) throw PhoneWifiException.Unavailable("Wi-Fi is turned off")
        withWifiPermission("join networks") { joiner.join(ssid, passphrase) }
    }

    override suspend fun leaveNetwork(ssid: String) = withWifiPermission("leave networks") { joiner.leave(ssid) }

    override suspend fun scanNetworks(): List<WifiNetwork> {
        // Without these Android returns no scan results rather than an error.
        UnboxPermissions.missing(appContext, listOf(Capability.WIFI_SCAN)).takeIf { it.isNotEmpty() }?.let {
            throw PhoneWifiException.Unavailable("the app lacks ${it.joinToString()} to list Wi-Fi networks")
        }
        if (UnboxPermissions.locationServicesOff(appContext, listOf(Capability.WIFI_SCAN))) {
            throw PhoneWifiException.Unavailable("the phone's location setting is off; Wi-Fi scans need it")
        }
        return withWifiPermission("scan for networks") { scanner.scan() }
    }
}

/** Joins and leaves device access points one way. */
internal interface NetworkJoiner {
    /** Joins [ssid] and binds the process to it; leaves any network joined before. */
    suspend fun join(ssid: String, passphrase: String?)

    /** Unbinds the process and leaves the joined network, if any. */
    suspend fun leave(ssid: String)
}

/** Runs [block], turning a missing permission into [PhoneWifiException.Unavailable]. */
internal inline fun <T> withWifiPermission(operation: String, block: () -> T): T =
    try {
        block()
    } catch (denied: SecurityException) {
        throw PhoneWifiException.Unavailable("the app may not $operation (grant location, or nearby Wi-Fi devices on Android 13+)")
    }
