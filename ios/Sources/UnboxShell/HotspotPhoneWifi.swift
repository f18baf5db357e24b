// The phone's Wi-Fi on iOS: NEHotspotConfiguration joins and leaves the device's access point.
// Not on macOS, which has no NEHotspotConfiguration.

#if canImport(NetworkExtension) && !os(macOS)
import Foundation
import NetworkExtension
import Unbox

/// Joins the device's setup access point with `NEHotspotConfiguration` and leaves it again. The
/// configuration is join-once: iOS also drops it when the app stays in the background.
///
/// Needs the Hotspot Configuration and Access Wi-Fi Information entitlements. iOS asks the
/// person once per network; declining is `PhoneWifiError.Declined`. iOS routes traffic for the
/// device's subnet (192.168.4.x) over that network even though it has no internet, so the
/// core's sockets reach the device without binding. iOS has no Wi-Fi scan for apps:
/// `scanNetworks()` returns the network the phone is on, if any (see the integration guide).
public final class HotspotPhoneWifi: PhoneWifi {
    /// The Wi-Fi interface of iPhones and iPads.
    private let wifiInterface = "en0"
    private let joinTimeout: TimeInterval

    /// A Wi-Fi seam waiting up to `joinTimeout` seconds for iOS to report the joined network.
    public init(joinTimeout: TimeInterval = 15) {
        self.joinTimeout = joinTimeout
    }

    /// Joins `ssid` (open when `passphrase` is nil) and returns once the phone is on it with an
    /// address.
    public func joinNetwork(ssid: String, passphrase: String?) async throws {
        let configuration = passphrase.map { NEHotspotConfiguration(ssid: ssid, passphrase: $0, isWEP: false) }
            ?? NEHotspotConfiguration(ssid: ssid)
        configuration.joinOnce = true
        // The address the phone held before (the home network's), so that the wait below ends on
        // the device network's own address, not on the old one.
        let alreadyOn = await NEHotspotNetwork.fetchCurrent()?.ssid == ssid
        let before = Set(ipv4Addresses(interface: wifiInterface))
        do {
            try await NEHotspotConfigurationManager.shared.apply(configuration)
        } catch {
            let error = error as NSError
            guard error.domain == NEHotspotConfigurationErrorDomain else {
                throw PhoneWifiError.Other(reason: error.localizedDescription)
            }
            if case .failed(let failure) = hotspotJoinOutcome(code: error.code, ssid: ssid, description: error.localizedDescription) {
                throw failure
            }
        }
        // `apply` also succeeds when the join itself fails (wrong passphrase, out of range): only
        // the current network tells. Then wait for the device's DHCP answer, so that the core's
        // first connection does not race it.
        let deadline = Date().addingTimeInterval(joinTimeout)
        func addressed() -> Bool {
            let now = Set(ipv4Addresses(interface: wifiInterface))
            return alreadyOn ? !now.isEmpty : !now.subtracting(before).isEmpty
        }
        while await NEHotspotNetwork.fetchCurrent()?.ssid != ssid || !addressed() {
            guard Date() < deadline else {
                throw PhoneWifiError.JoinFailed(ssid: ssid, reason: "the phone is not on it \(Int(joinTimeout)) s after joining")
            }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
    }

    /// Removes the join-once configuration, which takes the phone off the device's network.
    public func leaveNetwork(ssid: String) async throws {
        NEHotspotConfigurationManager.shared.removeConfiguration(forSSID: ssid)
    }

    /// The network the phone is on (for example a device network the person joined in
    /// Settings), or nothing: iOS lets apps read only that one, and only with the Access Wi-Fi
    /// Information entitlement plus location permission or a network the app configured.
    public func scanNetworks() async throws -> [WifiNetwork] {
        guard let network = await NEHotspotNetwork.fetchCurrent() else { return [] }
        return [currentNetwork(ssid: network.ssid, bssid: network.bssid, secured: network.securityType != .open)]
    }
}
#endif
