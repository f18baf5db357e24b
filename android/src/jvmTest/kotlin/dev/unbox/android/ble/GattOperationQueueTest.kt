package dev.unbox.android.ble

import dev.unbox.BleException
import java.util.Collections
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** One GATT request at a time, completed by its own callback only. */
class GattOperationQueueTest {
    private val write = GattOperation(GattOperationKind.WRITE_CHARACTERISTIC, "0000ff52-0000-1000-8000-00805f9b34fb")
    private val read = GattOperation(GattOperationKind.READ_CHARACTERISTIC, "0000ff52-0000-1000-8000-00805f9b34fb")

    @Test
    fun `requests start one after the other, each when the previous callback came`(): Unit = runBlocking(Dispatchers.Default) {
        val queue = GattOperationQueue(timeoutMillis = 10_000)
        val started = Collections.synchronizedList(mutableListOf<String>())
        val first = async(start = CoroutineStart.UNDISPATCHED) { queue.submit(write) { started.add("write") } }
        val second = async { queue.submit(read) { started.add("read") } }
        withTimeout(5_000) { while (started.isEmpty()) yield() }
        repeat(20) { yield() }
        assertEquals(listOf("write"), started, "the read waits for the write's callback")

        assertFalse(queue.complete(read, GattOutcome(GattStatus.SUCCESS)), "a callback for another request is ignored")
        assertTrue(queue.complete(write, GattOutcome(GattStatus.SUCCESS)))
        assertEquals(GattStatus.SUCCESS, first.await().status)

        withTimeout(5_000) { while (started.size < 2) yield() }
        assertTrue(queue.complete(read, GattOutcome(GattStatus.SUCCESS, byteArrayOf(1, 2, 3))))
        assertArrayEquals(byteArrayOf(1, 2, 3), second.await().value)
        assertEquals(listOf("write", "read"), started)
    }

    @Test
    fun `a request the stack refuses to start fails at once`(): Unit = runBlocking {
        val queue = GattOperationQueue(timeoutMillis = 10_000)
        val error = assertThrows(BleException.Other::class.java) { runBlocking { queue.submit(read) { false } } }
        assertTrue(error.reason.contains("read characteristic of 0000ff52"), error.reason)
        assertEquals(7, queue.submit(read) { queue.complete(read, GattOutcome(7)) }.status, "the queue is free again")
    }

    @Test
    fun `a callback that never comes is a timeout, and a late one is ignored`(): Unit = runBlocking {
        val queue = GattOperationQueue(timeoutMillis = 50)
        assertThrows(BleException.Timeout::class.java) { runBlocking { queue.submit(write) { true } } }
        assertFalse(queue.complete(write, GattOutcome(GattStatus.SUCCESS)))
    }

    @Test
    fun `a dropped link fails the request in flight and every later one`(): Unit = runBlocking(Dispatchers.Default) {
        val queue = GattOperationQueue(timeoutMillis = 10_000)
        val inFlight = async(start = CoroutineStart.UNDISPATCHED) { runCatching { queue.submit(write) { true } } }
        queue.close(BleException.Disconnected())
        assertInstanceOf(BleException.Disconnected::class.java, inFlight.await().exceptionOrNull())
        var started = false
        assertThrows(BleException.Disconnected::class.java) { runBlocking { queue.submit(read) { started = true; true } } }
        assertFalse(started)
    }
}
