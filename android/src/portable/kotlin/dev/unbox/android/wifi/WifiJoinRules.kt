package dev.unbox.android.wifi

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

/** Checks and formats of SSIDs and WPA2 passphrases for the join calls. */
object WifiJoinRules {
    private val HEX_KEY = Regex("[0-9a-fA-F]{64}")

    /**
     * Why [passphrase] cannot be a WPA2-Personal passphrase, or null when it can: 8 to 63
     * printable ASCII characters, or a raw key of 64 hex digits.
     */
    fun passphraseProblem(passphrase: String): String? = when {
        HEX_KEY.matches(passphrase) -> null
        passphrase.any { it.code !in 0x20..0x7e } -> "a WPA2 passphrase contains only printable ASCII characters"
        passphrase.length !in 8..63 -> "a WPA2 passphrase has 8 to 63 characters, not ${passphrase.length}"
        else -> null
    }

    /** Why [ssid] cannot name a network, or null: 1 to 32 bytes of UTF-8. */
    fun ssidProblem(ssid: String): String? {
        val length = ssid.toByteArray(Charsets.UTF_8).size
        return if (length in 1..32) null else "a network name has 1 to 32 bytes, not $length"
    }

    /** `WifiConfiguration.SSID` for [ssid]: the name in double quotes. */
    fun quotedSsid(ssid: String): String = "\"$ssid\""

    /** `WifiConfiguration.preSharedKey` for [passphrase]: quoted text, or the 64-hex-digit key as is. */
    fun preSharedKey(passphrase: String): String =
        if (HEX_KEY.matches(passphrase)) passphrase else "\"$passphrase\""

    /** Whether the platform's current SSID (quoted, `<unknown ssid>` when hidden from the app) is [ssid]. */
    fun isCurrent(platformSsid: String?, ssid: String): Boolean = WifiScanMapping.ssid(platformSsid) == ssid
}
