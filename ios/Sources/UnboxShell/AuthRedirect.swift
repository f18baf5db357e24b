// What the sign-in sheet needs from the redirect URI, and what its answer means. Platform-
// independent, used by WebAuthenticationAgent (tested on Linux by ios/scripts/check.sh).

import Foundation
import Unbox

/// A redirect URI in the terms of ASWebAuthenticationSession, which can catch a private-use
/// scheme (any iOS) or an https universal link (iOS 17.4+), never a plain-http redirect.
struct AuthRedirect: Equatable, Sendable {
    /// How the session recognises the redirect.
    enum Callback: Equatable, Sendable {
        /// A private-use URI scheme (RFC 8252 §7.1), lowercased, e.g. `com.example.app`.
        case customScheme(String)
        /// An https URL on a domain associated with the app (RFC 8252 §7.2).
        case https(host: String, path: String)
    }

    /// How the session recognises the redirect.
    let callback: Callback
    private let host: String?
    private let path: String

    /// Reads `redirectUri`; an unusable one is `AgentError.Failed` saying what to register.
    init(parsing redirectUri: String) throws {
        guard let parts = URLComponents(string: redirectUri), let scheme = parts.scheme?.lowercased() else {
            throw AgentError.Failed(reason: "the redirect URI `\(redirectUri)` is not an absolute URI")
        }
        host = parts.host?.lowercased()
        path = parts.path
        switch scheme {
        case "https":
            guard let host, !host.isEmpty else {
                throw AgentError.Failed(reason: "the https redirect URI `\(redirectUri)` names no host")
            }
            callback = .https(host: host, path: path.isEmpty ? "/" : path)
        case "http":
            throw AgentError.Failed(
                reason: "the system sign-in sheet cannot catch the http redirect `\(redirectUri)`; register a "
                    + "private-use scheme (com.example.app:/oauth2redirect) or an https universal link")
        default:
            callback = .customScheme(scheme)
        }
    }

    /// Whether `url` is this redirect (same scheme, host and path; the query carries the answer).
    func matches(_ url: URL) -> Bool {
        guard let parts = URLComponents(url: url, resolvingAgainstBaseURL: false),
              let scheme = parts.scheme?.lowercased()
        else { return false }
        switch callback {
        case .customScheme(let expected):
            return scheme == expected && parts.host?.lowercased() == host && parts.path == path
        case .https(let host, let expectedPath):
            let actualPath = parts.path.isEmpty ? "/" : parts.path
            return scheme == "https" && parts.host?.lowercased() == host && actualPath == expectedPath
        }
    }
}

/// An error the sign-in sheet reported, as NSError sees it.
struct SignInSheetFailure: Equatable, Sendable {
    /// Whether it is an `ASWebAuthenticationSessionError` (its domain).
    let isWebAuthenticationError: Bool
    /// The error code.
    let code: Int
    /// The platform's description.
    let description: String
}

/// The codes of `ASWebAuthenticationSessionError.Code` (AuthenticationServices), by value.
enum WebAuthenticationErrorCode {
    /// The person closed the sheet or answered "Cancel" to the sign-in prompt.
    static let canceledLogin = 1
    /// No presentation context provider was set.
    static let presentationContextNotProvided = 2
    /// The presentation anchor was unusable (no window, or not in a window hierarchy).
    static let presentationContextInvalid = 3
}

/// What the sign-in sheet's completion (`callback` URL or `failure`) means for the agent: the
/// redirect to hand to the core, or the `AgentError` the core understands.
func signInOutcome(callback: URL?, failure: SignInSheetFailure?, redirect: AuthRedirect) -> Result<String, AgentError> {
    if let failure {
        guard failure.isWebAuthenticationError else { return .failure(.Failed(reason: failure.description)) }
        switch failure.code {
        case WebAuthenticationErrorCode.canceledLogin:
            return .failure(.Cancelled)
        case WebAuthenticationErrorCode.presentationContextNotProvided,
             WebAuthenticationErrorCode.presentationContextInvalid:
            return .failure(.BrowserUnavailable(reason: "no window to show the sign-in page over: \(failure.description)"))
        default:
            return .failure(.Failed(reason: failure.description))
        }
    }
    guard let callback else { return .failure(.Failed(reason: "the sign-in sheet closed without a redirect")) }
    guard redirect.matches(callback) else {
        return .failure(.Failed(reason: "the sign-in sheet returned to an unexpected address"))
    }
    return .success(callback.absoluteString)
}

/// Resumes a continuation exactly once, whichever of several callbacks comes first (the sheet's
/// completion may run on any thread, and a failed start reports without it).
final class ResumeOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, Error>?

    init(_ continuation: CheckedContinuation<Value, Error>) {
        self.continuation = continuation
    }

    /// Resumes with `result` unless already resumed; returns whether this call resumed.
    @discardableResult
    func resume<Failure: Error>(with result: Result<Value, Failure>) -> Bool {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        guard let pending else { return false }
        pending.resume(with: result.mapError { $0 as Error })
        return true
    }
}
