package dev.unbox.android.permissions

import dev.unbox.android.permissions.Capability.BLE_CONNECT
import dev.unbox.android.permissions.Capability.BLE_SCAN
import dev.unbox.android.permissions.Capability.WIFI_JOIN
import dev.unbox.android.permissions.Capability.WIFI_SCAN
import dev.unbox.android.permissions.RuntimePermission.ACCESS_COARSE_LOCATION
import dev.unbox.android.permissions.RuntimePermission.ACCESS_FINE_LOCATION
import dev.unbox.android.permissions.RuntimePermission.BLUETOOTH_CONNECT
import dev.unbox.android.permissions.RuntimePermission.BLUETOOTH_SCAN
import dev.unbox.android.permissions.RuntimePermission.NEARBY_WIFI_DEVICES
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Which runtime permissions each capability needs at each API level. */
class PermissionTableTest {
    private val everything = listOf(BLE_SCAN, BLE_CONNECT, WIFI_SCAN, WIFI_JOIN)

    @Test
    fun `each API level asks for what its Android checks`() {
        assertEquals(listOf(ACCESS_COARSE_LOCATION), PermissionTable.required(24, everything))
        assertEquals(listOf(ACCESS_COARSE_LOCATION), PermissionTable.required(28, everything))
        assertEquals(listOf(ACCESS_FINE_LOCATION), PermissionTable.required(29, everything))
        assertEquals(listOf(ACCESS_FINE_LOCATION), PermissionTable.required(30, everything))
        assertEquals(listOf(BLUETOOTH_SCAN, BLUETOOTH_CONNECT, ACCESS_FINE_LOCATION), PermissionTable.required(31, everything))
        assertEquals(listOf(BLUETOOTH_SCAN, BLUETOOTH_CONNECT, ACCESS_FINE_LOCATION), PermissionTable.required(32, everything))
        assertEquals(
            listOf(BLUETOOTH_SCAN, BLUETOOTH_CONNECT, ACCESS_FINE_LOCATION, NEARBY_WIFI_DEVICES),
            PermissionTable.required(33, everything),
        )
        assertEquals(listOf(BLUETOOTH_SCAN, BLUETOOTH_CONNECT), PermissionTable.required(35, listOf(BLE_SCAN, BLE_CONNECT)))
        assertEquals(emptyList<String>(), PermissionTable.required(28, listOf(BLE_CONNECT, WIFI_JOIN)))
    }

    @Test
    fun `missing lists what is not granted, and a precise-location request also asks for approximate`() {
        val granted = setOf(BLUETOOTH_SCAN, BLUETOOTH_CONNECT)
        val missing = PermissionTable.missing(34, everything) { it in granted }
        assertEquals(listOf(ACCESS_FINE_LOCATION, NEARBY_WIFI_DEVICES), missing)
        assertEquals(listOf(ACCESS_FINE_LOCATION, NEARBY_WIFI_DEVICES, ACCESS_COARSE_LOCATION), PermissionTable.toRequest(34, missing))
        assertEquals(listOf(ACCESS_FINE_LOCATION), PermissionTable.toRequest(30, listOf(ACCESS_FINE_LOCATION)))
        assertEquals(emptyList<String>(), PermissionTable.missing(34, listOf(BLE_SCAN)) { it in granted })
    }

    @Test
    fun `scans need the location setting where Android filters results by it`() {
        assertTrue(PermissionTable.needsLocationServices(30, BLE_SCAN))
        assertFalse(PermissionTable.needsLocationServices(31, BLE_SCAN))
        assertTrue(PermissionTable.needsLocationServices(35, WIFI_SCAN))
        assertFalse(PermissionTable.needsLocationServices(24, BLE_CONNECT))
        assertFalse(PermissionTable.needsLocationServices(24, WIFI_JOIN))
    }
}
