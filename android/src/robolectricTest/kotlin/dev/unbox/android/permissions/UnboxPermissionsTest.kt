package dev.unbox.android.permissions

import android.Manifest
import android.os.Build
import dev.unbox.android.robolectric.LibraryManifest
import dev.unbox.android.robolectric.Phone
import dev.unbox.android.robolectric.ShellTestRunner
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RuntimeEnvironment
import org.w3c.dom.Element

/**
 * [UnboxPermissions] on each API level's real permission checks and location setting: what an
 * app asks the person for, and that all of it is declared by the library's manifest at that level.
 */
@RunWith(ShellTestRunner::class)
class UnboxPermissionsTest {
    private val app = RuntimeEnvironment.getApplication()
    private val everything = Capability.values().toList()

    @Test
    fun `an app holding nothing asks for what this API level checks, and nothing more`() {
        val expected = when (Build.VERSION.SDK_INT) {
            24, 28 -> listOf(COARSE)
            29 -> listOf(FINE)
            else -> listOf(Manifest.permission.BLUETOOTH_SCAN, Manifest.permission.BLUETOOTH_CONNECT, FINE, NEARBY, COARSE)
        }
        val missing = UnboxPermissions.missing(app, everything)
        assertEquals(expected, UnboxPermissions.toRequest(missing))

        Phone.grant(*expected.toTypedArray())
        assertEquals(emptyList<String>(), UnboxPermissions.missing(app, everything))
    }

    @Test
    fun `joining a device's access point needs a runtime permission only from Android 13`() {
        val expected = if (Build.VERSION.SDK_INT >= 33) listOf(NEARBY) else emptyList()
        assertEquals(expected, UnboxPermissions.missing(app, listOf(Capability.WIFI_JOIN)))
        assertEquals(
            if (Build.VERSION.SDK_INT >= 31) listOf(Manifest.permission.BLUETOOTH_CONNECT) else emptyList<String>(),
            UnboxPermissions.missing(app, listOf(Capability.BLE_CONNECT)),
        )
    }

    @Test
    fun `every permission asked for is declared by the library's manifest at this level`() {
        val declared = LibraryManifest.document().getElementsByTagName("uses-permission").let { nodes ->
            (0 until nodes.length).map { nodes.item(it) as Element }
                .filter { declaration ->
                    val max = declaration.getAttributeNS(ANDROID, "maxSdkVersion")
                    max.isEmpty() || Build.VERSION.SDK_INT <= max.toInt()
                }
                .map { it.getAttributeNS(ANDROID, "name") }
        }
        val asked = UnboxPermissions.toRequest(UnboxPermissions.missing(app, everything))
        assertTrue("undeclared: ${asked - declared.toSet()}", declared.containsAll(asked))
        if (Build.VERSION.SDK_INT <= 30) assertTrue(declared.containsAll(listOf("android.permission.BLUETOOTH", "android.permission.BLUETOOTH_ADMIN")))
    }

    @Test
    fun `scans need the location setting, read where this API level keeps it`() {
        Phone.location(enabled = false)
        assertTrue(UnboxPermissions.locationServicesOff(app, listOf(Capability.WIFI_SCAN)))
        assertEquals("BLE scans need it before Android 12", Build.VERSION.SDK_INT < 31, UnboxPermissions.locationServicesOff(app, listOf(Capability.BLE_SCAN)))
        assertFalse(UnboxPermissions.locationServicesOff(app, listOf(Capability.WIFI_JOIN, Capability.BLE_CONNECT)))

        Phone.location(enabled = true)
        assertFalse(UnboxPermissions.locationServicesOff(app, everything))
    }

    private companion object {
        const val ANDROID = "http://schemas.android.com/apk/res/android"
        const val FINE = Manifest.permission.ACCESS_FINE_LOCATION
        const val COARSE = Manifest.permission.ACCESS_COARSE_LOCATION
        const val NEARBY = "android.permission.NEARBY_WIFI_DEVICES"
    }
}
