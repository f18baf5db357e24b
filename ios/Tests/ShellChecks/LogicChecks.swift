// The platform-independent logic of the iOS shell: redirect parsing, the mappings of the sign-in
// sheet's, the hotspot manager's and the keychain's answers, BSSIDs, Bluetooth permission.

import Foundation
import Unbox
@testable import UnboxShell

enum LogicChecks {
    static func privateUseRedirect() throws {
        let redirect = try AuthRedirect(parsing: "com.Example.Unbox:/oauth2redirect")
        try check(redirect.callback == .customScheme("com.example.unbox"), "\(redirect.callback)")
        let answer = URL(string: "com.example.unbox:/oauth2redirect?code=abc&state=xyz")!
        try check(redirect.matches(answer), "the provider's answer was not recognised")
        try check(!redirect.matches(URL(string: "com.example.unbox:/elsewhere?code=abc")!), "another path matched")
        try check(!redirect.matches(URL(string: "com.example.other:/oauth2redirect?code=abc")!), "another scheme matched")
        let hosted = try AuthRedirect(parsing: "com.example.unbox://callback")
        try check(hosted.matches(URL(string: "com.example.unbox://callback?code=1")!), "host form not matched")
        try check(!hosted.matches(URL(string: "com.example.unbox://other?code=1")!), "another host matched")
    }

    static func httpsAndRefusedRedirects() throws {
        let link = try AuthRedirect(parsing: "https://App.Example.com/auth/done")
        try check(link.callback == .https(host: "app.example.com", path: "/auth/done"), "\(link.callback)")
        try check(link.matches(URL(string: "https://app.example.com/auth/done?code=1")!), "link not matched")
        try check(!link.matches(URL(string: "https://evil.example.com/auth/done?code=1")!), "another host matched")
        let bare = try AuthRedirect(parsing: "https://app.example.com")
        try check(bare.callback == .https(host: "app.example.com", path: "/"), "\(bare.callback)")
        for refused in ["http://127.0.0.1:49152/callback", "oauth2redirect", "https:///nohost"] {
            do {
                _ = try AuthRedirect(parsing: refused)
                throw Failure(description: "accepted \(refused)")
            } catch AgentError.Failed(let reason) {
                try check(reason.contains(refused), "the reason does not name the URI: \(reason)")
            }
        }
        do {
            _ = try AuthRedirect(parsing: "http://127.0.0.1:49152/callback")
        } catch AgentError.Failed(let reason) {
            try check(reason.contains("private-use scheme"), "no advice: \(reason)")
        }
    }

    static func sheetAnswers() throws {
        let redirect = try AuthRedirect(parsing: "com.example.unbox:/oauth2redirect")
        func outcome(_ callback: String?, _ failure: SignInSheetFailure?) -> Result<String, AgentError> {
            signInOutcome(callback: callback.flatMap(URL.init(string:)), failure: failure, redirect: redirect)
        }
        func sheet(_ code: Int) -> SignInSheetFailure {
            SignInSheetFailure(isWebAuthenticationError: true, code: code, description: "sheet says \(code)")
        }
        let answer = "com.example.unbox:/oauth2redirect?code=abc&state=xyz"
        try check(outcome(answer, nil) == .success(answer), "the redirect was not handed on")
        try check(outcome(nil, sheet(1)) == .failure(.Cancelled), "closing the sheet is not a cancellation")
        try check(outcome(nil, sheet(2)) == .failure(.BrowserUnavailable(reason: "no window to show the sign-in page over: sheet says 2")),
                  "\(outcome(nil, sheet(2)))")
        if case .failure(.BrowserUnavailable) = outcome(nil, sheet(3)) {} else {
            throw Failure(description: "an invalid anchor: \(outcome(nil, sheet(3)))")
        }
        try check(outcome(nil, sheet(9)) == .failure(.Failed(reason: "sheet says 9")), "\(outcome(nil, sheet(9)))")
        let foreign = SignInSheetFailure(isWebAuthenticationError: false, code: 1, description: "network down")
        try check(outcome(nil, foreign) == .failure(.Failed(reason: "network down")), "another domain's code 1 cancelled")
        if case .failure(.Failed) = outcome(nil, nil) {} else { throw Failure(description: "no answer accepted") }
        if case .failure(.Failed) = outcome("com.example.unbox:/elsewhere?code=abc", nil) {} else {
            throw Failure(description: "a foreign redirect was handed on")
        }
    }

    static func resumeOnce() async throws {
        let outcomes = Locked([Bool]())
        let value: String = try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            outcomes.with { $0.append(once.resume(with: Result<String, AgentError>.success("first"))) }
            outcomes.with { $0.append(once.resume(with: Result<String, AgentError>.failure(.Cancelled))) }
        }
        try check(value == "first", value)
        try check(outcomes.current == [true, false], "\(outcomes.current)")
    }

    static func hotspotErrors() throws {
        let ssid = "PROV_1A2B3C"
        func outcome(_ code: Int) -> HotspotJoinOutcome {
            hotspotJoinOutcome(code: code, ssid: ssid, description: "platform text \(code)")
        }
        try check(outcome(HotspotErrorCode.alreadyAssociated.rawValue) == .joined, "already associated is not joined")
        try check(outcome(HotspotErrorCode.userDenied.rawValue) == .failed(.Declined), "\(outcome(7))")
        guard case .failed(.JoinFailed(let failedSsid, let reason)) = outcome(HotspotErrorCode.invalidWPAPassphrase.rawValue) else {
            throw Failure(description: "invalid passphrase: \(outcome(2))")
        }
        try check(failedSsid == ssid && reason.contains("passphrase"), reason)
        guard case .failed(.Unavailable(let background)) = outcome(HotspotErrorCode.applicationIsNotInForeground.rawValue) else {
            throw Failure(description: "background: \(outcome(14))")
        }
        try check(background.contains("foreground"), background)
        guard case .failed(.Other(let internalReason)) = outcome(HotspotErrorCode.internal.rawValue) else {
            throw Failure(description: "internal: \(outcome(8))")
        }
        try check(internalReason.contains("entitlement") && internalReason.contains("platform text 8"), internalReason)
        guard case .failed(.Other(let unknown)) = outcome(99) else { throw Failure(description: "code 99: \(outcome(99))") }
        try check(unknown.contains("99"), unknown)
        let joined = (0...17).filter { outcome($0) == .joined }
        try check(joined == [HotspotErrorCode.alreadyAssociated.rawValue], "codes counted as joined: \(joined)")
    }

    static func currentNetworkAndBssids() throws {
        try check(bssidBytes("0:1b:2c:d:e:ff") == Data([0x00, 0x1B, 0x2C, 0x0D, 0x0E, 0xFF]), "short groups")
        try check(bssidBytes("00-1B-2C-0D-0E-FF") == Data([0x00, 0x1B, 0x2C, 0x0D, 0x0E, 0xFF]), "dashes")
        for bad in ["", "0:1b:2c:d:e", "0:1b:2c:d:e:ff:1", "0:1b:2c:d:e:fff", "zz:1b:2c:d:e:ff", "0:1b::d:e:ff", "+1:1b:2c:d:e:ff"] {
            try check(bssidBytes(bad) == nil, "accepted `\(bad)`")
        }
        let network = currentNetwork(ssid: "PROV_1A2B3C", bssid: "aa:bb:cc:dd:ee:ff", secured: true)
        try check(network.ssid == "PROV_1A2B3C" && network.bssid?.count == 6 && network.secured, "\(network)")
        try check(network.rssi == currentNetworkRssi && network.channel == nil, "\(network)")
        try check(currentNetwork(ssid: "x", bssid: "", secured: false).bssid == nil, "an empty BSSID became bytes")
    }

    static func interfaceAddresses() throws {
        #if os(Linux)
        let loopback = "lo"
        #else
        let loopback = "lo0"
        #endif
        try check(ipv4Addresses(interface: loopback).contains("127.0.0.1"), "loopback: \(ipv4Addresses(interface: loopback))")
        try check(ipv4Addresses(interface: "no-such-interface").isEmpty, "an absent interface has addresses")
    }

    static func keychainQueries() throws {
        let queries = KeychainQueries(service: "com.example.app.unbox", accessGroup: nil)
        let item: KeychainQuery = [.itemClass: .genericPassword, .service: .text("com.example.app.unbox"), .account: .text("token")]
        try check(queries.item("token") == item, "item query")
        var read = item
        read[.returnData] = .yes
        read[.matchLimit] = .matchOne
        try check(queries.read("token") == read, "read query")
        let changes: KeychainQuery = [.valueData: .data(Data("s3cret é".utf8)), .accessible: .afterFirstUnlockThisDeviceOnly]
        try check(queries.changes("s3cret é") == changes, "update attributes")
        try check(queries.add("token", value: "s3cret é") == item.merging(changes) { _, new in new }, "add query")
        let shared = KeychainQueries(service: "svc", accessGroup: "TEAMID.com.example.shared")
        try check(shared.item("k")[.accessGroup] == .text("TEAMID.com.example.shared"), "access group missing")
        try check(shared.add("k", value: "v")[.accessGroup] == .text("TEAMID.com.example.shared"), "added outside the group")
        try check(queries.item("k")[.accessGroup] == nil, "an access group appeared")
    }

    static func keychainStatuses() throws {
        try check(try keychainFound(KeychainStatus.success, key: "k", operation: .read, platformMessage: nil), "success")
        try check(try !keychainFound(KeychainStatus.itemNotFound, key: "k", operation: .read, platformMessage: nil), "not found")
        func thrown(_ status: Int32, _ operation: KeychainOperation = .write) -> SecretStoreError? {
            do {
                _ = try keychainFound(status, key: "refresh-token", operation: operation, platformMessage: "system text")
                return nil
            } catch let error as SecretStoreError {
                return error
            } catch {
                return nil
            }
        }
        for unavailable in [KeychainStatus.interactionNotAllowed, KeychainStatus.missingEntitlement,
                            KeychainStatus.notAvailable, KeychainStatus.userCanceled, KeychainStatus.authFailed] {
            guard case .Unavailable = thrown(unavailable) else {
                throw Failure(description: "status \(unavailable): \(String(describing: thrown(unavailable)))")
            }
        }
        guard case .Failed(let key, let reason) = thrown(-50, .delete) else {
            throw Failure(description: "status -50: \(String(describing: thrown(-50)))")
        }
        try check(key == "refresh-token" && reason.contains("delete") && reason.contains("-50") && reason.contains("system text"), reason)
        guard case .Failed = thrown(KeychainStatus.duplicateItem) else { throw Failure(description: "a duplicate passed") }
    }

    /// Reads the example Info.plist and entitlements (copied next to the checks by check.sh).
    static func exampleAppFiles() throws {
        func keys(_ path: String) throws -> Set<String> {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let entries = try PropertyListSerialization.propertyList(from: data, format: nil) as? [String: Any] else {
                throw Failure(description: "\(path) is not a dictionary")
            }
            return Set(entries.keys)
        }
        let info = try keys("Examples/Info.plist")
        try check(info.isSuperset(of: ["NSBluetoothAlwaysUsageDescription", "NSLocalNetworkUsageDescription"]), "\(info)")
        let entitlements = try keys("Examples/Unbox.entitlements")
        try check(entitlements.isSuperset(of: ["com.apple.developer.networking.HotspotConfiguration",
                                               "com.apple.developer.networking.wifi-info"]), "\(entitlements)")
    }

    static func bluetoothPermissions() throws {
        try check(bluetoothRefusal(.allowed) == nil && bluetoothRefusal(.notDetermined) == nil, "an allowed central refused")
        guard case .Unavailable(let denied) = bluetoothRefusal(.denied),
              case .Unavailable(let restricted) = bluetoothRefusal(.restricted)
        else { throw Failure(description: "a refused permission passed") }
        try check(denied.contains("Settings") && restricted.contains("restricted"), "\(denied) / \(restricted)")
    }
}
