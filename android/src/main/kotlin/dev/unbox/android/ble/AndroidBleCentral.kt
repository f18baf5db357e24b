package dev.unbox.android.ble

import android.bluetooth.BluetoothAdapter
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothManager
import android.bluetooth.le.ScanCallback
import android.bluetooth.le.ScanResult
import android.bluetooth.le.ScanSettings
import android.content.Context
import android.os.ParcelUuid
import android.util.Log
import dev.unbox.AdvertisementSink
import dev.unbox.BleCentral
import dev.unbox.BleException
import dev.unbox.BleLink
import dev.unbox.core.ScanFilter
import dev.unbox.android.permissions.Capability
import dev.unbox.android.permissions.UnboxPermissions
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.delay
import kotlinx.coroutines.withContext
import android.bluetooth.le.ScanFilter as PlatformScanFilter

/** Time limits and retries of the Android BLE central. */
data class BleSettings(
    /** Longest wait for a connection to come up (Android itself gives up after about 30 s). */
    val connectTimeoutMillis: Long = 15_000,
    /** Longest wait for one GATT request's callback. */
    val operationTimeoutMillis: Long = 10_000,
    /** Longest wait for the link to go down on disconnect before the GATT client is closed anyway. */
    val disconnectTimeoutMillis: Long = 2_000,
    /** Retries of connection attempts failing with status 133 and friends. */
    val retry: GattRetryPolicy = GattRetryPolicy(),
)

/**
 * The library's [BleCentral] over Android's `BluetoothLeScanner` and `BluetoothGatt`.
 *
 * Scans are active and low-latency; the filter's service UUIDs go to the platform when it has no
 * name prefixes (see [ScanPlan]). Connections use `TRANSPORT_LE`, are retried on status 133 with
 * `close()` and back-off, and negotiate an MTU of 517; GATT requests run one at a time
 * ([GattOperationQueue]). Needs BLUETOOTH_SCAN/BLUETOOTH_CONNECT (API 31+) or location (before);
 * see `dev.unbox.android.permissions`.
 */
class AndroidBleCentral(
    context: Context,
    private val settings: BleSettings = BleSettings(),
) : BleCentral {
    private val appContext = context.applicationContext
    private val seen = ConcurrentHashMap<String, BluetoothDevice>()
    private val scanLock = Any()
    private var activeScan: ScanCallback? = null

    override suspend fun startScan(filter: ScanFilter, sink: AdvertisementSink) {
        // Without these Android scans silently find nothing (before API 31) or throw.
        UnboxPermissions.missing(appContext, listOf(Capability.BLE_SCAN)).takeIf { it.isNotEmpty() }?.let {
            throw BleException.Unavailable("the app lacks ${it.joinToString()} to scan for Bluetooth devices")
        }
        if (UnboxPermissions.locationServicesOff(appContext, listOf(Capability.BLE_SCAN))) {
            throw BleException.Unavailable("the phone's location setting is off; Bluetooth scans need it before Android 12")
        }
        val scanner = adapter().bluetoothLeScanner ?: throw BleException.Unavailable("Bluetooth is turned off")
        val plan = ScanPlan(filter)
        val callback = ReportingScanCallback(plan, sink)
        val platformFilters = plan.platformServices.map { PlatformScanFilter.Builder().setServiceUuid(ParcelUuid(it)).build() }
        val scanSettings = ScanSettings.Builder().setScanMode(ScanSettings.SCAN_MODE_LOW_LATENCY).build()
        withBluetoothPermission("scan") {
            synchronized(scanLock) {
                activeScan?.let(scanner::stopScan)
                scanner.startScan(platformFilters, scanSettings, callback)
                activeScan = callback
            }
        }
    }

    override suspend fun stopScan() {
        // With Bluetooth off there is no scan left to stop.
        val scanner = appContext.getSystemService(BluetoothManager::class.java)?.adapter?.takeIf { it.isEnabled }?.bluetoothLeScanner
        withBluetoothPermission("scan") {
            synchronized(scanLock) {
                activeScan?.let { scanner?.stopScan(it) }
                activeScan = null
            }
        }
    }

    override suspend fun connect(peripheralId: String): BleLink {
        val device = seen[peripheralId] ?: remoteDevice(peripheralId)
        var attempt = 1
        while (true) {
            val connection = AndroidBleConnection(appContext, device, settings)
            val status = withBluetoothPermission("connect") { connection.open() }
            if (status == GattStatus.SUCCESS) {
                try {
                    connection.negotiateMtu()
                } catch (failure: Throwable) {
                    withContext(NonCancellable) { connection.disconnect() }
                    throw failure
                }
                return BleLink(connection)
            }
            if (!settings.retry.shouldRetry(attempt, status)) throw GattStatus.connectFailure(status)
            attempt += 1
            delay(settings.retry.delayBefore(attempt))
        }
    }

    private fun remoteDevice(peripheralId: String): BluetoothDevice {
        if (!BluetoothAdapter.checkBluetoothAddress(peripheralId)) throw BleException.NotFound(peripheralId)
        return adapter().getRemoteDevice(peripheralId)
    }

    private fun adapter(): BluetoothAdapter {
        val adapter = appContext.getSystemService(BluetoothManager::class.java)?.adapter
            ?: throw BleException.Unavailable("this phone has no Bluetooth")
        if (!adapter.isEnabled) throw BleException.Unavailable("Bluetooth is turned off")
        return adapter
    }

    /** Reports matching scan results to the library and remembers the devices for [connect]. */
    private inner class ReportingScanCallback(private val plan: ScanPlan, private val sink: AdvertisementSink) : ScanCallback() {
        override fun onScanResult(callbackType: Int, result: ScanResult) = report(result)

        override fun onBatchScanResults(results: MutableList<ScanResult>) = results.forEach(::report)

        override fun onScanFailed(errorCode: Int) {
            Log.w(TAG, "the Bluetooth scan failed: ${describeScanFailure(errorCode)}")
        }

        private fun report(result: ScanResult) {
            val record = result.scanRecord
            val manufacturerData = record?.manufacturerSpecificData
            val advertisement = AdvertisementMapping.toAdvertisement(
                address = result.device.address,
                localName = record?.deviceName,
                rssi = result.rssi,
                serviceUuids = record?.serviceUuids.orEmpty().map { it.uuid },
                manufacturerData = buildMap {
                    if (manufacturerData != null) {
                        for (index in 0 until manufacturerData.size()) put(manufacturerData.keyAt(index), manufacturerData.valueAt(index))
                    }
                },
                serviceData = record?.serviceData.orEmpty().mapKeys { it.key.uuid },
                txPower = record?.txPowerLevel,
            )
            seen[advertisement.peripheralId] = result.device
            if (plan.accepts(advertisement)) sink.onAdvertisement(advertisement)
        }
    }

    private companion object {
        const val TAG = "UnboxBle"

        fun describeScanFailure(errorCode: Int): String = when (errorCode) {
            ScanCallback.SCAN_FAILED_ALREADY_STARTED -> "a scan with these settings is already running"
            ScanCallback.SCAN_FAILED_APPLICATION_REGISTRATION_FAILED -> "the app could not register with the Bluetooth stack (toggle Bluetooth)"
            ScanCallback.SCAN_FAILED_INTERNAL_ERROR -> "internal error of the Bluetooth stack"
            ScanCallback.SCAN_FAILED_FEATURE_UNSUPPORTED -> "this phone does not support BLE scanning"
            else -> "error $errorCode"
        }
    }
}

/** Runs [block], turning a missing runtime permission into [BleException.Unavailable]. */
internal inline fun <T> withBluetoothPermission(operation: String, block: () -> T): T =
    try {
        block()
    } catch (denied: SecurityException) {
        throw BleException.Unavailable(
            "the app may not $operation over Bluetooth (grant BLUETOOTH_SCAN/BLUETOOTH_CONNECT, or location before Android 12)",
        )
    }
