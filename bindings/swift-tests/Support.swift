// Test support shared by the binding tests (bindings/swift-tests) and the iOS shell's checks
// (ios/scripts/check.sh copies this file next to ios/Tests/ShellChecks): the runner, assertions, a
// deadline, a lock box for state shared with Rust's threads, and the scripted browser.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Unbox)
import Unbox
#endif

struct Failure: Error, CustomStringConvertible {
    let description: String
}

func check(_ condition: Bool, _ what: @autoclosure () -> String) throws {
    if !condition { throw Failure(description: what()) }
}

/// Runs each named check, prints one line per check and "N passed, N failed", calls `cleanUp`
/// and exits with 0 only when every check passed.
func runChecks(_ checks: [(String, () async throws -> Void)], cleanUp: () -> Void) async -> Never {
    var passed = 0
    var failed = 0
    for (name, run) in checks {
        do {
            try await run()
            passed += 1
            print("ok   \(name)")
        } catch {
            failed += 1
            print("FAIL \(name): \(error)")
        }
    }
    cleanUp()
    print("\(passed) passed, \(failed) failed")
    exit(failed == 0 ? 0 : 1)
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

/// A lock-protected value shared with Rust's threads (the protocols are Sendable).
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

/// The sign-in step, scripted: loads the authorization URL over real HTTP and returns the
/// redirect the auto-consenting simulated provider answers with.
final class ScriptedBrowser: AuthorizationAgent, @unchecked Sendable {
    let opened = Locked(0)
    /// The test user to sign in as (the provider's "sign in as"); the default user when nil.
    let loginHint: String?
    private let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)

    init(loginHint: String? = nil) { self.loginHint = loginHint }

    func authorize(url: String, redirectUri: String) async throws -> String {
        opened.with { $0 += 1 }
        let hint = loginHint?.addingPercentEncoding(withAllowedCharacters: .alphanumerics).map { "&login_hint=\($0)" }
        guard let target = URL(string: url + (hint ?? "")) else { throw AgentError.Failed(reason: "bad URL") }
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
