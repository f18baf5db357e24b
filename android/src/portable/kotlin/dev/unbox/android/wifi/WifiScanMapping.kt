package dev.unbox.android.wifi

import dev.unbox.WifiNetwork

/** One access point as Android's `ScanResult` reports it, in plain types. */
data class ScanEntry(
    /** The SSID (`ScanResult.SSID`, or `wifiSsid.toString()` from API 33, possibly quoted). */
    val ssid: String?,
    /** The BSSID as `aa:bb:cc:dd:ee:ff`. */
    val bssid: String?,
    /** Signal strength in dBm. */
    val levelDbm: Int,
    /** Primary channel frequency in MHz. */
    val frequencyMhz: Int,
    /** The capabilities string, e.g. `[WPA2-PSK-CCMP][RSN-PSK-CCMP][ESS]`. */
    val capabilities: String,
)

/** Turns platform scan results into the library's [WifiNetwork] records. */
object WifiScanMapping {
    private val PASSPHRASE_OR_LOGIN = listOf("WEP", "PSK", "SAE", "EAP", "WAPI")
    private const val UNKNOWN_SSID = "<unknown ssid>"

    /**
     * The networks in [entries]: hidden and unreadable SSIDs dropped, one record per SSID (its
     * strongest access point), strongest first.
     */
    fun toNetworks(entries: List<ScanEntry>): List<WifiNetwork> =
        entries.mapNotNull { entry -> ssid(entry.ssid)?.let { it to entry } }
            .groupBy({ it.first }, { it.second })
            .map { (ssid, accessPoints) ->
                val strongest = accessPoints.maxBy { it.levelDbm }
                WifiNetwork(
                    ssid = ssid,
                    bssid = strongest.bssid?.let(::bssidBytes),
                    rssi = strongest.levelDbm.coerceIn(Short.MIN_VALUE.toInt(), Short.MAX_VALUE.toInt()).toShort(),
                    channel = channel(strongest.frequencyMhz),
                    secured = isSecured(strongest.capabilities),
                )
            }
            .sortedByDescending { it.rssi }

    /** The SSID as text: surrounding quotes removed; null when hidden, empty or redacted. */
    fun ssid(raw: String?): String? {
        val text = raw?.removeSurrounding("\"") ?: return null
        return text.takeUnless { it.isEmpty() || it == UNKNOWN_SSID || it.all { char -> char == '\u0000' } }
    }

    /** The Wi-Fi channel of a frequency in MHz (2.4, 5 and 6 GHz bands), or null for anything else. */
    fun channel(frequencyMhz: Int): UShort? = when (frequencyMhz) {
        2484 -> 14
        in 2412..2472 -> (frequencyMhz - 2407) / 5
        in 5160..5885 -> (frequencyMhz - 5000) / 5
        5935 -> 2
        in 5955..7115 -> (frequencyMhz - 5950) / 5
        else -> null
    }?.toUShort()

    /** Whether joining needs a passphrase or login: WEP, WPA/WPA2/WPA3 personal or enterprise, WAPI. */
    fun isSecured(capabilities: String): Boolean =
        PASSPHRASE_OR_LOGIN.any { capabilities.contains(it, ignoreCase = true) }

    /** Six bytes from `aa:bb:cc:dd:ee:ff`, or null when it is not a MAC address. */
    fun bssidBytes(text: String): ByteArray? {
        val parts = text.split(':')
        if (parts.size != 6 || parts.any { it.length != 2 }) return null
        val bytes = parts.map { it.toIntOrNull(16) ?: return null }
        return ByteArray(6) { bytes[it].toByte() }
    }
}
