// The authorization agent of iOS: the provider's sign-in page in ASWebAuthenticationSession, the
// system browser sheet RFC 8252 asks for. Apple platforms only.

#if canImport(AuthenticationServices)
import AuthenticationServices
import Foundation
import Unbox

/// Shows the provider's sign-in page in the system browser sheet and returns the redirect.
///
/// The redirect URI of the `AuthConfig` must be a private-use scheme
/// (`com.example.app:/oauth2redirect`, any iOS) or an https link on a domain associated with
/// the app (iOS 17.4+). Closing the sheet is `AgentError.Cancelled`; cancelling the sign-in
/// (the core's timeout or `CancelHandle`) closes the sheet.
public final class WebAuthenticationAgent: AuthorizationAgent {
    private let prefersEphemeralSession: Bool
    private let anchor: @MainActor @Sendable () -> ASPresentationAnchor

    /// An agent presenting over the window `anchor` returns (for example `{ view.window! }`).
    /// With `prefersEphemeralSession` the sheet shares no cookies with Safari: the person signs
    /// in every time and iOS shows no "wants to use … to sign in" prompt.
    public init(prefersEphemeralSession: Bool = false, anchor: @escaping @MainActor @Sendable () -> ASPresentationAnchor) {
        self.prefersEphemeralSession = prefersEphemeralSession
        self.anchor = anchor
    }

    /// Opens `url` in the sheet and returns the URL the provider redirected to.
    public func authorize(url: String, redirectUri: String) async throws -> String {
        let redirect = try AuthRedirect(parsing: redirectUri)
        guard let page = URL(string: url), ["https", "http"].contains(page.scheme?.lowercased() ?? "") else {
            throw AgentError.Failed(reason: "the sign-in address is not an http(s) URL")
        }
        let sheet = await SignInSheet()
        let ephemeral = prefersEphemeralSession
        let anchor = anchor
        return try await withTaskCancellationHandler {
            try await sheet.present(page, redirect: redirect, ephemeral: ephemeral, anchor: anchor)
        } onCancel: {
            Task { @MainActor in sheet.close() }
        }
    }
}

/// One sign-in sheet, on the main thread: presented once, closed on cancellation.
@MainActor
private final class SignInSheet {
    private var session: ASWebAuthenticationSession?
    private var context: PresentationContext?
    private var pending: ResumeOnce<String>?
    private var closed = false

    func present(
        _ page: URL, redirect: AuthRedirect, ephemeral: Bool, anchor: @MainActor @Sendable () -> ASPresentationAnchor
    ) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            pending = once
            if closed {
                once.resume(with: Result<String, AgentError>.failure(.Cancelled))
                return
            }
            // Sendable, so not tied to the main actor: the sheet may call it on any thread.
            let completion: ASWebAuthenticationSession.CompletionHandler = { @Sendable callback, error in
                once.resume(with: signInOutcome(callback: callback, failure: error.map(sheetFailure), redirect: redirect))
            }
            let session: ASWebAuthenticationSession
            do {
                session = try makeSession(page, redirect: redirect, completion: completion)
            } catch {
                once.resume(with: Result<String, Error>.failure(error))
                return
            }
            let context = PresentationContext(anchor: anchor())
            session.presentationContextProvider = context
            session.prefersEphemeralWebBrowserSession = ephemeral
            self.session = session
            self.context = context
            if !session.start() {
                once.resume(with: Result<String, AgentError>.failure(
                    .BrowserUnavailable(reason: "the system could not open the sign-in sheet")))
            }
        }
    }

    /// Closes the sheet and ends the sign-in as cancelled: `cancel()` does not call the
    /// completion handler, so the waiting call is resumed here.
    func close() {
        closed = true
        session?.cancel()
        pending?.resume(with: Result<String, AgentError>.failure(.Cancelled))
    }
}

/// A sheet catching `redirect`: by scheme (any iOS) or, from iOS 17.4, by scheme or https link.
private func makeSession(
    _ page: URL, redirect: AuthRedirect, completion: @escaping ASWebAuthenticationSession.CompletionHandler
) throws -> ASWebAuthenticationSession {
    switch redirect.callback {
    case .customScheme(let scheme):
        if #available(iOS 17.4, macOS 14.4, *) {
            return ASWebAuthenticationSession(url: page, callback: .customScheme(scheme), completionHandler: completion)
        }
        return ASWebAuthenticationSession(url: page, callbackURLScheme: scheme, completionHandler: completion)
    case .https(let host, let path):
        if #available(iOS 17.4, macOS 14.4, *) {
            return ASWebAuthenticationSession(url: page, callback: .https(host: host, path: path), completionHandler: completion)
        }
        throw AgentError.Failed(
            reason: "an https redirect needs iOS 17.4 or later; register a private-use scheme redirect for older systems")
    }
}

/// The sheet's error as the platform-independent mapping reads it.
private func sheetFailure(_ error: Error) -> SignInSheetFailure {
    let error = error as NSError
    return SignInSheetFailure(
        isWebAuthenticationError: error.domain == ASWebAuthenticationSessionErrorDomain,
        code: error.code,
        description: error.localizedDescription)
}

/// Presents the sheet over the window chosen when it opened.
private final class PresentationContext: NSObject, ASWebAuthenticationPresentationContextProviding {
    private let anchor: ASPresentationAnchor

    init(anchor: ASPresentationAnchor) {
        self.anchor = anchor
    }

    func presentationAnchor(for session: ASWebAuthenticationSession) -> ASPresentationAnchor {
        anchor
    }
}
#endif
