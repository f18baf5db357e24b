package dev.unbox.android.robolectric

import android.net.ConnectivityManager
import android.net.NetworkRequest
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.shadows.ShadowConnectivityManager

/**
 * Robolectric's ConnectivityManager, which also keeps the requests the shell made (its own shadow
 * registers the callback and forgets the request), safe to call from the library's threads.
 */
@Implements(ConnectivityManager::class)
class RecordingConnectivityManager : ShadowConnectivityManager() {
    /** Every request passed to `requestNetwork`, oldest first. */
    val requests = mutableListOf<NetworkRequest>()

    @Implementation
    @Synchronized
    override fun requestNetwork(request: NetworkRequest, networkCallback: ConnectivityManager.NetworkCallback) {
        requests += request
        pending[networkCallback] = request
        super.requestNetwork(request, networkCallback)
    }

    @Implementation
    @Synchronized
    override fun unregisterNetworkCallback(networkCallback: ConnectivityManager.NetworkCallback) {
        pending.remove(networkCallback)
        super.unregisterNetworkCallback(networkCallback)
    }

    /** The registered requests and their callbacks, as they are now. */
    @Synchronized
    fun registered(): Map<ConnectivityManager.NetworkCallback, NetworkRequest> = LinkedHashMap(pending)

    private val pending = LinkedHashMap<ConnectivityManager.NetworkCallback, NetworkRequest>()
}
