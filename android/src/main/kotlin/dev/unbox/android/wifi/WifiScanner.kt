package dev.unbox.android.wifi

import android.annotation.TargetApi
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.net.wifi.ScanResult
import android.net.wifi.WifiManager
import android.os.Build
import dev.unbox.PhoneWifiException
import dev.unbox.WifiNetwork
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.withTimeoutOrNull

/**
 * Scans with `WifiManager.startScan` and waits for `SCAN_RESULTS_AVAILABLE_ACTION`. Android
 * throttles apps (4 scans per 2 minutes in the foreground from Android 9): a refused or failed
 * scan, or one not answered within the timeout, yields the cached results of the last scan.
 */
internal class WifiScanner(
    private val context: Context,
    private val wifi: WifiManager,
    private val timeoutMillis: Long,
) {
    suspend fun scan(): List<WifiNetwork> {
        if (!wifi.isWifiEnabled) throw PhoneWifiException.Unavailable("Wi-Fi is turned off")
        val finished = CompletableDeferred<Unit>()
        val receiver = object : BroadcastReceiver() {
            override fun onReceive(context: Context, intent: Intent) {
                finished.complete(Unit)
            }
        }
        register(receiver, IntentFilter(WifiManager.SCAN_RESULTS_AVAILABLE_ACTION))
        try {
            @Suppress("DEPRECATION")
            val started = wifi.startScan()
            if (started) withTimeoutOrNull(timeoutMillis) { finished.await() }
        } finally {
            context.unregisterReceiver(receiver)
        }
        return WifiScanMapping.toNetworks(wifi.scanResults.orEmpty().map(::entry))
    }

    // Newer calls only behind the SDK_INT check below (animal-sniffer exempts this method).
    @TargetApi(Build.VERSION_CODES.TIRAMISU)
    private fun register(receiver: BroadcastReceiver, filter: IntentFilter) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) {
            context.registerReceiver(receiver, filter, Context.RECEIVER_NOT_EXPORTED)
        } else {
            context.registerReceiver(receiver, filter)
        }
    }

    // Newer calls only behind the SDK_INT check below (animal-sniffer exempts this method).
    @TargetApi(Build.VERSION_CODES.TIRAMISU)
    @Suppress("DEPRECATION")
    private fun entry(result: ScanResult): ScanEntry = ScanEntry(
        ssid = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU) result.wifiSsid?.toString() else result.SSID,
        bssid = result.BSSID,
        levelDbm = result.level,
        frequencyMhz = result.frequency,
        capabilities = result.capabilities.orEmpty(),
    )
}
