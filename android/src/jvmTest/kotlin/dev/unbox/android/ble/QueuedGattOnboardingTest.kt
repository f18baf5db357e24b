package dev.unbox.android.ble

import java.util.UUID
import dev.unbox.AdvertisementSink
import dev.unbox.core.AttOperation
import dev.unbox.BleCentral
import dev.unbox.BleConnection
import dev.unbox.BleException
import dev.unbox.BleLink
import dev.unbox.DeviceCredentials
import dev.unbox.DeviceTarget
import dev.unbox.core.GattCharacteristic
import dev.unbox.NotificationSink
import dev.unbox.OnboardingClient
import dev.unbox.core.ScanFilter
import dev.unbox.android.auth.AuthorizationBroker
import dev.unbox.android.flow.OnboardingUpdate
import dev.unbox.android.flow.onboardingFlow
import dev.unbox.android.support.BrokeredBrowser
import dev.unbox.android.support.SimulatorWorld
import dev.unbox.discoverAuthSession
import dev.unbox.memorySecretStore
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.last
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * A whole BLE onboarding whose every GATT request goes through [GattOperationQueue] the way the
 * Android connection uses it: the request is started, and a callback on another thread (here the
 * simulated peripheral answering) completes it.
 */
class QueuedGattOnboardingTest {
    private val callbacks = CoroutineScope(SupervisorJob() + Dispatchers.IO)

    @AfterEach
    fun stopCallbacks() = callbacks.cancel()

    @Test
    fun `a BLE onboarding runs with one GATT request at a time, completed by callbacks`(): Unit = runBlocking {
        val info = SimulatorWorld.info
        val device = info.devices[5]
        val central = CallbackStyleCentral(SimulatorWorld.simulator.bleCentral(), callbacks)
        val store = memorySecretStore()
        val account = discoverAuthSession(SimulatorWorld.authConfig(), BrokeredBrowser(AuthorizationBroker()), store)
        val client = OnboardingClient(account, info.cloudUrl, central, null, store, SimulatorWorld.simulator.settings())
        val request = SimulatorWorld.softApRequest(5).copy(
            target = DeviceTarget.Ble(device.peripheralId, info.bleService),
            credentials = DeviceCredentials.Sec2("wifiprov", info.devicePassword),
        )

        val last = withTimeout(60_000) { client.onboardingFlow(request).last() }

        assertInstanceOf(OnboardingUpdate.Finished::class.java, last)
        assertTrue(central.requests.get() > 10, "${central.requests} GATT requests")
    }

    private class CallbackStyleCentral(private val radio: BleCentral, private val callbacks: CoroutineScope) : BleCentral {
        val requests = AtomicInteger()

        override suspend fun startScan(filter: ScanFilter, sink: AdvertisementSink) = radio.startScan(filter, sink)

        override suspend fun stopScan() = radio.stopScan()

        override suspend fun connect(peripheralId: String): BleLink =
            BleLink(CallbackStyleConnection(radio.connect(peripheralId).connection(), callbacks, requests))
    }

    private class CallbackStyleConnection(
        private val peripheral: BleConnection,
        private val callbacks: CoroutineScope,
        private val requests: AtomicInteger,
    ) : BleConnection {
        private val queue = GattOperationQueue(timeoutMillis = 10_000)
        @Volatile private var discovered: List<GattCharacteristic> = emptyList()

        override fun mtu(): UShort = peripheral.mtu()

        override suspend fun discover(service: UUID): List<GattCharacteristic> {
            val operation = GattOperation(GattOperationKind.DISCOVER_SERVICES)
            val outcome = queue.submit(operation) {
                answerLater(operation) {
                    discovered = peripheral.discover(service)
                    null
                }
            }
            if (outcome.status != GattStatus.SUCCESS) throw BleException.ServiceNotFound(service)
            return discovered
        }

        override suspend fun write(characteristic: UUID, value: ByteArray) {
            GattValues.checkWritable(value.size)
            val operation = GattOperation(GattOperationKind.WRITE_CHARACTERISTIC, characteristic.toString())
            val outcome = queue.submit(operation) { answerLater(operation) { peripheral.write(characteristic, value).let { null } } }
            if (outcome.status != GattStatus.SUCCESS) throw GattStatus.operationFailure(AttOperation.WRITE, outcome.status)
        }

        override suspend fun read(characteristic: UUID): ByteArray {
            val operation = GattOperation(GattOperationKind.READ_CHARACTERISTIC, characteristic.toString())
            val outcome = queue.submit(operation) { answerLater(operation) { peripheral.read(characteristic) } }
            if (outcome.status != GattStatus.SUCCESS) throw GattStatus.operationFailure(AttOperation.READ, outcome.status)
            return outcome.value ?: ByteArray(0)
        }

        override suspend fun subscribe(characteristic: UUID, sink: NotificationSink) {
            val operation = GattOperation(GattOperationKind.WRITE_DESCRIPTOR, characteristic.toString())
            val outcome = queue.submit(operation) { answerLater(operation) { peripheral.subscribe(characteristic, sink).let { null } } }
            if (outcome.status != GattStatus.SUCCESS) throw GattStatus.operationFailure(AttOperation.WRITE, outcome.status)
        }

        override suspend fun disconnect() {
            peripheral.disconnect()
            queue.close(BleException.Disconnected())
        }

        /** Starts [request] and reports its outcome from another thread, as Android's binder thread would. */
        private fun answerLater(operation: GattOperation, request: suspend () -> ByteArray?): Boolean {
            requests.incrementAndGet()
            callbacks.launch {
                val outcome = runCatching { request() }
                    .fold({ GattOutcome(GattStatus.SUCCESS, it) }, { GattOutcome(GattStatus.GATT_ERROR) })
                queue.complete(operation, outcome)
            }
            return true
        }
    }
}
