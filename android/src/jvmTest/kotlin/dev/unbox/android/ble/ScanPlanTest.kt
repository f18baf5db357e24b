package dev.unbox.android.ble

import dev.unbox.core.Advertisement
import dev.unbox.core.ScanFilter
import java.util.UUID
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Scan filters split between the platform and software (the library's rule), advertisement mapping. */
class ScanPlanTest {
    private val prov = UUID.fromString("021a9004-0382-4aea-bff4-6b3f1c5adfb4")
    private val other = UUID.fromString("1775244d-6b43-439b-877c-060f2d9bed07")

    private fun advertisement(name: String?, vararg services: UUID) = Advertisement(
        peripheralId = "AA:BB:CC:DD:EE:FF", localName = name, rssi = -60, serviceUuids = services.toList(),
        manufacturerData = emptyMap(), serviceData = emptyMap(), txPower = null,
    )

    @Test
    fun `service UUIDs go to the platform only when no name prefix could match devices without them`() {
        assertEquals(listOf(prov), ScanPlan(ScanFilter(listOf(prov), emptyList())).platformServices)
        assertEquals(emptyList<UUID>(), ScanPlan(ScanFilter(listOf(prov), listOf("PROV_"))).platformServices)
        assertEquals(emptyList<UUID>(), ScanPlan(ScanFilter(emptyList(), emptyList())).platformServices)
    }

    @Test
    fun `a device matches by any service or any name prefix, names ignoring case`() {
        val plan = ScanPlan(ScanFilter(listOf(prov, other), listOf("PROV_")))
        assertTrue(plan.accepts(advertisement(null, prov)))
        assertTrue(plan.accepts(advertisement("prov_1a2b3c")))
        assertFalse(plan.accepts(advertisement("Headphones", UUID.fromString("0000180d-0000-1000-8000-00805f9b34fb"))))
        assertFalse(plan.accepts(advertisement(null)))
        assertTrue(ScanPlan(ScanFilter(emptyList(), emptyList())).accepts(advertisement(null)))
    }

    @Test
    fun `scan results become the library's advertisements`() {
        val advertisement = AdvertisementMapping.toAdvertisement(
            address = "24:0A:C4:00:00:01",
            localName = "PROV_1A2B3C",
            rssi = -200_000,
            serviceUuids = listOf(prov, prov),
            manufacturerData = mapOf(0x02E5 to byteArrayOf(1), 0x1_0000 to byteArrayOf(2)),
            serviceData = mapOf(other to byteArrayOf(3)),
            txPower = 127,
        )
        assertEquals("24:0A:C4:00:00:01", advertisement.peripheralId)
        assertEquals(Short.MIN_VALUE, advertisement.rssi)
        assertEquals(listOf(prov), advertisement.serviceUuids)
        assertEquals(setOf(0x02E5.toUShort()), advertisement.manufacturerData.keys)
        assertEquals(setOf(other), advertisement.serviceData.keys)
        assertNull(advertisement.txPower)
        assertNull(AdvertisementMapping.toAdvertisement("a", "", 0, emptyList(), emptyMap(), emptyMap(), Int.MIN_VALUE).txPower)
        assertNull(AdvertisementMapping.toAdvertisement("a", "", 0, emptyList(), emptyMap(), emptyMap(), null).localName)
        assertEquals((-12).toShort(), AdvertisementMapping.toAdvertisement("a", null, 0, emptyList(), emptyMap(), emptyMap(), -12).txPower)
    }
}
