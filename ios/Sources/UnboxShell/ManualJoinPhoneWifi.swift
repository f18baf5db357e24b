// A Wi-Fi seam for devices the phone reaches without joining anything. Platform-independent.

import Unbox

/// The phone's Wi-Fi when the app does not join networks itself: the person joined the device's
/// access point in Settings, or the device needs no joining at all (the `unbox sim` devices on
/// the Mac's loopback, reached from the iOS Simulator). Joining and leaving do nothing;
/// scanning finds nothing.
public final class ManualJoinPhoneWifi: PhoneWifi {
    /// A seam that leaves joining to the person.
    public init() {}

    /// Does nothing: the device is reachable already.
    public func joinNetwork(ssid: String, passphrase: String?) async throws {}

    /// Does nothing: the person leaves the network in Settings.
    public func leaveNetwork(ssid: String) async throws {}

    /// Nothing: this seam sees no networks.
    public func scanNetworks() async throws -> [WifiNetwork] { [] }
}
