// The async-sequence adapter driving real onboardings (the Rust core over loopback HTTP against
// the in-process simulator), and the integration guide's example.

import Foundation
import Unbox
@testable import UnboxShell

struct FlowChecks: @unchecked Sendable {
    let sim: Simulator
    let info: SimulatorInfo

    static let steps: [FlowStep] = [.signIn, .createClaim, .connectDevice, .secureSession, .scanWifi, .pushClaim,
                                    .pushWifi, .waitDeviceOnline, .leaveDevice, .waitRedemption, .confirm]

    func client(wifi: PhoneWifi, signedIn: Bool = false) async throws -> OnboardingClient {
        let store = memorySecretStore()
        let config = AuthConfig(issuer: info.cloudUrl, clientId: info.clientId, redirectUri: info.redirectUri,
                                scopes: ["openid", "profile"], allowInsecureHttp: false)
        let account = try await discoverAuthSession(config: config, agent: ScriptedBrowser(), store: store)
        if signedIn { _ = try await account.signIn() }
        return try OnboardingClient(account: account, backendUrl: info.cloudUrl, ble: nil, phoneWifi: wifi,
                                    store: store, settings: sim.settings())
    }

    func request(_ device: SimulatedDevice, credentials: DeviceCredentials? = nil) throws -> OnboardingRequest {
        OnboardingRequest(
            deviceName: device.name,
            target: .softAp(ssid: device.name, passphrase: info.deviceApPassphrase, address: device.softapAddress),
            credentials: try credentials ?? .fromCode(code: parseOnboardingCode(text: device.setupCode)),
            wifi: WifiCredentials(ssid: info.homeSsid, passphrase: info.homePassphrase),
            scanWifi: true, wifiOnly: false)
    }

    func eventsThenResult() async throws {
        let device = info.devices[0]
        let wifi = RecordingWifi()
        let updates = try await client(wifi: wifi).updates(for: request(device))
        let (events, results) = try await withDeadline(60) {
            var events: [FlowEvent] = []
            var results: [Onboarded] = []
            for try await update in updates {
                try check(results.isEmpty, "an update after the result")
                switch update {
                case .event(let event): events.append(event)
                case .finished(let onboarded): results.append(onboarded)
                }
            }
            return (events, results)
        }
        try check(results.count == 1 && !(results[0].binding?.deviceId.isEmpty ?? true), "results \(results)")
        try check(results[0].network?.ssid == info.homeSsid, "network \(String(describing: results[0].network))")
        let started = events.filter { $0.kind == .started }.map(\.step)
        try check(started == Self.steps, "steps \(started)")
        let fractions = events.map(\.fraction)
        try check(fractions == fractions.sorted() && fractions.last == 1, "progress \(fractions)")
        try check(wifi.history.current == ["join \(device.name)", "leave \(device.name)"], "\(wifi.history.current)")
    }

    func typedErrorEndsTheSequence() async throws {
        let device = info.devices[1]
        let wrongCode = DeviceCredentials.sec2(username: "wifiprov", password: "not-the-password")
        let updates = try await client(wifi: RecordingWifi()).updates(for: request(device, credentials: wrongCode))
        let seen = Locked(0)
        do {
            try await withDeadline(60) {
                for try await update in updates {
                    if case .finished = update { throw Failure(description: "onboarded with a wrong device code") }
                    seen.with { $0 += 1 }
                }
                throw Failure(description: "the sequence ended without an error")
            }
        } catch OnboardingError.CheckDeviceCode(let message) {
            try check(!message.isEmpty, "no message")
        }
        try check(seen.current >= 3, "\(seen.current) events before the error")
    }

    /// Five times: the consumer's termination and the run's end race each other.
    func cancellingTheConsumerCancelsTheRun() async throws {
        for _ in 0..<5 { try await cancelConsumer() }
    }

    func cancelConsumer() async throws {
        let device = info.devices[2]
        let wifi = RecordingWifi(hold: true)
        let updates = try await client(wifi: wifi).updates(for: request(device))
        let consumer = Task {
            var steps: [FlowStep] = []
            for try await update in updates {
                if case .event(let event) = update, event.kind == .started { steps.append(event.step) }
            }
            return steps
        }
        try check(try await eventually(30) { wifi.history.current.contains("join \(device.name)") },
                  "the run never joined the device's network")
        consumer.cancel()
        let steps = try await withDeadline(10) { try await consumer.value }
        try check(Self.steps.starts(with: steps) && !steps.contains(.secureSession), "steps \(steps)")
        // Rust drops the pending join once the cancel handle fires: its Swift task is cancelled.
        try check(try await eventually(10) { wifi.history.current.contains("join cancelled") },
                  "the onboarding went on: \(wifi.history.current)")
    }

    func resumeWithNothingPending() async throws {
        let updates = try await client(wifi: RecordingWifi()).resumeUpdates()
        let last = try await withDeadline(30) {
            var last: FlowUpdate<[Onboarded]>?
            for try await update in updates { last = update }
            return last
        }
        guard case .finished(let resumed)? = last else { throw Failure(description: "ended with \(String(describing: last))") }
        try check(resumed.isEmpty, "resumed \(resumed)")
    }

    func integrationExample() async throws {
        let device = info.devices[3]
        let progress = Locked([FlowEvent]())
        let sim = sim
        let info = info
        let onboarded = try await withDeadline(60) {
            try await onboardScannedDevice(
                scannedCode: device.setupCode, home: WifiCredentials(ssid: info.homeSsid, passphrase: info.homePassphrase),
                issuer: info.cloudUrl, clientId: info.clientId, backendUrl: info.cloudUrl,
                agent: ScriptedBrowser(), wifi: manualJoinPhoneWifi(), store: memorySecretStore(),
                deviceAddress: device.softapAddress, settings: sim.settings()
            ) { event in progress.with { $0.append(event) } }
        }
        guard let bound = onboarded.binding else { throw Failure(description: "no binding") }
        let started = progress.current.filter { $0.kind == .started }.map(\.step)
        try check(started == Self.steps, "steps \(started)")
        // The same account, signed in on another client, offers the device it just set up.
        let client = try await client(wifi: manualJoinPhoneWifi(), signedIn: true)
        let offer = try await offerDevice(deviceId: bound.deviceId, client: client)
        try check(offer?.bindingId == bound.bindingId && offer?.code.isEmpty == false, "offer \(String(describing: offer?.bindingId))")
        try check(try await offerDevice(deviceId: "dev-unknown", client: client) == nil, "offered an unknown device")
    }
}
