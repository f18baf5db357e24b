package dev.unbox.android.permissions

import android.annotation.TargetApi
import android.content.Context
import android.content.pm.PackageManager
import android.location.LocationManager
import android.os.Build
import android.provider.Settings

/**
 * The runtime permissions and system settings this phone needs for the shell's capabilities
 * ([PermissionTable] at the running API level). Request what [missing] returns with
 * `Activity.requestPermissions(UnboxPermissions.toRequest(missing).toTypedArray(), code)` or an
 * ActivityResult launcher.
 */
object UnboxPermissions {
    /** The permissions [capabilities] need on this phone that the app does not hold. */
    fun missing(context: Context, capabilities: Collection<Capability>): List<String> =
        PermissionTable.missing(Build.VERSION.SDK_INT, capabilities) {
            context.checkSelfPermission(it) == PackageManager.PERMISSION_GRANTED
        }

    /** What to ask the system for, given the [missing] permissions (adds approximate location where due). */
    fun toRequest(missing: List<String>): List<String> = PermissionTable.toRequest(Build.VERSION.SDK_INT, missing)

    /** Whether [capabilities] need the system's location setting and it is off (scans then find nothing). */
    fun locationServicesOff(context: Context, capabilities: Collection<Capability>): Boolean {
        if (capabilities.none { PermissionTable.needsLocationServices(Build.VERSION.SDK_INT, it) }) return false
        return !locationEnabled(context)
    }

    // Newer calls only behind the SDK_INT check below (animal-sniffer exempts this method).
    @TargetApi(Build.VERSION_CODES.P)
    @Suppress("DEPRECATION")
    private fun locationEnabled(context: Context): Boolean =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
            context.getSystemService(LocationManager::class.java)?.isLocationEnabled == true
        } else {
            Settings.Secure.getInt(context.contentResolver, Settings.Secure.LOCATION_MODE, Settings.Secure.LOCATION_MODE_OFF) !=
                Settings.Secure.LOCATION_MODE_OFF
        }
}
