package dev.unbox.android.wifi

import dev.unbox.isRawWpaKey

/** How the phone joins a device's access point on a given API level. */
enum class JoinMethod {
    /** Android 10+: `WifiNetworkSpecifier` + `ConnectivityManager.requestNetwork`; the system asks the person. */
    NETWORK_SPECIFIER,

    /** Android 7-9: `WifiManager.addNetwork` + `enableNetwork` with a `WifiConfiguration`. */
    LEGACY_CONFIGURATION;

    /** Picks the method. */
    companion object {
        /** First API level with `WifiNetworkSpecifier` (Android 10). */
        const val SPECIFIER_API = 29

        /** The method for [apiLevel]. */
        fun forApiLevel(apiLevel: Int): JoinMethod =
            if (apiLevel >= SPECIFIER_API) NETWORK_SPECIFIER else LEGACY_CONFIGURATION
    }
}

/**
 * The platform's formats of SSIDs and WPA2 passphrases for the join calls. The checks are the
 * library's one rule, [dev.unbox.phoneWifiJoinProblem].
 */
object WifiJoinRules {
    /** `WifiConfiguration.SSID` for [ssid]: the name in double quotes. */
    fun quotedSsid(ssid: String): String = "\"$ssid\""

    /** `WifiConfiguration.preSharedKey` for [passphrase]: quoted text, or the 64-hex-digit key as is. */
    fun preSharedKey(passphrase: String): String =
        if (isRawWpaKey(passphrase)) passphrase else "\"$passphrase\""

    /** Whether the platform's current SSID (quoted, `<unknown ssid>` when hidden from the app) is [ssid]. */
    fun isCurrent(platformSsid: String?, ssid: String): Boolean = WifiScanMapping.ssid(platformSsid) == ssid
}
