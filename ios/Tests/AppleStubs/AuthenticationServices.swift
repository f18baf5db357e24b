// Stand-in for Apple's AuthenticationServices (and UIWindow): only what the shell uses, transcribed
// from Apple's documentation, with the stricter concurrency annotations where SDKs differ, so that
// ios/scripts/check.sh can typecheck the Apple-only files on Linux. Not the SDK: building the
// package in Xcode remains the real check.

import Foundation

@MainActor open class UIWindow {
    public nonisolated init() {}
}

public typealias ASPresentationAnchor = UIWindow

public let ASWebAuthenticationSessionErrorDomain = "com.apple.AuthenticationServices.WebAuthenticationSession"

public protocol ASWebAuthenticationPresentationContextProviding: NSObjectProtocol {
    @MainActor func presentationAnchor(for session: ASWebAuthenticationSession) -> ASPresentationAnchor
}

open class ASWebAuthenticationSession: NSObject {
    public typealias CompletionHandler = (URL?, (any Error)?) -> Void

    open class Callback: NSObject {
        open class func customScheme(_ customScheme: String) -> Self { fatalError("stub") }
        open class func https(host: String, path: String) -> Self { fatalError("stub") }
    }

    public init(url URL: URL, callbackURLScheme: String?, completionHandler: @escaping CompletionHandler) {}
    @available(iOS 17.4, macOS 14.4, *)
    public init(url URL: URL, callback: Callback, completionHandler: @escaping CompletionHandler) {}

    weak open var presentationContextProvider: (any ASWebAuthenticationPresentationContextProviding)?
    open var prefersEphemeralWebBrowserSession = false
    open func start() -> Bool { fatalError("stub") }
    open func cancel() {}
}
