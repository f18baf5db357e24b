// Bluetooth LE on iOS: the library's own central (btleplug, CoreBluetooth underneath), after a
// look at the app's Bluetooth permission. The permission mapping is platform-independent; the
// central exists only in the iOS library (cargo feature `btleplug`), hence `!os(macOS)`.

import Unbox

/// The app's Bluetooth permission, as CoreBluetooth reports it (`CBManagerAuthorization`).
enum BluetoothPermission: Equatable {
    /// Not asked yet: iOS asks when the central starts.
    case notDetermined
    /// Parental controls or a profile forbid Bluetooth.
    case restricted
    /// The person turned Bluetooth off for the app.
    case denied
    /// Granted.
    case allowed
}

/// Why Bluetooth cannot be used with `permission`, or nil when it can (or iOS will ask).
func bluetoothRefusal(_ permission: BluetoothPermission) -> BleError? {
    switch permission {
    case .notDetermined, .allowed:
        return nil
    case .restricted:
        return .Unavailable(reason: "Bluetooth is restricted on this phone (Screen Time or a configuration profile)")
    case .denied:
        return .Unavailable(reason: "the app may not use Bluetooth; allow it in Settings")
    }
}

#if canImport(CoreBluetooth) && !os(macOS)
import CoreBluetooth

/// The phone's Bluetooth LE central for onboarding and discovery.
public enum PhoneBluetooth {
    /// The library's central (btleplug over CoreBluetooth): pass it as `ble` to
    /// `OnboardingClient` and `startDiscovery`. Throws `BleError.Unavailable` when the app's
    /// Bluetooth permission is denied or restricted (without starting CoreBluetooth), or when
    /// Bluetooth is off; when not yet asked, iOS asks as it starts.
    public static func central() async throws -> BleCentral {
        if let refusal = bluetoothRefusal(permission(CBManager.authorization)) { throw refusal }
        return try await platformBleCentral()
    }

    private static func permission(_ authorization: CBManagerAuthorization) -> BluetoothPermission {
        switch authorization {
        case .allowedAlways: return .allowed
        case .denied: return .denied
        case .restricted: return .restricted
        case .notDetermined: return .notDetermined
        @unknown default: return .notDetermined
        }
    }
}
#endif
