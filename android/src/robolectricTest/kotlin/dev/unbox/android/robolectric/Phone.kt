package dev.unbox.android.robolectric

import android.location.LocationManager
import android.net.ConnectivityManager
import android.net.wifi.WifiManager
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadow.api.Shadow

/** The Robolectric phone's settings and system services, as the tests set them. */
object Phone {
    /** Grants the app [permissions] (the person said yes). */
    fun grant(vararg permissions: String) = shadowOf(RuntimeEnvironment.getApplication()).grantPermissions(*permissions)

    /** Turns the phone's location setting on or off. */
    fun location(enabled: Boolean) =
        shadowOf(RuntimeEnvironment.getApplication().getSystemService(LocationManager::class.java)).setLocationEnabled(enabled)

    /** The Wi-Fi service. */
    fun wifi(): WifiManager = RuntimeEnvironment.getApplication().getSystemService(WifiManager::class.java)

    /** The connectivity service. */
    fun connectivity(): ConnectivityManager = RuntimeEnvironment.getApplication().getSystemService(ConnectivityManager::class.java)

    /** The connectivity service's shadow, which keeps the requests (see [RecordingConnectivityManager]). */
    fun connectivityShadow(): RecordingConnectivityManager = Shadow.extract(connectivity())
}
