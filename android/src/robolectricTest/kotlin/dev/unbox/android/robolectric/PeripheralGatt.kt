package dev.unbox.android.robolectric

import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothGattService
import android.bluetooth.BluetoothProfile
import android.os.Build
import java.util.UUID
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.annotation.RealObject
import org.robolectric.shadows.ShadowBluetoothGatt

/**
 * One BLE peripheral answering the phone's GATT client (there is no radio under Robolectric): how
 * each connection attempt ends, the MTU it accepts, its services, and what each characteristic
 * answers to a read given what was last written to it (null: it never answers). Tests set it up
 * in `@Before`; [PeripheralGatt] plays it behind every `BluetoothGatt`.
 */
object Peripheral {
    /** Status of each connection attempt in turn (0 connects; 133 is the stack's GATT_ERROR); then 0. */
    val connectStatuses = ArrayDeque<Int>()

    /** The largest MTU the peripheral accepts. */
    var mtu = 247

    /** Its GATT services. */
    val services = mutableListOf<BluetoothGattService>()

    /** Read answers per characteristic, from the value last written to it. */
    val answers = mutableMapOf<UUID, (ByteArray?) -> ByteArray?>()

    /** Every value written, in order, whole. */
    val writes = mutableListOf<Pair<UUID, ByteArray>>()

    /** Every 0x2902 configuration written, by characteristic, in order. */
    val configurations = mutableListOf<Pair<UUID, ByteArray>>()

    /** Every GATT client the phone opened, oldest first. */
    val clients = mutableListOf<PeripheralGatt>()

    /** The MTUs the phone asked for. */
    val mtuRequests = mutableListOf<Int>()

    /** Back to a peripheral that connects and has nothing. */
    fun reset() {
        connectStatuses.clear()
        mtu = 247
        services.clear()
        answers.clear()
        writes.clear()
        configurations.clear()
        clients.clear()
        mtuRequests.clear()
    }

    /**
     * A service of characteristics; a non-null description becomes its 0x2901 descriptor; those in
     * [notifying] notify and have a 0x2902 descriptor.
     */
    fun addService(uuid: UUID, characteristics: List<Pair<UUID, String?>>, notifying: Set<UUID> = emptySet()) {
        val service = BluetoothGattService(uuid, BluetoothGattService.SERVICE_TYPE_PRIMARY)
        for ((characteristicUuid, description) in characteristics) {
            val notify = if (characteristicUuid in notifying) BluetoothGattCharacteristic.PROPERTY_NOTIFY else 0
            val characteristic = BluetoothGattCharacteristic(
                characteristicUuid,
                BluetoothGattCharacteristic.PROPERTY_READ or BluetoothGattCharacteristic.PROPERTY_WRITE or notify,
                BluetoothGattCharacteristic.PERMISSION_READ or BluetoothGattCharacteristic.PERMISSION_WRITE,
            )
            if (notify != 0) {
                characteristic.addDescriptor(BluetoothGattDescriptor(CLIENT_CONFIGURATION, BluetoothGattDescriptor.PERMISSION_WRITE))
            }
            if (description != null) {
                val descriptor = BluetoothGattDescriptor(USER_DESCRIPTION, BluetoothGattDescriptor.PERMISSION_READ)
                @Suppress("DEPRECATION")
                descriptor.value = description.toByteArray()
                characteristic.addDescriptor(descriptor)
            }
            service.addCharacteristic(characteristic)
        }
        services += service
    }

    /** The link drops (the device reset or went out of range) with [status]. */
    fun dropLink(status: Int = 8) = clients.last().linkDown(status)

    /** The Characteristic User Description descriptor. */
    val USER_DESCRIPTION: UUID = UUID.fromString("00002901-0000-1000-8000-00805f9b34fb")

    /** The Client Characteristic Configuration descriptor. */
    val CLIENT_CONFIGURATION: UUID = UUID.fromString("00002902-0000-1000-8000-00805f9b34fb")
}

/**
 * `BluetoothGatt` answered by [Peripheral], with the callbacks Android makes at this API level:
 * from API 33 reads report the value as a parameter, before they leave it on the characteristic
 * or descriptor. Robolectric's own shadow answers connections, MTU and writes, but not reads.
 * The answers come on the calling thread, before the request returns, the earliest a real stack
 * could answer.
 */
@Implements(BluetoothGatt::class)
class PeripheralGatt : ShadowBluetoothGatt() {
    @RealObject
    private lateinit var real: BluetoothGatt

    private var linkUp = false
    private val notifying = mutableSetOf<BluetoothGattCharacteristic>()

    /** Whether the phone closed this client. */
    var closedByPhone = false
        private set

    override fun setGattCallback(bluetoothGattCallback: BluetoothGattCallback) {
        super.setGattCallback(bluetoothGattCallback)
        Peripheral.clients += this
        val status = Peripheral.connectStatuses.removeFirstOrNull() ?: 0
        if (status == 0) {
            linkUp = true
            bluetoothGattCallback.onConnectionStateChange(real, 0, BluetoothProfile.STATE_CONNECTED)
        } else {
            bluetoothGattCallback.onConnectionStateChange(real, status, BluetoothProfile.STATE_DISCONNECTED)
        }
    }

    @Implementation
    override fun requestMtu(mtu: Int): Boolean {
        Peripheral.mtuRequests += mtu
        gattCallback.onMtuChanged(real, minOf(mtu, Peripheral.mtu), 0)
        return true
    }

    @Implementation
    override fun discoverServices(): Boolean {
        gattCallback.onServicesDiscovered(real, 0)
        return true
    }

    @Implementation
    override fun getServices(): List<BluetoothGattService> = Peripheral.services.toList()

    @Implementation
    override fun getService(uuid: UUID): BluetoothGattService? = Peripheral.services.firstOrNull { it.uuid == uuid }

    @Implementation
    @Suppress("DEPRECATION")
    override fun writeCharacteristic(characteristic: BluetoothGattCharacteristic): Boolean {
        if (!linkUp) return false
        Peripheral.writes += characteristic.uuid to characteristic.value.copyOf()
        gattCallback.onCharacteristicWrite(real, characteristic, 0)
        return true
    }

    @Implementation(minSdk = Build.VERSION_CODES.TIRAMISU)
    override fun writeCharacteristic(characteristic: BluetoothGattCharacteristic, value: ByteArray, writeType: Int): Int {
        if (!linkUp) return BluetoothGatt.GATT_FAILURE
        Peripheral.writes += characteristic.uuid to value.copyOf()
        gattCallback.onCharacteristicWrite(real, characteristic, 0)
        return 0
    }

    @Implementation
    @Suppress("DEPRECATION")
    fun readCharacteristic(characteristic: BluetoothGattCharacteristic): Boolean {
        if (!linkUp) return false
        val lastWritten = Peripheral.writes.lastOrNull { it.first == characteristic.uuid }?.second
        val answer = Peripheral.answers[characteristic.uuid]?.invoke(lastWritten) ?: return true // never answers
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            gattCallback.onCharacteristicRead(real, characteristic, answer, 0)
        } else {
            characteristic.value = answer
            gattCallback.onCharacteristicRead(real, characteristic, 0)
        }
        return true
    }

    @Implementation
    @Suppress("DEPRECATION")
    fun readDescriptor(descriptor: BluetoothGattDescriptor): Boolean {
        if (!linkUp) return false
        val value = descriptor.value
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            gattCallback.onDescriptorRead(real, descriptor, 0, value)
        } else {
            gattCallback.onDescriptorRead(real, descriptor, 0)
        }
        return true
    }

    @Implementation
    override fun setCharacteristicNotification(characteristic: BluetoothGattCharacteristic, enable: Boolean): Boolean {
        if (!linkUp) return false
        if (enable) notifying += characteristic else notifying -= characteristic
        return true
    }

    @Implementation
    @Suppress("DEPRECATION")
    override fun writeDescriptor(descriptor: BluetoothGattDescriptor): Boolean {
        if (!linkUp) return false
        Peripheral.configurations += descriptor.characteristic.uuid to descriptor.value.copyOf()
        gattCallback.onDescriptorWrite(real, descriptor, 0)
        return true
    }

    @Implementation(minSdk = Build.VERSION_CODES.TIRAMISU)
    override fun writeDescriptor(descriptor: BluetoothGattDescriptor, value: ByteArray): Int {
        if (!linkUp) return BluetoothGatt.GATT_FAILURE
        Peripheral.configurations += descriptor.characteristic.uuid to value.copyOf()
        gattCallback.onDescriptorWrite(real, descriptor, 0)
        return 0
    }

    /**
     * The peripheral notifies [value] on [uuid] when the phone enabled it locally, with the
     * callback of this API level (from 33 the value is a parameter).
     */
    @Suppress("DEPRECATION")
    fun notify(uuid: UUID, value: ByteArray) {
        val characteristic = notifying.firstOrNull { it.uuid == uuid } ?: return
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            gattCallback.onCharacteristicChanged(real, characteristic, value)
        } else {
            characteristic.value = value
            gattCallback.onCharacteristicChanged(real, characteristic)
        }
    }

    @Implementation
    override fun disconnect() {
        if (linkUp) linkDown(0)
    }

    @Implementation
    override fun close() {
        closedByPhone = true
        linkUp = false
    }

    /** The link goes down with [status] and the phone is told. */
    fun linkDown(status: Int) {
        linkUp = false
        gattCallback.onConnectionStateChange(real, status, BluetoothProfile.STATE_DISCONNECTED)
    }
}
