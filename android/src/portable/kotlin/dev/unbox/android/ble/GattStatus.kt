package dev.unbox.android.ble

import dev.unbox.core.AttOperation
import dev.unbox.BleException
import dev.unbox.describeAttOperation

/**
 * Android's GATT status codes and what they mean for the library. Codes 1-0x7F and 0x80-0xFF are
 * ATT errors the peripheral sent (or Android's names for them); 133 (`GATT_ERROR`) and 257
 * (`GATT_FAILURE`) are the stack's own catch-alls; connection-state callbacks reuse the HCI
 * disconnect reasons (8 supervision timeout, 19 remote closed, 22 local host, 62 failed to establish).
 */
object GattStatus {
    /** The operation succeeded. */
    const val SUCCESS = 0

    /** ATT: Request Not Supported (e.g. subscribing to a characteristic without notify or indicate). */
    const val REQUEST_NOT_SUPPORTED = 6

    /** HCI: the link supervision timed out (the device went out of range). */
    const val CONNECTION_TIMEOUT = 8

    /** HCI: the peripheral closed the connection. */
    const val REMOTE_USER_TERMINATED = 19

    /** HCI: this phone closed the connection. */
    const val LOCAL_HOST_TERMINATED = 22

    /** HCI: the LMP/LL response timed out. */
    const val LMP_RESPONSE_TIMEOUT = 34

    /** HCI: the connection could not be established. */
    const val CONNECTION_FAILED_TO_ESTABLISH = 62

    /** Android's catch-all `GATT_ERROR`, famous when connecting. */
    const val GATT_ERROR = 133

    /** Android's `GATT_CONNECTION_CONGESTED`. */
    const val CONNECTION_CONGESTED = 143

    /** Android's `GATT_FAILURE`. */
    const val GATT_FAILURE = 257

    private val RETRYABLE_CONNECT = setOf(CONNECTION_TIMEOUT, LMP_RESPONSE_TIMEOUT, CONNECTION_FAILED_TO_ESTABLISH, GATT_ERROR, GATT_FAILURE)

    /** Whether a connection attempt that ended with [status] is worth another attempt. */
    fun isRetryableConnectFailure(status: Int): Boolean = status in RETRYABLE_CONNECT

    /** A readable name for [status]. */
    fun describe(status: Int): String = when (status) {
        SUCCESS -> "success"
        CONNECTION_TIMEOUT -> "connection timeout (8)"
        REMOTE_USER_TERMINATED -> "closed by the device (19)"
        LOCAL_HOST_TERMINATED -> "closed by the phone (22)"
        LMP_RESPONSE_TIMEOUT -> "link-layer response timeout (34)"
        CONNECTION_FAILED_TO_ESTABLISH -> "connection failed to establish (62)"
        GATT_ERROR -> "GATT_ERROR (133)"
        CONNECTION_CONGESTED -> "connection congested (143)"
        GATT_FAILURE -> "GATT_FAILURE (257)"
        else -> "status $status"
    }

    /** The error for a connection attempt that ended with [status]. */
    fun connectFailure(status: Int): BleException =
        BleException.ConnectFailed("the Bluetooth stack reported ${describe(status)}")

    /**
     * The error for a GATT [operation] that completed with [status]: an ATT error the device sent
     * as [BleException.Att]; the stack's own failures as [BleException.Other].
     */
    fun operationFailure(operation: AttOperation, status: Int): BleException = when (status) {
        GATT_ERROR, CONNECTION_CONGESTED, GATT_FAILURE -> stackFailure(operation, status)
        in 1..0xFF -> BleException.Att(operation, status.toUByte())
        else -> stackFailure(operation, status)
    }

    private fun stackFailure(operation: AttOperation, status: Int): BleException {
        return BleException.Other("the Bluetooth stack failed the ${describeAttOperation(operation)}: ${describe(status)}")
    }
}

/**
 * When to try a failed connection again (Android's status 133 often clears after closing the
 * `BluetoothGatt` and waiting): up to [maxAttempts] attempts in all, waiting [firstDelayMillis]
 * before the second and doubling up to [maxDelayMillis].
 */
data class GattRetryPolicy(
    /** Attempts in all, at least 1. */
    val maxAttempts: Int = 3,
    /** Wait before the second attempt. */
    val firstDelayMillis: Long = 400,
    /** Longest wait between attempts. */
    val maxDelayMillis: Long = 2_000,
) {
    init {
        require(maxAttempts >= 1) { "maxAttempts must be at least 1" }
        require(firstDelayMillis >= 0 && maxDelayMillis >= firstDelayMillis) { "delays must be 0 <= first <= max" }
    }

    /** Whether attempt number [attempt] (from 1) that failed with [status] is followed by another. */
    fun shouldRetry(attempt: Int, status: Int): Boolean =
        attempt < maxAttempts && GattStatus.isRetryableConnectFailure(status)

    /** How long to wait before attempt number [attempt] (from 2). */
    fun delayBefore(attempt: Int): Long {
        val doublings = (attempt - 2).coerceIn(0, 30)
        return (firstDelayMillis shl doublings).coerceAtMost(maxDelayMillis)
    }
}

/** GATT value rules the stack leaves to the app. */
object GattValues {
    /** Longest attribute value ATT allows (the stack splits longer writes into prepared writes up to this). */
    const val MAX_ATTRIBUTE_LENGTH = 512

    /** The ATT MTU a link starts with. */
    const val DEFAULT_MTU = 23

    /** The MTU to ask for: the largest Android negotiates. */
    const val REQUESTED_MTU = 517

    /** Throws [BleException.ValueTooLong] when [length] bytes cannot be written to an attribute. */
    fun checkWritable(length: Int) {
        if (length > MAX_ATTRIBUTE_LENGTH) {
            throw BleException.ValueTooLong(length.toULong(), MAX_ATTRIBUTE_LENGTH.toULong())
        }
    }

    /** A 0x2901 User Description as text: UTF-8 without trailing NULs; null when empty or not UTF-8. */
    fun userDescription(raw: ByteArray?): String? {
        if (raw == null) return null
        val end = raw.indexOfLast { it != 0.toByte() } + 1
        if (end == 0) return null
        val decoder = Charsets.UTF_8.newDecoder()
        return try {
            decoder.decode(java.nio.ByteBuffer.wrap(raw, 0, end)).toString()
        } catch (invalid: java.nio.charset.CharacterCodingException) {
            null
        }
    }
}
