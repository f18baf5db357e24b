// The checks' fakes (the shared assertions and scripted browser are bindings/swift-tests/Support.swift);
// main prints one line per check and "N passed, N failed".

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Unbox

/// Polls `condition` every 10 ms for up to `seconds`; returns whether it came true.
func eventually(_ seconds: Double, _ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<Int(seconds * 100) where !condition() {
        try await Task.sleep(nanoseconds: 10_000_000)
    }
    return condition()
}

/// The phone's Wi-Fi, recorded (the simulated access points are loopback servers). With `hold`,
/// joining waits until Rust drops the call (its Swift task is then cancelled).
final class RecordingWifi: PhoneWifi, @unchecked Sendable {
    let hold: Bool
    let history = Locked([String]())

    init(hold: Bool = false) { self.hold = hold }

    func joinNetwork(ssid: String, passphrase: String?) async throws {
        history.with { $0.append("join \(ssid)") }
        while hold {
            do {
                try await Task.sleep(nanoseconds: 10_000_000)
            } catch {
                history.with { $0.append("join cancelled") }
                throw error
            }
        }
    }

    func leaveNetwork(ssid: String) async throws {
        history.with { $0.append("leave \(ssid)") }
    }

    func scanNetworks() async throws -> [WifiNetwork] { [] }
}
