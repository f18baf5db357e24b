// Stand-in for Apple's CoreBluetooth (the authorization state), plus `platformBleCentral()`, which
// only the iOS library's bindings have (cargo feature `btleplug`): only what the shell uses,
// transcribed from Apple's documentation, so that ios/scripts/check.sh can typecheck the
// Apple-only files on Linux. Not the SDK: building the package in Xcode remains the real check.

import Foundation
import Unbox

public enum CBManagerAuthorization: Int {
    case notDetermined, restricted, denied, allowedAlways
}

open class CBManager: NSObject {
    open class var authorization: CBManagerAuthorization { fatalError("stub") }
}

/// The bindings' btleplug central (generated from the library built with feature `btleplug`).
public func platformBleCentral() async throws -> BleCentral { fatalError("stub") }
