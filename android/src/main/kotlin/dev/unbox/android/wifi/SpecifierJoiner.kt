package dev.unbox.android.wifi

import android.annotation.TargetApi
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.net.NetworkRequest
import android.net.wifi.WifiNetworkSpecifier
import android.os.Build
import dev.unbox.PhoneWifiException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/**
 * Android 10+: asks for the device's network with a `WifiNetworkSpecifier` (a local-only network
 * the system joins for this app after the person confirms), then binds the process to it. The
 * network stays up while the request is registered; leaving unregisters it.
 */
@TargetApi(Build.VERSION_CODES.Q)
internal class SpecifierJoiner(private val connectivity: ConnectivityManager) : NetworkJoiner {
    private class Joined(val ssid: String, val callback: ConnectivityManager.NetworkCallback)

    private val mutex = Mutex()
    private var joined: Joined? = null

    override suspend fun join(ssid: String, passphrase: String?) = mutex.withLock {
        release()
        val specifier = WifiNetworkSpecifier.Builder().setSsid(ssid).apply {
            if (passphrase != null) setWpa2Passphrase(passphrase)
        }.build()
        val request = NetworkRequest.Builder()
            .addTransportType(NetworkCapabilities.TRANSPORT_WIFI)
            .removeCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET)
            .setNetworkSpecifier(specifier)
            .build()
        val available = CompletableDeferred<Network>()
        val callback = object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) {
                available.complete(network)
            }

            override fun onUnavailable() {
                available.completeExceptionally(
                    PhoneWifiException.JoinFailed(ssid, "the phone did not find the network, or the join was declined in the system dialog"),
                )
            }

            override fun onLost(network: Network) {
                if (connectivity.boundNetworkForProcess == network) connectivity.bindProcessToNetwork(null)
            }
        }
        connectivity.requestNetwork(request, callback)
        val network = try {
            available.await()
        } catch (failure: Throwable) {
            // Declined, not found, or the library stopped waiting (cancellation): release the request.
            unregister(callback)
            throw failure
        }
        if (!connectivity.bindProcessToNetwork(network)) {
            unregister(callback)
            throw PhoneWifiException.Other("Android did not route the app's traffic to $ssid")
        }
        joined = Joined(ssid, callback)
    }

    override suspend fun leave(ssid: String) = mutex.withLock { release() }

    private fun release() {
        val current = joined ?: return
        joined = null
        connectivity.bindProcessToNetwork(null)
        unregister(current.callback)
    }

    private fun unregister(callback: ConnectivityManager.NetworkCallback) {
        try {
            connectivity.unregisterNetworkCallback(callback)
        } catch (notRegistered: IllegalArgumentException) {
            // Already released by the system.
        }
    }
}
