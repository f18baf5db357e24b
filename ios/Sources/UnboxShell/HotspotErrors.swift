// What NEHotspotConfigurationManager's answers mean for the core's Wi-Fi seam, and how the
// current network reads as a scan result. Platform-independent, used by HotspotPhoneWifi
// (tested on Linux by ios/scripts/check.sh).

import Foundation
import Unbox

/// The codes of `NEHotspotConfigurationError` (NetworkExtension), by value.
enum HotspotErrorCode: Int {
    case invalid = 0
    case invalidSSID = 1
    case invalidWPAPassphrase = 2
    case invalidWEPPassphrase = 3
    case invalidEAPSettings = 4
    case invalidHS20Settings = 5
    case invalidHS20DomainName = 6
    case userDenied = 7
    case `internal` = 8
    case pending = 9
    case systemConfiguration = 10
    case unknown = 11
    case joinOnceNotSupported = 12
    case alreadyAssociated = 13
    case applicationIsNotInForeground = 14
    case invalidSSIDPrefix = 15
    case userUnauthorized = 16
    case systemDenied = 17
}

/// What an `apply` that failed with a hotspot-configuration error means for joining.
enum HotspotJoinOutcome: Equatable {
    /// The phone is already on that network: go on as if joined.
    case joined
    /// Joining failed; the error tells the core (and the person) why.
    case failed(PhoneWifiError)
}

/// Maps the hotspot-configuration error `code` of a join of `ssid`; `description` is the
/// platform's text, kept for the codes that need no explanation of their own.
func hotspotJoinOutcome(code: Int, ssid: String, description: String) -> HotspotJoinOutcome {
    guard let known = HotspotErrorCode(rawValue: code) else {
        return .failed(.Other(reason: "hotspot configuration error \(code): \(description)"))
    }
    switch known {
    case .alreadyAssociated:
        return .joined
    case .userDenied, .userUnauthorized:
        return .failed(.Declined)
    case .invalidWPAPassphrase, .invalidWEPPassphrase:
        return .failed(.JoinFailed(ssid: ssid, reason: "its passphrase is not valid (WPA needs 8 to 63 characters)"))
    case .invalidSSID, .invalidSSIDPrefix:
        return .failed(.JoinFailed(ssid: ssid, reason: "the network name is not valid"))
    case .applicationIsNotInForeground:
        return .failed(.Unavailable(reason: "the app must be in the foreground to join the device's network"))
    case .systemDenied:
        return .failed(.Unavailable(reason: "the system refused to configure the network"))
    case .systemConfiguration:
        return .failed(.Unavailable(reason: "a configuration profile manages this network"))
    case .pending:
        return .failed(.Other(reason: "an earlier join of the app is still pending"))
    case .internal:
        return .failed(.Other(
            reason: "internal hotspot configuration error (is the Hotspot Configuration entitlement missing?): \(description)"))
    case .invalid, .invalidEAPSettings, .invalidHS20Settings, .invalidHS20DomainName, .unknown, .joinOnceNotSupported:
        return .failed(.Other(reason: description))
    }
}

/// The signal strength reported for the network the phone is on: iOS does not tell it, and the
/// network the phone is on is the best candidate, so it sorts first (0 dBm is the ceiling).
let currentNetworkRssi: Int16 = 0

/// The network the phone is on as a scan result: iOS offers apps no Wi-Fi scan, only the
/// current network (`NEHotspotNetwork.fetchCurrent`).
func currentNetwork(ssid: String, bssid: String, secured: Bool) -> WifiNetwork {
    WifiNetwork(ssid: ssid, bssid: bssidBytes(bssid), rssi: currentNetworkRssi, channel: nil, secured: secured)
}

/// The six bytes of a BSSID written as hex pairs separated by `:` or `-` (iOS drops leading
/// zeros: `0:1b:2c:d:e:ff`); nil when it is not one.
func bssidBytes(_ text: String) -> Data? {
    let separator: Character = text.contains("-") ? "-" : ":"
    let parts = text.split(separator: separator, omittingEmptySubsequences: false)
    guard parts.count == 6 else { return nil }
    var bytes = Data()
    for part in parts {
        guard (1...2).contains(part.count), part.allSatisfy(\.isHexDigit), let byte = UInt8(part, radix: 16) else {
            return nil
        }
        bytes.append(byte)
    }
    return bytes
}
