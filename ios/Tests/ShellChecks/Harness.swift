// A small test harness (no XCTest needed): each check throws on failure; main prints one line per
// check and "N passed, N failed".

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Unbox

struct Failure: Error, CustomStringConvertible {
    let description: String
}

func check(_ condition: Bool, _ what: @autoclosure () -> String) throws {
    if !condition { throw Failure(description: what()) }
}

/// Runs `body`, failing when it takes longer than `seconds`.
func withDeadline<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            throw Failure(description: "timed out after \(seconds) s")
        }
        guard let first = try await group.next() else { throw Failure(description: "no result") }
        group.cancelAll()
        return first
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; returns whether it came true.
func eventually(_ seconds: Double, _ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<Int(seconds * 100) where !condition() {
        try await Task.sleep(nanoseconds: 10_000_000)
    }
    return condition()
}

/// A lock-protected value shared with Rust's threads.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func with<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }

    var current: Value { with { $0 } }
}

/// Refuses to follow redirects: the redirect is the app's callback.
final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

/// The sign-in sheet, scripted: loads the authorization URL over real HTTP and returns the
/// redirect the auto-consenting simulated provider answers with.
final class ScriptedBrowser: AuthorizationAgent, @unchecked Sendable {
    private let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)

    func authorize(url: String, redirectUri: String) async throws -> String {
        guard let target = URL(string: url) else { throw AgentError.Failed(reason: "bad URL") }
        let location: String = try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: URLRequest(url: target)) { _, response, error in
                if let error {
                    continuation.resume(throwing: AgentError.Failed(reason: "\(error)"))
                } else if let location = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Location") {
                    continuation.resume(returning: location)
                } else {
                    continuation.resume(throwing: AgentError.Failed(reason: "no redirect"))
                }
            }.resume()
        }
        guard location.hasPrefix(redirectUri) else { throw AgentError.Failed(reason: "unexpected redirect") }
        return location
    }
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
