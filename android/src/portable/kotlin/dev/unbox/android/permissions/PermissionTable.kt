package dev.unbox.android.permissions

/** What the app is about to do with the shell. */
enum class Capability {
    /** Scan for devices over Bluetooth LE ([dev.unbox.BleCentral.startScan]). */
    BLE_SCAN,

    /** Connect to a device over Bluetooth LE and talk GATT ([dev.unbox.BleCentral.connect]). */
    BLE_CONNECT,

    /** List the Wi-Fi networks around, to find devices' access points ([dev.unbox.PhoneWifi.scanNetworks]). */
    WIFI_SCAN,

    /** Join and leave a device's access point ([dev.unbox.PhoneWifi.joinNetwork]). */
    WIFI_JOIN,
}

/** Manifest names of the runtime permissions the shell may need. */
object RuntimePermission {
    /** Bluetooth LE scanning, Android 12 (API 31) and later. */
    const val BLUETOOTH_SCAN = "android.permission.BLUETOOTH_SCAN"

    /** Bluetooth connections, Android 12 (API 31) and later. */
    const val BLUETOOTH_CONNECT = "android.permission.BLUETOOTH_CONNECT"

    /** Nearby Wi-Fi devices, Android 13 (API 33) and later. */
    const val NEARBY_WIFI_DEVICES = "android.permission.NEARBY_WIFI_DEVICES"

    /** Precise location: BLE scans on API 29-30, Wi-Fi scan results on API 29 and later. */
    const val ACCESS_FINE_LOCATION = "android.permission.ACCESS_FINE_LOCATION"

    /** Approximate location: BLE and Wi-Fi scans up to API 28. */
    const val ACCESS_COARSE_LOCATION = "android.permission.ACCESS_COARSE_LOCATION"
}

/**
 * Which runtime permissions each [Capability] needs at a given API level, and what is missing.
 *
 * | capability  | API 24-28            | API 29-30            | API 31-32            | API 33+                      |
 * |-------------|----------------------|----------------------|----------------------|------------------------------|
 * | BLE_SCAN    | ACCESS_COARSE_LOCATION | ACCESS_FINE_LOCATION | BLUETOOTH_SCAN     | BLUETOOTH_SCAN               |
 * | BLE_CONNECT | -                    | -                    | BLUETOOTH_CONNECT    | BLUETOOTH_CONNECT            |
 * | WIFI_SCAN   | ACCESS_COARSE_LOCATION | ACCESS_FINE_LOCATION | ACCESS_FINE_LOCATION | ACCESS_FINE_LOCATION       |
 * | WIFI_JOIN   | -                    | -                    | -                    | NEARBY_WIFI_DEVICES          |
 *
 * BLUETOOTH_SCAN and NEARBY_WIFI_DEVICES are declared `neverForLocation` by the library's manifest,
 * so they need no location permission. `WifiManager.startScan`/`getScanResults` still check
 * precise location on every level from 29 (Android's Wi-Fi permission guide lists them), and
 * Android 13+ asks apps that manage Wi-Fi connections to hold NEARBY_WIFI_DEVICES.
 */
object PermissionTable {
    /** First API level with the Bluetooth runtime permissions (Android 12). */
    const val BLUETOOTH_PERMISSIONS_API = 31

    /** First API level with NEARBY_WIFI_DEVICES (Android 13). */
    const val NEARBY_WIFI_API = 33

    /** First API level where scans need precise rather than approximate location (Android 10). */
    const val FINE_LOCATION_API = 29

    /** The runtime permissions [capability] needs on [apiLevel]. */
    fun required(apiLevel: Int, capability: Capability): List<String> = when (capability) {
        Capability.BLE_SCAN -> when {
            apiLevel >= BLUETOOTH_PERMISSIONS_API -> listOf(RuntimePermission.BLUETOOTH_SCAN)
            apiLevel >= FINE_LOCATION_API -> listOf(RuntimePermission.ACCESS_FINE_LOCATION)
            else -> listOf(RuntimePermission.ACCESS_COARSE_LOCATION)
        }
        Capability.BLE_CONNECT ->
            if (apiLevel >= BLUETOOTH_PERMISSIONS_API) listOf(RuntimePermission.BLUETOOTH_CONNECT) else emptyList()
        Capability.WIFI_SCAN ->
            if (apiLevel >= FINE_LOCATION_API) {
                listOf(RuntimePermission.ACCESS_FINE_LOCATION)
            } else {
                listOf(RuntimePermission.ACCESS_COARSE_LOCATION)
            }
        Capability.WIFI_JOIN ->
            if (apiLevel >= NEARBY_WIFI_API) listOf(RuntimePermission.NEARBY_WIFI_DEVICES) else emptyList()
    }

    /** The runtime permissions all of [capabilities] need on [apiLevel], each once. */
    fun required(apiLevel: Int, capabilities: Collection<Capability>): List<String> =
        capabilities.flatMap { required(apiLevel, it) }.distinct()

    /** Of what [capabilities] need on [apiLevel], the permissions [isGranted] says are not granted. */
    fun missing(apiLevel: Int, capabilities: Collection<Capability>, isGranted: (String) -> Boolean): List<String> =
        required(apiLevel, capabilities).filterNot(isGranted)

    /**
     * What to pass to the system's permission request for [missing] permissions: from Android 12
     * a request for precise location must also ask for approximate location (the person may grant
     * only that, and the dialog offers the choice).
     */
    fun toRequest(apiLevel: Int, missing: List<String>): List<String> =
        if (apiLevel >= BLUETOOTH_PERMISSIONS_API && RuntimePermission.ACCESS_FINE_LOCATION in missing) {
            (missing + RuntimePermission.ACCESS_COARSE_LOCATION).distinct()
        } else {
            missing
        }

    /**
     * Whether [capability] also needs the system's location setting on at [apiLevel]: BLE scans
     * return nothing with it off before Android 12, and Wi-Fi scan results always need it.
     */
    fun needsLocationServices(apiLevel: Int, capability: Capability): Boolean = when (capability) {
        Capability.BLE_SCAN -> apiLevel < BLUETOOTH_PERMISSIONS_API
        Capability.WIFI_SCAN -> true
        Capability.BLE_CONNECT, Capability.WIFI_JOIN -> false
    }
}
