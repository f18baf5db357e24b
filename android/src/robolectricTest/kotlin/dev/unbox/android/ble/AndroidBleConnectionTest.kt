package dev.unbox.android.ble

import android.Manifest
import android.bluetooth.BluetoothAdapter
import android.bluetooth.BluetoothManager
import dev.unbox.BleException
import dev.unbox.core.GattCharacteristic
import dev.unbox.NoHandle
import dev.unbox.NotificationSink
import dev.unbox.android.robolectric.Peripheral
import dev.unbox.android.robolectric.PeripheralGatt
import dev.unbox.android.robolectric.Phone
import dev.unbox.android.robolectric.ShellTestRunner
import java.util.Collections
import java.util.UUID
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config

/**
 * The shell's GATT central ([AndroidBleCentral], [AndroidBleConnection]) against Robolectric's
 * BluetoothAdapter and BluetoothDevice, with [PeripheralGatt] answering as an ESP-IDF
 * provisioning peripheral would (protocomm_ble.c: one service, a 0x2901 user description per
 * endpoint, each request written then its response read). Robolectric shadows BluetoothGatt from
 * API 26, so the levels here are 28, 29, 33 (the new read callbacks and write call) and 35.
 */
@RunWith(ShellTestRunner::class)
@Config(sdk = [28, 29, 33, 35], shadows = [PeripheralGatt::class])
class AndroidBleConnectionTest {
    private val app = RuntimeEnvironment.getApplication()
    private val settings = BleSettings(retry = GattRetryPolicy(maxAttempts = 3, firstDelayMillis = 0, maxDelayMillis = 0))

    @Before
    fun peripheralNearby() {
        Phone.grant(Manifest.permission.BLUETOOTH_CONNECT, Manifest.permission.BLUETOOTH_SCAN, Manifest.permission.ACCESS_FINE_LOCATION)
        shadowOf(app.getSystemService(BluetoothManager::class.java).adapter).setEnabled(true)
        Peripheral.reset()
        Peripheral.addService(
            SERVICE,
            listOf(SESSION to "prov-session", CONFIG to "prov-config", VERSION to "proto-ver\u0000", UNNAMED to null),
        )
        // Each endpoint answers the request last written to it (here: the bytes reversed).
        for (endpoint in listOf(SESSION, CONFIG, VERSION)) Peripheral.answers[endpoint] = { written -> written?.reversedArray() }
    }

    @Test
    fun `a connection negotiates the MTU, discovers the service and names its endpoints from 0x2901`(): Unit = runBlocking {
        val connection = opened()

        assertEquals(listOf(517), Peripheral.mtuRequests)
        assertEquals(247, connection.mtu().toInt())
        val characteristics = connection.discover(SERVICE)
        assertEquals(
            listOf(
                GattCharacteristic(SESSION, "prov-session"),
                GattCharacteristic(CONFIG, "prov-config"),
                GattCharacteristic(VERSION, "proto-ver"),
                GattCharacteristic(UNNAMED, null),
            ),
            characteristics,
        )
        try {
            connection.discover(UUID.fromString("0000ffff-0000-1000-8000-00805f9b34fb"))
            fail("found a service the device does not have")
        } catch (missing: BleException.ServiceNotFound) {
            // Typed, with the UUID asked for.
        }
        connection.disconnect()
    }

    @Test
    fun `a request is written then its response read, whole even when longer than the MTU`(): Unit = runBlocking {
        Peripheral.mtu = 185
        val connection = opened()
        connection.discover(SERVICE)

        connection.write(SESSION, byteArrayOf(1, 2, 3))
        assertArrayEquals(byteArrayOf(3, 2, 1), connection.read(SESSION))

        val long = ByteArray(500) { it.toByte() } // beyond MTU - 3 = 182: the stack's prepared writes
        connection.write(CONFIG, long)
        assertArrayEquals(long, Peripheral.writes.last().second)
        assertArrayEquals(long.reversedArray(), connection.read(CONFIG))

        try {
            connection.write(CONFIG, ByteArray(513))
            fail("a value over the ATT limit of 512 bytes was written")
        } catch (tooLong: BleException) {
            assertEquals("refused before the stack saw it", 2, Peripheral.writes.size)
        }
        connection.disconnect()
    }

    @Test
    fun `a connection failing with status 133 is closed and retried`(): Unit = runBlocking {
        Peripheral.connectStatuses.addAll(listOf(133, 133, 0))

        AndroidBleCentral(app, settings).connect(ADDRESS)

        assertEquals(3, Peripheral.clients.size)
        assertTrue("each failed attempt's client is closed", Peripheral.clients.take(2).all(PeripheralGatt::closedByPhone))
        assertTrue(!Peripheral.clients.last().closedByPhone)
        assertEquals(listOf(517), Peripheral.mtuRequests)
    }

    @Test
    fun `a connection failing with 133 on every attempt gives up with a typed error`(): Unit = runBlocking {
        Peripheral.connectStatuses.addAll(listOf(133, 133, 133))
        try {
            AndroidBleCentral(app, settings).connect(ADDRESS)
            fail("connected to a device that never answered")
        } catch (failed: BleException) {
            assertTrue(failed.message!!, failed.message!!.contains("133"))
        }
        assertEquals(3, Peripheral.clients.size)
        assertTrue(Peripheral.clients.all(PeripheralGatt::closedByPhone))
    }

    @Test
    fun `the link dropping during a request fails it and every later one as Disconnected`(): Unit = runBlocking {
        Peripheral.answers[SESSION] = { null } // the device resets instead of answering
        val connection = opened()
        connection.discover(SERVICE)
        connection.write(SESSION, byteArrayOf(9))
        val read = async(SupervisorJob()) { connection.read(SESSION) }
        yield()
        assertTrue(!read.isCompleted)

        Peripheral.dropLink(status = 8)

        try {
            read.await()
            fail("the read completed on a dropped link")
        } catch (dropped: BleException.Disconnected) {
            // The request in flight fails at once, not at its timeout.
        }
        try {
            connection.write(SESSION, byteArrayOf(1))
            fail("wrote on a dropped link")
        } catch (dropped: BleException.Disconnected) {
            // And so does every later one.
        }
        assertTrue("the client is closed", Peripheral.clients.single().closedByPhone)
        connection.disconnect() // no error: the library always may
    }

    @Test
    fun `disconnecting closes the client, and an address that is not one is NotFound`(): Unit = runBlocking {
        val connection = opened()
        connection.disconnect()
        assertTrue(Peripheral.clients.single().closedByPhone)

        try {
            AndroidBleCentral(app, settings).connect("not-an-address")
            fail("connected to a malformed address")
        } catch (missing: BleException.NotFound) {
            assertEquals(1, Peripheral.clients.size)
        }
    }

    @Test
    fun `a subscription writes the 0x2902 descriptor and hands every notification over in order`(): Unit = runBlocking {
        // Improv's state characteristic (improv-wifi.com ble.md: read, notify).
        Peripheral.addService(IMPROV, listOf(IMPROV_STATE to null), notifying = setOf(IMPROV_STATE))
        val connection = opened()
        connection.discover(IMPROV)
        val heard = Collections.synchronizedList(mutableListOf<Pair<UUID, List<Byte>>>())
        val sink = object : NotificationSink(NoHandle) {
            override fun onNotification(characteristic: UUID, value: ByteArray) {
                heard += characteristic to value.toList()
            }
        }

        connection.subscribe(IMPROV_STATE, sink)

        assertEquals(listOf(IMPROV_STATE to listOf<Byte>(1, 0)), Peripheral.configurations.map { it.first to it.second.toList() })
        Peripheral.clients.last().notify(IMPROV_STATE, byteArrayOf(0x02))
        Peripheral.clients.last().notify(IMPROV_STATE, byteArrayOf(0x03))
        assertEquals(listOf(IMPROV_STATE to listOf<Byte>(2), IMPROV_STATE to listOf<Byte>(3)), heard.toList())
        try {
            connection.subscribe(SESSION, sink)
            fail("subscribed to a characteristic without notify")
        } catch (refused: BleException.Att) {
            assertEquals(6, refused.code.toInt())
        }
        connection.disconnect()
    }

    /** A connection to the peripheral, opened and its MTU negotiated as the central does. */
    private suspend fun opened(): AndroidBleConnection {
        val device = BluetoothAdapter.getDefaultAdapter().getRemoteDevice(ADDRESS)
        val connection = AndroidBleConnection(app, device, settings)
        assertEquals(GattStatus.SUCCESS, connection.open())
        connection.negotiateMtu()
        return connection
    }

    private companion object {
        const val ADDRESS = "24:0A:C4:12:34:56"
        val SERVICE: UUID = UUID.fromString("021a9004-0382-4aea-bff4-6b3f1c5adfb4")
        val SESSION: UUID = UUID.fromString("021aff51-0382-4aea-bff4-6b3f1c5adfb4")
        val CONFIG: UUID = UUID.fromString("021aff52-0382-4aea-bff4-6b3f1c5adfb4")
        val VERSION: UUID = UUID.fromString("021aff53-0382-4aea-bff4-6b3f1c5adfb4")
        val UNNAMED: UUID = UUID.fromString("021aff54-0382-4aea-bff4-6b3f1c5adfb4")
        val IMPROV: UUID = UUID.fromString("00467768-6228-2272-4663-277478268000")
        val IMPROV_STATE: UUID = UUID.fromString("00467768-6228-2272-4663-277478268001")
    }
}
