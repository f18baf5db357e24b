@file:Suppress("DEPRECATION") // The Android 7-9 APIs, deprecated from Android 10.

package dev.unbox.android.wifi

import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.net.NetworkRequest
import android.net.wifi.WifiConfiguration
import android.net.wifi.WifiManager
import dev.unbox.PhoneWifiException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/**
 * Android 7-9: adds a `WifiConfiguration` for the device's access point, enables it (which turns
 * the other saved networks off for now), waits for that Wi-Fi network to come up and binds the
 * process to it (Android keeps mobile data as the default network when Wi-Fi has no internet).
 * Leaving removes the configuration and turns the saved networks back on.
 */
internal class LegacyJoiner(
    private val wifi: WifiManager,
    private val connectivity: ConnectivityManager,
) : NetworkJoiner {
    private class Joined(val networkId: Int, val callback: ConnectivityManager.NetworkCallback)

    private val mutex = Mutex()
    private var joined: Joined? = null

    override suspend fun join(ssid: String, passphrase: String?) = mutex.withLock {
        release()
        val configuration = WifiConfiguration().apply {
            SSID = WifiJoinRules.quotedSsid(ssid)
            if (passphrase == null) {
                allowedKeyManagement.set(WifiConfiguration.KeyMgmt.NONE)
            } else {
                preSharedKey = WifiJoinRules.preSharedKey(passphrase)
            }
        }
        val networkId = wifi.addNetwork(configuration)
        if (networkId == -1) throw PhoneWifiException.JoinFailed(ssid, "Android refused the network's configuration")
        val available = CompletableDeferred<Network>()
        val callback = object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) {
                // The request matches any Wi-Fi network: wait for the one just enabled.
                if (isJoined(ssid, networkId, network)) available.complete(network)
            }

            override fun onLost(network: Network) {
                if (connectivity.boundNetworkForProcess == network) connectivity.bindProcessToNetwork(null)
            }
        }
        val request = NetworkRequest.Builder()
            .addTransportType(NetworkCapabilities.TRANSPORT_WIFI)
            .removeCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET)
            .build()
        connectivity.requestNetwork(request, callback)
        val network = try {
            if (!wifi.enableNetwork(networkId, true) || !wifi.reconnect()) {
                throw PhoneWifiException.JoinFailed(ssid, "Android refused to switch to the network")
            }
            available.await()
        } catch (failure: Throwable) {
            // Not joined, or the library stopped waiting (cancellation): undo everything.
            forget(networkId, callback)
            throw failure
        }
        if (!connectivity.bindProcessToNetwork(network)) {
            forget(networkId, callback)
            throw PhoneWifiException.Other("Android did not route the app's traffic to $ssid")
        }
        joined = Joined(networkId, callback)
    }

    override suspend fun leave(ssid: String) = mutex.withLock { release() }

    /** Whether [network] is the Wi-Fi network [networkId] for [ssid] (the SSID reads as `<unknown ssid>` without location). */
    private fun isJoined(ssid: String, networkId: Int, network: Network): Boolean {
        // Judge the network the callback names, not whichever Wi-Fi is current: the callback of
        // the network being left can arrive after the supplicant has switched.
        val named = connectivity.getNetworkInfo(network)?.extraInfo
        if (named != null) return WifiJoinRules.isCurrent(named, ssid)
        // Stacks that do not name their networks: only the current connection can tell.
        val info = wifi.connectionInfo ?: return false
        return info.networkId == networkId || WifiJoinRules.isCurrent(info.ssid, ssid)
    }

    private fun release() {
        val current = joined ?: return
        joined = null
        connectivity.bindProcessToNetwork(null)
        forget(current.networkId, current.callback)
    }

    private fun forget(networkId: Int, callback: ConnectivityManager.NetworkCallback) {
        try {
            connectivity.unregisterNetworkCallback(callback)
        } catch (notRegistered: IllegalArgumentException) {
            // Already released.
        }
        wifi.removeNetwork(networkId)
        wifi.configuredNetworks.orEmpty().forEach { wifi.enableNetwork(it.networkId, false) }
        wifi.reconnect()
    }
}
