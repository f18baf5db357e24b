package dev.unbox.android.ble

import dev.unbox.core.Advertisement
import dev.unbox.core.ScanFilter
import dev.unbox.scanFilterMatches
import dev.unbox.scanFilterPlatformServices
import java.util.UUID

/**
 * How a library [ScanFilter] runs on Android. Android's scan filters can match a service UUID but
 * not a name prefix, and a platform filter would drop devices known only by their name: the core
 * says which services go to the platform ([scanFilterPlatformServices]; none when there are name
 * prefixes, and Android then pauses the unfiltered scan while the screen is off) and [accepts]
 * applies the core's one rule ([scanFilterMatches]) to each result.
 */
class ScanPlan(private val filter: ScanFilter) {
    /** Service UUIDs to give the platform, one platform filter each; empty means no platform filter. */
    val platformServices: List<UUID> = scanFilterPlatformServices(filter)

    /** Whether [advertisement] matches the library's filter (the core's rule, not a copy of it). */
    fun accepts(advertisement: Advertisement): Boolean = scanFilterMatches(filter, advertisement)
}

/** Turns what Android's `ScanResult` reports into the library's [Advertisement]. */
object AdvertisementMapping {
    /** `ScanResult.getTxPower` and `ScanRecord.getTxPowerLevel` use these for "not advertised". */
    private const val TX_POWER_NOT_PRESENT = 127

    /**
     * The advertisement of peripheral [address]: each UUID once, company
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
        serviceUuids = serviceUuids.distinct(),
        manufacturerData = manufacturerData.filterKeys { it in 0..0xFFFF }.mapKeys { it.key.toUShort() },
        serviceData = serviceData,
        txPower = txPower?.takeIf { it in -127 until TX_POWER_NOT_PRESENT }?.toShort(),
    )
}
