package dev.unbox.android.ble

import dev.unbox.core.AttOperation
import dev.unbox.BleException
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** GATT statuses, connection retries and value rules. */
class GattRulesTest {
    @Test
    fun `status 133 and link failures are retried, refusals are not`() {
        val policy = GattRetryPolicy(maxAttempts = 3, firstDelayMillis = 400, maxDelayMillis = 1_000)
        assertTrue(policy.shouldRetry(1, GattStatus.GATT_ERROR))
        assertTrue(policy.shouldRetry(2, GattStatus.CONNECTION_FAILED_TO_ESTABLISH))
        assertFalse(policy.shouldRetry(3, GattStatus.GATT_ERROR), "three attempts in all")
        assertFalse(policy.shouldRetry(1, GattStatus.REMOTE_USER_TERMINATED))
        assertEquals(listOf(400L, 800L, 1_000L, 1_000L), (2..5).map(policy::delayBefore))
        assertThrows(IllegalArgumentException::class.java) { GattRetryPolicy(maxAttempts = 0) }
    }

    @Test
    fun `a failed connection says what the stack reported`() {
        val error = assertInstanceOf(BleException.ConnectFailed::class.java, GattStatus.connectFailure(133))
        assertEquals("the Bluetooth stack reported GATT_ERROR (133)", error.reason)
    }

    @Test
    fun `ATT errors from the device keep their code, stack failures do not pretend to be ATT`() {
        val att = assertInstanceOf(BleException.Att::class.java, GattStatus.operationFailure(AttOperation.WRITE, 0x0D))
        assertEquals(AttOperation.WRITE to 0x0D.toUByte(), att.operation to att.code)
        assertInstanceOf(BleException.Att::class.java, GattStatus.operationFailure(AttOperation.READ, 5))
        for (status in listOf(GattStatus.GATT_ERROR, GattStatus.CONNECTION_CONGESTED, GattStatus.GATT_FAILURE, 0x1234)) {
            assertInstanceOf(BleException.Other::class.java, GattStatus.operationFailure(AttOperation.READ, status))
        }
        val discovery = GattStatus.operationFailure(AttOperation.SERVICE_DISCOVERY, GattStatus.GATT_ERROR)
        assertEquals("the Bluetooth stack failed the service discovery: GATT_ERROR (133)", (discovery as BleException.Other).reason)
    }

    @Test
    fun `values up to 512 bytes can be written, the stack splits them`() {
        GattValues.checkWritable(GattValues.MAX_ATTRIBUTE_LENGTH)
        val error = assertThrows(BleException.ValueTooLong::class.java) { GattValues.checkWritable(513) }
        assertEquals(513uL to 512uL, error.len to error.max)
    }

    @Test
    fun `user descriptions are UTF-8 without trailing NULs`() {
        assertEquals("prov-session", GattValues.userDescription("prov-session\u0000\u0000".toByteArray()))
        assertEquals("custom-ü", GattValues.userDescription("custom-ü".toByteArray()))
        assertNull(GattValues.userDescription(byteArrayOf(0, 0)))
        assertNull(GattValues.userDescription(byteArrayOf(0xC3.toByte(), 0x28)))
        assertNull(GattValues.userDescription(null))
    }
}
