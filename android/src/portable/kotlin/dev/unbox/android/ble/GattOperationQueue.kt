package dev.unbox.android.ble

import dev.unbox.BleException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withTimeoutOrNull

/** The kinds of GATT request, one callback each. */
enum class GattOperationKind {
    /** `requestMtu` → `onMtuChanged`. */
    REQUEST_MTU,

    /** `discoverServices` → `onServicesDiscovered`. */
    DISCOVER_SERVICES,

    /** `readDescriptor` → `onDescriptorRead`. */
    READ_DESCRIPTOR,

    /** `writeCharacteristic` → `onCharacteristicWrite`. */
    WRITE_CHARACTERISTIC,

    /** `readCharacteristic` → `onCharacteristicRead`. */
    READ_CHARACTERISTIC,

    /** `writeDescriptor` (the 0x2902 configuration, to subscribe) → `onDescriptorWrite`. */
    WRITE_DESCRIPTOR,
}

/** Identifies a request so a late or foreign callback cannot complete another one. */
data class GattOperation(
    /** What is requested. */
    val kind: GattOperationKind,
    /** The characteristic (or the descriptor's characteristic) concerned, when there is one. */
    val target: String? = null,
)

/** What a GATT callback reported: its status and, for reads and MTU, a value. */
class GattOutcome(
    /** The GATT status ([GattStatus.SUCCESS] when it worked). */
    val status: Int,
    /** The value read, if any. */
    val value: ByteArray? = null,
    /** The MTU, for [GattOperationKind.REQUEST_MTU]. */
    val mtu: Int = 0,
)

/**
 * Android's GATT allows one outstanding request per connection and answers through callbacks.
 * This queue runs one request at a time in call order: [submit] waits its turn, starts the
 * request, and suspends until the matching callback calls [complete], the [timeoutMillis] pass
 * ([BleException.Timeout]) or the link drops ([close]).
 */
class GattOperationQueue(private val timeoutMillis: Long) {
    private class InFlight(val operation: GattOperation) {
        val outcome = CompletableDeferred<GattOutcome>()
    }

    private val turn = Mutex()
    private val lock = Any()
    private var inFlight: InFlight? = null
    private var closedWith: BleException? = null

    /**
     * Starts [operation] with [start] (false: the stack refused to start it) once the previous
     * request has finished, and returns what its callback reported.
     */
    suspend fun submit(operation: GattOperation, start: () -> Boolean): GattOutcome = turn.withLock {
        val request = InFlight(operation)
        synchronized(lock) {
            closedWith?.let { throw it }
            inFlight = request
        }
        try {
            if (!start()) {
                throw BleException.Other("the Bluetooth stack refused to start ${describe(operation)}")
            }
            withTimeoutOrNull(timeoutMillis) { request.outcome.await() } ?: throw BleException.Timeout()
        } finally {
            synchronized(lock) {
                if (inFlight === request) inFlight = null
            }
        }
    }

    /** Reports a callback's outcome; ignored unless it answers the request in flight. Returns whether it did. */
    fun complete(operation: GattOperation, outcome: GattOutcome): Boolean {
        val request = synchronized(lock) { inFlight?.takeIf { it.operation == operation } } ?: return false
        return request.outcome.complete(outcome)
    }

    /** Fails the request in flight and every later one with [error] (the link is gone). */
    fun close(error: BleException) {
        val request = synchronized(lock) {
            if (closedWith == null) closedWith = error
            inFlight
        }
        request?.outcome?.completeExceptionally(error)
    }

    private fun describe(operation: GattOperation): String =
        operation.kind.name.lowercase().replace('_', ' ') + (operation.target?.let { " of $it" } ?: "")
}
