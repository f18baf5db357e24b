package dev.unbox.android.ble

import android.annotation.TargetApi
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothProfile
import android.bluetooth.BluetoothStatusCodes
import android.content.Context
import android.os.Build
import dev.unbox.core.AttOperation
import dev.unbox.BleConnection
import dev.unbox.BleException
import dev.unbox.core.GattCharacteristic
import dev.unbox.NotificationSink
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.withTimeoutOrNull

/**
 * One GATT connection (the library's [BleConnection]). Every request goes through a
 * [GattOperationQueue]; a link that drops fails the request in flight and all later ones with
 * [BleException.Disconnected]. Values longer than MTU − 3 are written and read whole: Android's
 * stack does the prepared writes and blob reads.
 */
internal class AndroidBleConnection(
    private val context: Context,
    private val device: BluetoothDevice,
    private val settings: BleSettings,
) : BleConnection {
    private val queue = GattOperationQueue(settings.operationTimeoutMillis)
    private val connected = CompletableDeferred<Int>()
    private val disconnected = CompletableDeferred<Unit>()
    private val released = AtomicBoolean(false)
    private val negotiatedMtu = AtomicInteger(GattValues.DEFAULT_MTU)
    @Volatile private var gatt: BluetoothGatt? = null
    @Volatile private var servicesDiscovered = false
    private val sinks = ConcurrentHashMap<String, NotificationSink>()

    private val callback = object : BluetoothGattCallback() {
        override fun onConnectionStateChange(gatt: BluetoothGatt, status: Int, newState: Int) {
            // The stack may answer before connectGatt has returned the client: keep it, so that
            // releasing a failed attempt closes it.
            this@AndroidBleConnection.gatt = gatt
            when (newState) {
                // A failed attempt may report itself here too; a disconnect follows.
                BluetoothProfile.STATE_CONNECTED -> connected.complete(status)
                BluetoothProfile.STATE_DISCONNECTED -> {
                    // While connecting: the attempt failed with `status` (133 and friends).
                    // Once connected: the link dropped.
                    connected.complete(if (status == GattStatus.SUCCESS) GattStatus.GATT_ERROR else status)
                    queue.close(BleException.Disconnected())
                    disconnected.complete(Unit)
                    release()
                }
            }
        }

        override fun onMtuChanged(gatt: BluetoothGatt, mtu: Int, status: Int) {
            queue.complete(GattOperation(GattOperationKind.REQUEST_MTU), GattOutcome(status, mtu = mtu))
        }

        override fun onServicesDiscovered(gatt: BluetoothGatt, status: Int) {
            queue.complete(GattOperation(GattOperationKind.DISCOVER_SERVICES), GattOutcome(status))
        }

        override fun onCharacteristicWrite(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, status: Int) {
            queue.complete(GattOperation(GattOperationKind.WRITE_CHARACTERISTIC, key(characteristic.uuid)), GattOutcome(status))
        }

        // API 33+: the value arrives as a parameter.
        override fun onCharacteristicRead(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, value: ByteArray, status: Int) {
            queue.complete(GattOperation(GattOperationKind.READ_CHARACTERISTIC, key(characteristic.uuid)), GattOutcome(status, value))
        }

        // Before API 33 (on 33+ the system calls the overload above instead).
        @Suppress("DEPRECATION", "OVERRIDE_DEPRECATION")
        override fun onCharacteristicRead(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, status: Int) {
            queue.complete(GattOperation(GattOperationKind.READ_CHARACTERISTIC, key(characteristic.uuid)), GattOutcome(status, characteristic.value))
        }

        override fun onDescriptorRead(gatt: BluetoothGatt, descriptor: BluetoothGattDescriptor, status: Int, value: ByteArray) {
            queue.complete(GattOperation(GattOperationKind.READ_DESCRIPTOR, key(descriptor.characteristic.uuid)), GattOutcome(status, value))
        }

        override fun onDescriptorWrite(gatt: BluetoothGatt, descriptor: BluetoothGattDescriptor, status: Int) {
            queue.complete(GattOperation(GattOperationKind.WRITE_DESCRIPTOR, key(descriptor.characteristic.uuid)), GattOutcome(status))
        }

        // API 33+: the value arrives as a parameter. Called on the binder thread in the order the
        // device sent the values; the sink returns at once.
        override fun onCharacteristicChanged(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, value: ByteArray) {
            sinks[key(characteristic.uuid)]?.onNotification(characteristic.uuid, value)
        }

        // Before API 33.
        @Suppress("DEPRECATION", "OVERRIDE_DEPRECATION")
        override fun onCharacteristicChanged(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic) {
            sinks[key(characteristic.uuid)]?.onNotification(characteristic.uuid, characteristic.value ?: ByteArray(0))
        }

        // Before API 33.
        @Suppress("DEPRECATION", "OVERRIDE_DEPRECATION")
        override fun onDescriptorRead(gatt: BluetoothGatt, descriptor: BluetoothGattDescriptor, status: Int) {
            queue.complete(GattOperation(GattOperationKind.READ_DESCRIPTOR, key(descriptor.characteristic.uuid)), GattOutcome(status, descriptor.value))
        }
    }

    /**
     * Connects (direct, `TRANSPORT_LE`) and returns the GATT status: [GattStatus.SUCCESS], or why
     * the attempt failed, after which this connection is released. Throws [BleException.Timeout]
     * when the stack does not answer in time.
     */
    suspend fun open(): Int {
        gatt = device.connectGatt(context, false, callback, BluetoothDevice.TRANSPORT_LE)
            ?: return GattStatus.GATT_ERROR
        val status = try {
            withTimeoutOrNull(settings.connectTimeoutMillis) { connected.await() }
        } catch (cancelled: CancellationException) {
            release()
            throw cancelled
        }
        if (status == null) {
            release()
            throw BleException.Timeout()
        }
        if (status != GattStatus.SUCCESS) release()
        return status
    }

    /** Asks for the largest MTU; a refusal keeps the default (values still go through whole). */
    suspend fun negotiateMtu() {
        val outcome = queue.submit(GattOperation(GattOperationKind.REQUEST_MTU)) { client().requestMtu(GattValues.REQUESTED_MTU) }
        if (outcome.status == GattStatus.SUCCESS && outcome.mtu >= GattValues.DEFAULT_MTU) negotiatedMtu.set(outcome.mtu)
    }

    override fun mtu(): UShort = negotiatedMtu.get().toUShort()

    override suspend fun discover(service: UUID): List<GattCharacteristic> = withBluetoothPermission("connect") {
        if (!servicesDiscovered) {
            val outcome = queue.submit(GattOperation(GattOperationKind.DISCOVER_SERVICES)) { client().discoverServices() }
            if (outcome.status != GattStatus.SUCCESS) throw GattStatus.operationFailure(AttOperation.SERVICE_DISCOVERY, outcome.status)
            servicesDiscovered = true
        }
        val gattService = client().getService(service) ?: throw BleException.ServiceNotFound(service)
        gattService.characteristics.map { characteristic ->
            GattCharacteristic(characteristic.uuid, userDescription(characteristic))
        }
    }

    override suspend fun write(characteristic: UUID, value: ByteArray) = withBluetoothPermission("connect") {
        GattValues.checkWritable(value.size)
        val target = characteristic(characteristic)
        val outcome = queue.submit(GattOperation(GattOperationKind.WRITE_CHARACTERISTIC, key(target.uuid))) { startWrite(target, value) }
        if (outcome.status != GattStatus.SUCCESS) throw GattStatus.operationFailure(AttOperation.WRITE, outcome.status)
    }

    override suspend fun read(characteristic: UUID): ByteArray = withBluetoothPermission("connect") {
        val target = characteristic(characteristic)
        val outcome = queue.submit(GattOperation(GattOperationKind.READ_CHARACTERISTIC, key(target.uuid))) { client().readCharacteristic(target) }
        if (outcome.status != GattStatus.SUCCESS) throw GattStatus.operationFailure(AttOperation.READ, outcome.status)
        outcome.value ?: ByteArray(0)
    }

    /**
     * Enables notifications (indications when the characteristic offers only those): locally with
     * `setCharacteristicNotification`, on the device by writing its 0x2902 descriptor.
     */
    override suspend fun subscribe(characteristic: UUID, sink: NotificationSink) = withBluetoothPermission("connect") {
        val target = characteristic(characteristic)
        val configuration = target.getDescriptor(BleUuids.CLIENT_CONFIGURATION)
            ?: throw GattStatus.operationFailure(AttOperation.WRITE, GattStatus.REQUEST_NOT_SUPPORTED)
        val enable = if (target.properties and BluetoothGattCharacteristic.PROPERTY_NOTIFY != 0) {
            BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE
        } else {
            BluetoothGattDescriptor.ENABLE_INDICATION_VALUE
        }
        sinks[key(target.uuid)] = sink
        if (!client().setCharacteristicNotification(target, true)) throw GattStatus.operationFailure(AttOperation.WRITE, GattStatus.GATT_ERROR)
        val outcome = queue.submit(GattOperation(GattOperationKind.WRITE_DESCRIPTOR, key(target.uuid))) { startWrite(configuration, enable) }
        if (outcome.status != GattStatus.SUCCESS) throw GattStatus.operationFailure(AttOperation.WRITE, outcome.status)
    }

    /** Never throws (the library's `disconnect` has no error): a revoked permission only skips the polite disconnect. */
    override suspend fun disconnect() {
        val client = gatt ?: return
        try {
            if (!released.get()) {
                client.disconnect()
                withTimeoutOrNull(settings.disconnectTimeoutMillis) { disconnected.await() }
            }
        } catch (revoked: SecurityException) {
            // BLUETOOTH_CONNECT was withdrawn: closing below still frees the client.
        } finally {
            queue.close(BleException.Disconnected())
            release()
        }
    }

    private suspend fun userDescription(characteristic: BluetoothGattCharacteristic): String? {
        val descriptor = characteristic.getDescriptor(BleUuids.USER_DESCRIPTION) ?: return null
        val outcome = queue.submit(GattOperation(GattOperationKind.READ_DESCRIPTOR, key(characteristic.uuid))) {
            client().readDescriptor(descriptor)
        }
        if (outcome.status != GattStatus.SUCCESS) throw GattStatus.operationFailure(AttOperation.READ, outcome.status)
        return GattValues.userDescription(outcome.value)
    }

    // Newer calls only behind the SDK_INT check below (animal-sniffer exempts this method).
    @TargetApi(Build.VERSION_CODES.TIRAMISU)
    @Suppress("DEPRECATION")
    private fun startWrite(target: BluetoothGattCharacteristic, value: ByteArray): Boolean =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            client().writeCharacteristic(target, value, BluetoothGattCharacteristic.WRITE_TYPE_DEFAULT) == BluetoothStatusCodes.SUCCESS
        } else {
            target.writeType = BluetoothGattCharacteristic.WRITE_TYPE_DEFAULT
            target.value = value
            client().writeCharacteristic(target)
        }

    @TargetApi(Build.VERSION_CODES.TIRAMISU)
    @Suppress("DEPRECATION")
    private fun startWrite(target: BluetoothGattDescriptor, value: ByteArray): Boolean =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            client().writeDescriptor(target, value) == BluetoothStatusCodes.SUCCESS
        } else {
            target.value = value
            client().writeDescriptor(target)
        }

    private fun characteristic(uuid: UUID): BluetoothGattCharacteristic =
        client().services.orEmpty().firstNotNullOfOrNull { it.getCharacteristic(uuid) }
            ?: throw BleException.Other("the device has no characteristic $uuid among the services discovered")

    private fun client(): BluetoothGatt = gatt?.takeUnless { released.get() } ?: throw BleException.Disconnected()

    private fun key(uuid: UUID): String = uuid.toString()

    /** Ends any connection (attempt) and closes the GATT client, once (Android allows few per app). */
    private fun release() {
        if (released.compareAndSet(false, true)) {
            try {
                gatt?.disconnect()
                gatt?.close()
            } catch (denied: SecurityException) {
                // Permission revoked meanwhile: the stack releases the client with the process.
            }
        }
    }
}
