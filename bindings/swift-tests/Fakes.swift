// Swift implementations of the traits the iOS shell owns, for the binding tests.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A browser the person closes.
final class ClosedBrowser: AuthorizationAgent, @unchecked Sendable {
    func authorize(url: String, redirectUri: String) async throws -> String { throw AgentError.Cancelled }
}

/// The Keychain stand-in: in memory, counting the calls Rust makes.
final class SwiftSecretStore: SecretStore, @unchecked Sendable {
    let entries = Locked([String: String]())
    let calls = Locked(0)

    func get(key: String) async throws -> String? {
        calls.with { $0 += 1 }
        return entries.with { $0[key] }
    }

    func put(key: String, value: String) async throws {
        calls.with { $0 += 1 }
        entries.with { $0[key] = value }
    }

    func delete(key: String) async throws {
        calls.with { $0 += 1 }
        _ = entries.with { $0.removeValue(forKey: key) }
    }
}

/// The phone's Wi-Fi, faked (the simulated access points are loopback servers). With `hold`,
/// joining waits until the task is cancelled.
final class FakePhoneWifi: PhoneWifi, @unchecked Sendable {
    let apPassphrase: String
    let openNetworks: Set<String>
    let hold: Bool
    let history = Locked([String]())
    let joinStarted = Locked(false)

    /// Joins the devices' access points: `apPassphrase`'s, or `openNetworks` without one.
    init(apPassphrase: String, openNetworks: Set<String> = [], hold: Bool = false) {
        self.apPassphrase = apPassphrase
        self.openNetworks = openNetworks
        self.hold = hold
    }

    func joinNetwork(ssid: String, passphrase: String?) async throws {
        joinStarted.with { $0 = true }
        while hold { try await Task.sleep(nanoseconds: 10_000_000) }
        let open = passphrase == nil && openNetworks.contains(ssid)
        guard open || passphrase == apPassphrase else { throw PhoneWifiError.JoinFailed(ssid: ssid, reason: "wrong passphrase") }
        history.with { $0.append("join \(ssid)") }
    }

    func leaveNetwork(ssid: String) async throws {
        history.with { $0.append("leave \(ssid)") }
    }

    func scanNetworks() async throws -> [WifiNetwork] { [] }
}

final class RecordingObserver: FlowObserver, @unchecked Sendable {
    let events = Locked([FlowEvent]())
    func onEvent(event: FlowEvent) { events.with { $0.append(event) } }
    var started: [FlowStep] { events.current.filter { $0.kind == .started }.map { $0.step } }
}

/// Signals when a step starts.
final class StepSignal: FlowObserver, @unchecked Sendable {
    let step: FlowStep
    let reached = Locked(false)
    init(step: FlowStep) { self.step = step }
    func onEvent(event: FlowEvent) {
        if event.step == step && event.kind == .started { reached.with { $0 = true } }
    }
}

/// The person picks the strongest network the device sees and types `passphrase`.
final class FirstNetworkChooser: NetworkChooser, @unchecked Sendable {
    let passphrase: String
    let seen = Locked<NetworkList?>(nil)
    init(passphrase: String) { self.passphrase = passphrase }
    func choose(networks: NetworkList) async -> WifiCredentials? {
        seen.with { $0 = networks }
        return networks.networks.first.map { WifiCredentials(ssid: $0.ssid, passphrase: passphrase) }
    }
}

/// The person closes the picker.
final class CancelsChoice: NetworkChooser, @unchecked Sendable {
    func choose(networks: NetworkList) async -> WifiCredentials? { nil }
}

/// Answers the first password prompt with `answer`, then gives up.
final class OneAnswer: WifiPasswordPrompt, @unchecked Sendable {
    let answer: String
    let asked = Locked(0)
    init(answer: String) { self.answer = answer }
    func askAgain(ssid: String, attempt: UInt32) async -> String? {
        asked.with { count -> Int in count += 1; return count } == 1 ? answer : nil
    }
}

final class RecordingLogger: Logger, @unchecked Sendable {
    let records = Locked([LogRecord]())
    func log(record: LogRecord) { records.with { $0.append(record) } }
}

/// An iOS-style central in Swift forwarding to the simulated Bluetooth world, so every GATT
/// operation of an onboarding passes through Swift.
final class SwiftBleCentral: BleCentral, @unchecked Sendable {
    let radio: BleCentral
    let writes = Locked(0)
    let reads = Locked(0)

    init(radio: BleCentral) { self.radio = radio }

    func startScan(filter: ScanFilter, sink: AdvertisementSink) async throws {
        try await radio.startScan(filter: filter, sink: sink)
    }

    func stopScan() async throws { try await radio.stopScan() }

    func connect(peripheralId: String) async throws -> BleLink {
        let link = try await radio.connect(peripheralId: peripheralId)
        return BleLink(connection: SwiftConnection(inner: link.connection(), central: self))
    }
}

final class SwiftConnection: BleConnection, @unchecked Sendable {
    let inner: BleConnection
    let central: SwiftBleCentral

    init(inner: BleConnection, central: SwiftBleCentral) {
        self.inner = inner
        self.central = central
    }

    func mtu() -> UInt16 { inner.mtu() }

    func discover(service: UUID) async throws -> [GattCharacteristic] { try await inner.discover(service: service) }

    func write(characteristic: UUID, value: Data) async throws {
        central.writes.with { $0 += 1 }
        try await inner.write(characteristic: characteristic, value: value)
    }

    func read(characteristic: UUID) async throws -> Data {
        central.reads.with { $0 += 1 }
        return try await inner.read(characteristic: characteristic)
    }

    func subscribe(characteristic: UUID, sink: NotificationSink) async throws {
        try await inner.subscribe(characteristic: characteristic, sink: sink)
    }

    func disconnect() async { await inner.disconnect() }
}
