// The secret store of iOS: generic-password items in the Keychain. Apple platforms only.

#if canImport(Security)
import Foundation
import Security
import Unbox

/// Keeps the core's secrets (refresh tokens, pending claims) as generic-password items of one
/// keychain service, readable after the first unlock, never synchronised nor restored to
/// another device (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`).
public final class KeychainSecretStore: SecretStore {
    private let queries: KeychainQueries

    /// A store of the items of `service` (for example your bundle id plus `.unbox`), in
    /// `accessGroup` when given (it must be one of the app's keychain access groups).
    public init(service: String, accessGroup: String? = nil) {
        queries = KeychainQueries(service: service, accessGroup: accessGroup)
    }

    /// The secret stored under `key`, or nil.
    public func get(key: String) async throws -> String? {
        var item: CFTypeRef?
        let status = SecItemCopyMatching(dictionary(queries.read(key)), &item)
        guard try keychainFound(status, key: key, operation: .read, platformMessage: message(status)) else { return nil }
        guard let data = item as? Data, let value = String(data: data, encoding: .utf8) else {
            throw SecretStoreError.Failed(key: key, reason: "the stored value is not text")
        }
        return value
    }

    /// Stores `value` under `key`: updates the entry, or adds it when there is none.
    public func put(key: String, value: String) async throws {
        let updated = SecItemUpdate(dictionary(queries.item(key)), dictionary(queries.changes(value)))
        if try keychainFound(updated, key: key, operation: .write, platformMessage: message(updated)) { return }
        var added = SecItemAdd(dictionary(queries.add(key, value: value)), nil)
        if added == KeychainStatus.duplicateItem {
            // Another writer added it in between: update theirs.
            added = SecItemUpdate(dictionary(queries.item(key)), dictionary(queries.changes(value)))
        }
        _ = try keychainFound(added, key: key, operation: .write, platformMessage: message(added))
    }

    /// Removes the entry of `key`; a missing entry is fine.
    public func delete(key: String) async throws {
        let status = SecItemDelete(dictionary(queries.item(key)))
        _ = try keychainFound(status, key: key, operation: .delete, platformMessage: message(status))
    }
}

/// The system's text for `status`.
private func message(_ status: OSStatus) -> String? {
    SecCopyErrorMessageString(status, nil) as String?
}

/// `query` with the Security framework's keys and values.
private func dictionary(_ query: KeychainQuery) -> CFDictionary {
    var result: [String: Any] = [:]
    for (attribute, value) in query {
        result[key(attribute)] = object(value)
    }
    return result as CFDictionary
}

private func key(_ attribute: KeychainAttribute) -> String {
    switch attribute {
    case .itemClass: return kSecClass as String
    case .service: return kSecAttrService as String
    case .account: return kSecAttrAccount as String
    case .accessGroup: return kSecAttrAccessGroup as String
    case .accessible: return kSecAttrAccessible as String
    case .valueData: return kSecValueData as String
    case .returnData: return kSecReturnData as String
    case .matchLimit: return kSecMatchLimit as String
    }
}

private func object(_ value: KeychainValue) -> Any {
    switch value {
    case .genericPassword: return kSecClassGenericPassword
    case .afterFirstUnlockThisDeviceOnly: return kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
    case .matchOne: return kSecMatchLimitOne
    case .yes: return true
    case .text(let text): return text
    case .data(let data): return data
    }
}
#endif
