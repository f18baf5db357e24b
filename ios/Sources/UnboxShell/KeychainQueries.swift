// The keychain queries of KeychainSecretStore and what the keychain's status codes mean, free of
// the Security framework's constants. Platform-independent (tested on Linux by
// ios/scripts/check.sh); KeychainSecretStore maps them onto `kSec...` keys.

import Foundation
import Unbox

/// An attribute of a keychain query (`kSecClass`, `kSecAttrService`, ...).
enum KeychainAttribute: Hashable {
    case itemClass, service, account, accessGroup, accessible, valueData, returnData, matchLimit
}

/// A value of a keychain query attribute.
enum KeychainValue: Equatable {
    /// `kSecClassGenericPassword`.
    case genericPassword
    /// `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: readable in the background after the
    /// first unlock, never in backups restored to another device.
    case afterFirstUnlockThisDeviceOnly
    /// `kSecMatchLimitOne`.
    case matchOne
    /// `true`.
    case yes
    /// A string.
    case text(String)
    /// Bytes (the secret itself, for `valueData`).
    case data(Data)
}

/// A keychain query: attributes and their values.
typealias KeychainQuery = [KeychainAttribute: KeychainValue]

/// The queries of one store: generic passwords of one service (and access group), one per key.
struct KeychainQueries: Sendable {
    /// The `kSecAttrService` all entries share.
    let service: String
    /// The keychain access group shared with other apps of the team, if any.
    let accessGroup: String?

    /// Identifies the entry of `key`.
    func item(_ key: String) -> KeychainQuery {
        var query: KeychainQuery = [.itemClass: .genericPassword, .service: .text(service), .account: .text(key)]
        if let accessGroup { query[.accessGroup] = .text(accessGroup) }
        return query
    }

    /// Reads the secret of `key`.
    func read(_ key: String) -> KeychainQuery {
        item(key).merging([.returnData: .yes, .matchLimit: .matchOne]) { _, new in new }
    }

    /// The attributes an update sets: the secret and its accessibility.
    func changes(_ value: String) -> KeychainQuery {
        [.valueData: .data(Data(value.utf8)), .accessible: .afterFirstUnlockThisDeviceOnly]
    }

    /// Adds the entry of `key` holding `value`.
    func add(_ key: String, value: String) -> KeychainQuery {
        item(key).merging(changes(value)) { _, new in new }
    }
}

/// Keychain status codes (`OSStatus`, Security framework), by value.
enum KeychainStatus {
    /// `errSecSuccess`.
    static let success: Int32 = 0
    /// `errSecUserCanceled`: the person cancelled an authentication prompt.
    static let userCanceled: Int32 = -128
    /// `errSecNotAvailable`: no keychain is available.
    static let notAvailable: Int32 = -25291
    /// `errSecAuthFailed`: the credentials were not valid.
    static let authFailed: Int32 = -25293
    /// `errSecDuplicateItem`: the entry exists already.
    static let duplicateItem: Int32 = -25299
    /// `errSecItemNotFound`: no such entry.
    static let itemNotFound: Int32 = -25300
    /// `errSecInteractionNotAllowed`: the keychain is locked (before the first unlock).
    static let interactionNotAllowed: Int32 = -25308
    /// `errSecMissingEntitlement`: the app may not use the access group.
    static let missingEntitlement: Int32 = -34018
}

/// What the store was doing, for error messages.
enum KeychainOperation: String {
    case read, write, delete
}

/// Whether a keychain call with `status` found its entry: `true` done, `false` no such entry;
/// any other status throws the `SecretStoreError` the core understands. `platformMessage` is
/// the system's text for the status. Never mentions a secret.
func keychainFound(_ status: Int32, key: String, operation: KeychainOperation, platformMessage: String?) throws -> Bool {
    let detail = platformMessage.map { " (\($0))" } ?? ""
    switch status {
    case KeychainStatus.success:
        return true
    case KeychainStatus.itemNotFound:
        return false
    case KeychainStatus.interactionNotAllowed:
        throw SecretStoreError.Unavailable(reason: "the keychain stays locked until the phone is first unlocked after a restart")
    case KeychainStatus.missingEntitlement:
        throw SecretStoreError.Unavailable(reason: "the app lacks the entitlement for its keychain access group")
    case KeychainStatus.notAvailable:
        throw SecretStoreError.Unavailable(reason: "no keychain is available\(detail)")
    case KeychainStatus.userCanceled, KeychainStatus.authFailed:
        throw SecretStoreError.Unavailable(reason: "keychain access was refused\(detail)")
    default:
        throw SecretStoreError.Failed(key: key, reason: "keychain \(operation.rawValue) failed with status \(status)\(detail)")
    }
}
