// Stand-in for Apple's NetworkExtension (hotspot configuration): only what the shell uses,
// transcribed from Apple's documentation, so that ios/scripts/check.sh can typecheck the
// Apple-only files on Linux. Not the SDK: building the package in Xcode remains the real check.

import Foundation

open class NEHotspotConfiguration: NSObject {
    public init(ssid SSID: String) {}
    public init(ssid SSID: String, passphrase: String, isWEP: Bool) {}
    open var joinOnce = false
}

open class NEHotspotConfigurationManager: NSObject {
    open class var shared: NEHotspotConfigurationManager { fatalError("stub") }
    open func apply(_ configuration: NEHotspotConfiguration) async throws {}
    open func removeConfiguration(forSSID SSID: String) {}
}

public let NEHotspotConfigurationErrorDomain = "NEHotspotConfigurationErrorDomain"

public enum NEHotspotNetworkSecurityType: Int {
    case open, WEP, personal, enterprise, unknown
}

open class NEHotspotNetwork: NSObject {
    open var ssid: String { fatalError("stub") }
    open var bssid: String { fatalError("stub") }
    open var securityType: NEHotspotNetworkSecurityType { fatalError("stub") }
    open class func fetchCurrent() async -> NEHotspotNetwork? { fatalError("stub") }
}
