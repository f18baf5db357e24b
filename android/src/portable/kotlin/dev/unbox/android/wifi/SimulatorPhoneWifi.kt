package dev.unbox.android.wifi

import dev.unbox.PhoneWifi
import dev.unbox.PhoneWifiException
import dev.unbox.WifiNetwork

/**
 * The phone's Wi-Fi when the "devices" are a simulator reachable over the app's ordinary network
 * (`unbox sim all --public-host 10.0.2.2` seen from the Android emulator): there is no access
 * point to join, so joining and leaving change nothing and the scan lists no networks. The access
 * point passphrase is still checked, so a wrong one fails as a real join would.
 */
class SimulatorPhoneWifi(private val accessPointPassphrase: String?) : PhoneWifi {
    override suspend fun joinNetwork(ssid: String, passphrase: String?) {
        if (passphrase != accessPointPassphrase) {
            throw PhoneWifiException.JoinFailed(ssid, "the access point refused the passphrase")
        }
    }

    override suspend fun leaveNetwork(ssid: String) = Unit

    override suspend fun scanNetworks(): List<WifiNetwork> = emptyList()
}
