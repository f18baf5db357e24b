package dev.unbox.android.ble

import dev.unbox.Advertisement
import dev.unbox.ScanFilter
import java.util.UUID

/**
 * How a library [ScanFilter] runs on Android. The library reports devices matching ANY service
 * UUID or ANY name prefix; Android's scan filters can match a service UUID but not a name prefix,
 * and a platform filter would drop devices known only by their name. So the service UUIDs go to
 * the platform only when there are no name prefixes; otherwise the scan is unfiltered (Android then
 * pauses it while the screen is off) and [accepts] does the whole match in software.
 */
class ScanPlan(filter: ScanFilter) {
    private val services: Set<UUID> = filter.serviceUuids.mapNotNull(BleUuids::parse).toSet()
    private val prefixes: List<String> = filter.namePrefixes.filter { it.isNotEmpty() }

    /** Service UUIDs to give the platform, one platform filter each; empty means no platform filter. */
    val platformServices: List<UUID> = if (prefixes.isEmpty()) services.toList() else emptyList()

    /**
     * Whether [advertisement] matches: an advertised service in the filter, or a local name starting
     * with a prefix (ignoring ASCII case: ESP firmware writes hex suffixes either way). An empty
     * filter matches everything.
     */
    fun accepts(advertisement: Advertisement): Boolean {
        if (services.isEmpty() && prefixes.isEmpty()) return true
        val byService = advertisement.serviceUuids.any { text -> BleUuids.parse(text)?.let { it in services } == true }
        val name = advertisement.localName
        val byName = name != null && prefixes.any { name.startsWith(it, ignoreCase = true) }
        return byService || byName
    }
}

/** Turns what Android's `ScanResult` reports into the library's [Advertisement]. */
object AdvertisementMapping {
    /** `ScanResult.getTxPower` and `ScanRecord.getTxPowerLevel` use these for "not advertised". */
    private const val TX_POWER_NOT_PRESENT = 127

    /**
     * The advertisement of peripheral [address]: UUIDs in the library's spelling, company
     * identifiers outside 16 bits and absent transmit powers (127, `Int.MIN_VALUE`) dropped.
     */
    fun toAdvertisement(
        address: String,
        localName: String?,
        rssi: Int,
        serviceUuids: List<UUID>,
        manufacturerData: Map<Int, ByteArray>,
        serviceData: Map<UUID, ByteArray>,
        txPower: Int?,
    ): Advertisement = Advertisement(
        peripheralId = address,
        localName = localName?.takeIf { it.isNotEmpty() },
        rssi = rssi.coerceIn(Short.MIN_VALUE.toInt(), Short.MAX_VALUE.toInt()).toShort(),
        serviceUuids = serviceUuids.map(BleUuids::format).distinct(),
        manufacturerData = manufacturerData.filterKeys { it in 0..0xFFFF }.mapKeys { it.key.toUShort() },
        serviceData = serviceData.mapKeys { BleUuids.format(it.key) },
        txPower = txPower?.takeIf { it in -127 until TX_POWER_NOT_PRESENT }?.toShort(),
    )
}
