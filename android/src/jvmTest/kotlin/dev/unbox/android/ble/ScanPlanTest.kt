package dev.unbox.android.ble

import dev.unbox.Advertisement
import dev.unbox.ScanFilter
import java.util.UUID
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Scan filters split between the platform and software, UUID spelling, advertisement mapping. */
class ScanPlanTest {
    private val prov = "021a9004-0382-4aea-bff4-6b3f1c5adfb4"
    private val other = "1775244d-6b43-439b-877c-060f2d9bed07"

    private fun advertisement(name: String?, vararg services: String) = Advertisement(
        peripheralId = "AA:BB:CC:DD:EE:FF", localName = name, rssi = -60, serviceUuids = services.toList(),
        manufacturerData = emptyMap(), serviceData = emptyMap(), txPower = null,
    )

    @Test
    fun `service UUIDs go to the platform only when no name prefix could match devices without them`() {
        assertEquals(listOf(UUID.fromString(prov)), ScanPlan(ScanFilter(listOf(prov.uppercase()), emptyList())).platformServices)
        assertEquals(emptyList<UUID>(), ScanPlan(ScanFilter(listOf(prov), listOf("PROV_"))).platformServices)
        assertEquals(emptyList<UUID>(), ScanPlan(ScanFilter(emptyList(), emptyList())).platformServices)
    }

    @Test
    fun `a device matches by any service or any name prefix, names ignoring case`() {
        val plan = ScanPlan(ScanFilter(listOf(prov, other), listOf("PROV_")))
        assertTrue(plan.accepts(advertisement(null, prov.uppercase())))
        assertTrue(plan.accepts(advertisement("prov_1a2b3c")))
        assertFalse(plan.accepts(advertisement("Headphones", "0000180d-0000-1000-8000-00805f9b34fb")))
        assertFalse(plan.accepts(advertisement(null)))
        assertTrue(ScanPlan(ScanFilter(emptyList(), emptyList())).accepts(advertisement(null)))
    }

    @Test
    fun `UUIDs parse in 16, 32 and 128 bits and print in the library's spelling`() {
        assertEquals(BleUuids.USER_DESCRIPTION, BleUuids.parse("2901"))
        assertEquals(BleUuids.USER_DESCRIPTION, BleUuids.parse("0x2901"))
        assertEquals(BleUuids.USER_DESCRIPTION, BleUuids.parse("00002901"))
        assertEquals("00002901-0000-1000-8000-00805f9b34fb", BleUuids.format(BleUuids.USER_DESCRIPTION))
        assertEquals(prov, BleUuids.format(BleUuids.parse(prov.uppercase())!!))
        assertNull(BleUuids.parse("29011"))
        assertNull(BleUuids.parse("not-a-uuid"))
    }

    @Test
    fun `scan results become the library's advertisements`() {
        val advertisement = AdvertisementMapping.toAdvertisement(
            address = "24:0A:C4:00:00:01",
            localName = "PROV_1A2B3C",
            rssi = -200_000,
            serviceUuids = listOf(UUID.fromString(prov), UUID.fromString(prov)),
            manufacturerData = mapOf(0x02E5 to byteArrayOf(1), 0x1_0000 to byteArrayOf(2)),
            serviceData = mapOf(UUID.fromString(other.uppercase()) to byteArrayOf(3)),
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
