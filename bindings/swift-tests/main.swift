// The generated Swift bindings against the real library and the in-process simulator: the same
// scenarios as the Kotlin tests. Prints one line per test and "N passed, N failed" at the end.

import Foundation

@main
struct BindingTests {
    static func main() async {
        let sim: Simulator
        do {
            sim = try await startSimulator(devices: 9)
        } catch {
            print("cannot start the simulator: \(error)")
            exit(1)
        }
        let info = sim.info()
        let suite = Suite(sim: sim, info: info)
        let tests: [(String, () async throws -> Void)] = [
            ("a malformed code is a typed error with the core's message", suite.typedQrErrors),
            ("a parsed code summarises without secrets unless asked", suite.summaries),
            ("Rust signs in through the Swift browser and Swift store", suite.signIn),
            ("an error thrown by a Swift trait reaches the caller typed", suite.traitErrors),
            ("a hundred concurrent tasks call Rust which calls back into Swift", suite.concurrency),
            ("the cancel handle stops a running onboarding", suite.cancellation),
            ("log records reach the Swift logger at the chosen level", suite.logging),
            ("a whole onboarding over SoftAP", suite.softApOnboarding),
            ("a whole onboarding over BLE through a Swift central", suite.bleOnboarding),
            ("the account's devices are listed, handed to another account and unbound", suite.accountDevices),
            ("a captive-portal device is bound through its form, with the cleartext warning, or refused", suite.portalOnboarding),
            ("an Improv device is onboarded over a Swift central once its button is pressed", suite.improvOnboarding),
            ("the staged API claims, lists networks, provisions again after a wrong password, binds, closes", suite.stagedWithBinding),
            ("the staged API in Wi-Fi-only mode provisions and has nothing to bind", suite.stagedWifiOnly),
            ("run without a network lets the Swift chooser pick one and asks the password again", suite.chooser),
            ("a staged session closed while it waits for the device stops and leaves the access point", suite.stagedClose),
        ]
        await runChecks(tests, cleanUp: sim.stop)
    }
}

struct Suite: @unchecked Sendable {
    let sim: Simulator
    let info: SimulatorInfo

    func authConfig() -> AuthConfig {
        AuthConfig(issuer: info.cloudUrl, clientId: info.clientId, redirectUri: info.redirectUri,
                   scopes: ["openid", "profile"], allowInsecureHttp: false)
    }

    func request(_ device: SimulatedDevice, credentials: DeviceCredentials? = nil, target: DeviceTarget? = nil) throws -> OnboardingRequest {
        OnboardingRequest(
            deviceName: device.name,
            target: target ?? .softAp(ssid: device.name, passphrase: info.deviceApPassphrase, address: device.softapAddress),
            credentials: try credentials ?? .fromCode(code: parseOnboardingCode(text: device.setupCode)),
            wifi: WifiCredentials(ssid: info.homeSsid, passphrase: info.homePassphrase),
            scanWifi: true, wifiOnly: false)
    }

    func client(store: SecretStore, wifi: PhoneWifi?, ble: BleCentral? = nil) async throws -> OnboardingClient {
        let account = try await discoverAuthSession(config: authConfig(), agent: ScriptedBrowser(), store: store)
        return try OnboardingClient(account: account, backendUrl: info.cloudUrl, ble: ble, phoneWifi: wifi,
                                    store: store, settings: sim.settings())
    }

    func typedQrErrors() async throws {
        do {
            _ = try parseOnboardingCode(text: "{not json")
            throw Failure(description: "parsed malformed JSON")
        } catch QrError.InvalidJson(let message) {
            try check(message.contains("not valid JSON"), message)
        }
        do {
            _ = try parseOnboardingCode(text: "3497-011-2333")
            throw Failure(description: "parsed a mistyped manual code")
        } catch QrError.InvalidManualCode {}
    }

    func summaries() async throws {
        let code = try parseOnboardingCode(text: info.devices[0].setupCode)
        try check(code.kind() == .espressif, "kind \(code.kind())")
        let hidden = code.summary(revealSecrets: false).fields.first { $0.label == "pop" }?.value
        try check(hidden == "[redacted]", "pop shown as \(hidden ?? "nothing")")
        let shown = code.summary(revealSecrets: true).fields.first { $0.label == "pop" }?.value
        try check(shown == info.devicePassword, "revealed pop")
        let image = try QrImage.encode(text: info.devices[0].setupCode)
        try check(Int(image.width() * image.width()) == image.modules().count, "module count")
    }

    func signIn() async throws {
        let store = SwiftSecretStore()
        let browser = ScriptedBrowser()
        let session = try await discoverAuthSession(config: authConfig(), agent: browser, store: store)
        try check(try await !session.isSignedIn(), "signed in before signing in")
        let identity = try await session.signIn()
        try check(identity?.subject == "user-alice", "identity \(String(describing: identity))")
        try check(browser.opened.current == 1, "browser opened \(browser.opened.current) times")
        try check(try await session.isSignedIn(), "not signed in")
        try check(!store.entries.current.isEmpty, "nothing stored")
        try await session.signOut()
        try check(try await !session.isSignedIn(), "still signed in")
    }

    func traitErrors() async throws {
        let session = try await discoverAuthSession(config: authConfig(), agent: ClosedBrowser(), store: memorySecretStore())
        do {
            _ = try await session.signIn()
            throw Failure(description: "signed in through a closed browser")
        } catch AuthError.Cancelled(let message) {
            try check(message == "the sign-in was cancelled; start it again when you are ready", message)
        }
    }

    func concurrency() async throws {
        let store = SwiftSecretStore()
        let session = try await discoverAuthSession(config: authConfig(), agent: ScriptedBrowser(), store: store)
        let answers = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<100 { group.addTask { try await session.isSignedIn() } }
            var all: [Bool] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        try check(answers.count == 100 && answers.allSatisfy { !$0 }, "answers \(answers.count)")
        try check(store.calls.current == 100, "store calls \(store.calls.current)")
    }

    func cancellation() async throws {
        let wifi = FakePhoneWifi(apPassphrase: info.deviceApPassphrase, hold: true)
        let client = try await client(store: SwiftSecretStore(), wifi: wifi)
        let cancel = CancelHandle()
        let observer = RecordingObserver()
        let request = try request(info.devices[2])
        let run = Task { try await client.run(request: request, observer: observer, prompt: nil, cancel: cancel) }
        for _ in 0..<3000 where !wifi.joinStarted.current { try await Task.sleep(nanoseconds: 10_000_000) }
        try check(wifi.joinStarted.current, "the flow never joined the device's network")
        cancel.cancel()
        do {
            _ = try await withDeadline(10) { try await run.value }
            throw Failure(description: "the run finished despite the cancellation")
        } catch OnboardingError.Cancelled {}
        try check(cancel.isCancelled(), "handle not cancelled")
        try check(observer.started.last == .connectDevice, "last step \(String(describing: observer.started.last))")
    }

    func logging() async throws {
        let logger = RecordingLogger()
        setLogger(logger: logger, maxLevel: .warn)
        _ = try await discoverAuthSession(config: authConfig(), agent: ScriptedBrowser(), store: memorySecretStore()).signIn()
        try check(logger.records.current.allSatisfy { $0.level == .warn || $0.level == .error }, "\(logger.records.current)")
        setLogger(logger: logger, maxLevel: .info)
        _ = try await discoverAuthSession(config: authConfig(), agent: ScriptedBrowser(), store: memorySecretStore()).signIn()
        clearLogger()
        try check(logger.records.current.contains { $0.message.contains("opening the sign-in page") }, "\(logger.records.current)")
    }

    func softApOnboarding() async throws {
        let device = info.devices[0]
        let wifi = FakePhoneWifi(apPassphrase: info.deviceApPassphrase)
        let observer = RecordingObserver()
        let client = try await client(store: SwiftSecretStore(), wifi: wifi)
        let request = try request(device)
        let done = try await withDeadline(60) {
            try await client.run(request: request, observer: observer, prompt: nil, cancel: CancelHandle())
        }
        try check(done.binding.map { !$0.deviceId.isEmpty } ?? false, "no device id")
        try check(done.network?.ssid == info.homeSsid, "network \(String(describing: done.network))")
        try check(done.confirmation == .reported, "confirmation \(done.confirmation)")
        try check(wifi.history.current == ["join \(device.name)", "leave \(device.name)"], "\(wifi.history.current)")
        let expected: [FlowStep] = [.signIn, .createClaim, .connectDevice, .secureSession, .scanWifi, .pushClaim,
                                    .pushWifi, .waitDeviceOnline, .leaveDevice, .waitRedemption, .confirm]
        try check(observer.started == expected, "steps \(observer.started)")
        try check(try await client.pendingClaims().isEmpty, "claims left pending")
    }

    func bleOnboarding() async throws {
        let device = info.devices[1]
        let central = SwiftBleCentral(radio: sim.bleCentral())
        let client = try await client(store: SwiftSecretStore(), wifi: nil, ble: central)
        let request = try request(device, credentials: .sec2(username: "wifiprov", password: info.devicePassword),
                                  target: .ble(peripheralId: device.peripheralId, service: info.bleService))
        let done = try await withDeadline(60) {
            try await client.run(request: request, observer: RecordingObserver(), prompt: nil, cancel: CancelHandle())
        }
        try check(done.network != nil, "no network")
        try check(central.writes.current > 5 && central.reads.current > 5,
                  "\(central.writes.current) writes, \(central.reads.current) reads")
    }

    func portalOnboarding() async throws {
        guard info.portals.count == 2 else { throw Failure(description: "\(info.portals.count) portal devices") }
        func portalRequest(_ portal: SimulatedPortal) -> OnboardingRequest { OnboardingRequest(
            deviceName: portal.name,
            target: .portal(ssid: portal.name, passphrase: nil, address: portal.address, parameters: [],
                            claimParameter: portal.claimParameter, deviceId: portal.deviceId, announce: portal.announce),
            credentials: .sec0,
            wifi: WifiCredentials(ssid: info.homeSsid, passphrase: info.homePassphrase),
            scanWifi: true, wifiOnly: false) }
        let portal = info.portals[0]
        let request = portalRequest(portal)
        var strictSettings = sim.settings()
        strictSettings.allowCleartextProtocols = false
        let strictStore = memorySecretStore()
        let strictAccount = try await discoverAuthSession(config: authConfig(), agent: ScriptedBrowser(), store: strictStore)
        let strict = try OnboardingClient(account: strictAccount, backendUrl: info.cloudUrl, ble: nil,
                                          phoneWifi: FakePhoneWifi(apPassphrase: info.deviceApPassphrase, openNetworks: [portal.name]),
                                          store: strictStore, settings: strictSettings)
        do {
            _ = try await strict.run(request: request, observer: RecordingObserver(), prompt: nil, cancel: CancelHandle())
            throw Failure(description: "a cleartext device was onboarded against the policy")
        } catch let error as OnboardingError {
            try check("\(error)".contains("unencrypted"), "\(error)")
        }

        let wifi = FakePhoneWifi(apPassphrase: info.deviceApPassphrase, openNetworks: [portal.name])
        let observer = RecordingObserver()
        let client = try await client(store: SwiftSecretStore(), wifi: wifi)
        let done = try await withDeadline(60) {
            try await client.run(request: request, observer: observer, prompt: nil, cancel: CancelHandle())
        }
        try check(done.binding?.deviceId == portal.deviceId, "binding \(String(describing: done.binding))")
        try check(done.confirmation == .redeemed, "confirmation \(done.confirmation)")
        try check(observer.events.current.contains { $0.kind == .warning && $0.message.contains("does not encrypt") },
                  "no cleartext warning")
        try check(wifi.history.current == ["join \(portal.name)", "leave \(portal.name)"], "\(wifi.history.current)")

        // Wi-Fi only: the portal never reports; the service browser sees the device arrive.
        let store = memorySecretStore()
        let browsing = try OnboardingClient(
            account: try await discoverAuthSession(config: authConfig(), agent: ScriptedBrowser(), store: store),
            backendUrl: info.cloudUrl, ble: nil,
            phoneWifi: FakePhoneWifi(apPassphrase: info.deviceApPassphrase, openNetworks: [info.portals[1].name]),
            store: store, settings: sim.settings(), serviceBrowser: sim.serviceBrowser())
        var unbound = portalRequest(info.portals[1])
        unbound.wifiOnly = true
        let wifiOnly = unbound
        let seen = try await withDeadline(60) {
            try await browsing.run(request: wifiOnly, observer: RecordingObserver(), prompt: nil, cancel: CancelHandle())
        }
        try check(seen.confirmation == .reported, "confirmation \(seen.confirmation)")
        try check(seen.binding == nil && seen.network != nil, "\(seen)")
    }

    func improvOnboarding() async throws {
        let improv = info.improv
        let central = SwiftBleCentral(radio: sim.improvCentral())
        let observer = RecordingObserver()
        let request = OnboardingRequest(
            deviceName: improv.name, target: .improvBle(peripheralId: improv.peripheralId), credentials: .sec0,
            wifi: WifiCredentials(ssid: info.homeSsid, passphrase: info.homePassphrase), scanWifi: true, wifiOnly: true)
        let client = try await client(store: SwiftSecretStore(), wifi: nil, ble: central)
        let done = try await withDeadline(60) {
            try await client.run(request: request, observer: observer, prompt: nil, cancel: CancelHandle())
        }
        try check(done.binding == nil && done.confirmation == .reported, "\(done)")
        try check(done.network?.redirectUrl == improv.redirectUrl, "redirect \(String(describing: done.network))")
        let messages = observer.events.current.map { $0.message }
        try check(messages.contains { $0.hasPrefix("Press the button on the device") }, "\(messages)")
        try check(observer.events.current.contains { $0.kind == .warning && $0.message.contains("does not encrypt") }, "\(messages)")
        try check(central.writes.current >= 2, "\(central.writes.current) writes")
    }

    func accountDevices() async throws {
        let alice = try await client(store: SwiftSecretStore(), wifi: FakePhoneWifi(apPassphrase: info.deviceApPassphrase))
        let request = try request(info.devices[3])
        let done = try await withDeadline(60) {
            try await alice.run(request: request, observer: RecordingObserver(), prompt: nil, cancel: CancelHandle())
        }
        guard let bound = done.binding else { throw Failure(description: "no binding") }
        let listed = try await alice.devices(includeEnded: false).filter { $0.bindingId == bound.bindingId }
        try check(listed.count == 1 && listed[0].deviceId == bound.deviceId && listed[0].endReason == nil, "\(listed)")
        try check(listed[0].boundByClient == info.clientId, "bound by \(listed[0].boundByClient)")

        let offer = try await alice.offerTransfer(bindingId: bound.bindingId)
        try check(offer.deviceId == bound.deviceId, "offered \(offer.deviceId)")
        let bobStore = SwiftSecretStore()
        let bobAccount = try await discoverAuthSession(config: authConfig(), agent: ScriptedBrowser(loginHint: "bob@example.com"),
                                                       store: bobStore)
        let bob = try OnboardingClient(account: bobAccount, backendUrl: info.cloudUrl, ble: nil, phoneWifi: nil,
                                       store: bobStore, settings: sim.settings())
        do {
            _ = try await bob.devices(includeEnded: false)
            throw Failure(description: "listed devices before signing in")
        } catch DevicesError.SignIn {}
        try check(try await bobAccount.signIn()?.subject == "user-bob", "not signed in as bob")
        let accepted = try await bob.acceptTransfer(code: offer.code)
        try check(accepted.deviceId == bound.deviceId, "accepted \(accepted.deviceId)")
        // Both see the outcome: the receiver has the device, the giver sees why it left.
        try check(try await bob.devices(includeEnded: false).map { $0.bindingId } == [accepted.bindingId], "bob's list")
        try check(try await alice.devices(includeEnded: false).allSatisfy { $0.deviceId != bound.deviceId }, "still alice's")
        let ended = try await alice.devices(includeEnded: true).first { $0.bindingId == bound.bindingId }
        try check(ended?.endReason == .transferred && ended?.endedAt != nil, "\(String(describing: ended))")
        do {
            _ = try await bob.acceptTransfer(code: offer.code)
            throw Failure(description: "a transfer code was accepted twice")
        } catch DevicesError.CheckTransferCode {}
        do {
            _ = try await alice.offerTransfer(bindingId: bound.bindingId)
            throw Failure(description: "a device that left was offered")
        } catch DevicesError.RefreshDevices {}
        do {
            try await bob.unbind(bindingId: "../x")
            throw Failure(description: "a malformed binding id was sent")
        } catch DevicesError.InvalidRequest {}

        try await bob.unbind(bindingId: accepted.bindingId)
        try check(try await bob.devices(includeEnded: false).isEmpty, "bob still has a device")
        try check(try await bob.devices(includeEnded: true).map { $0.endReason } == [.unbound], "bob's ended list")
    }

    func setupRequest(_ device: SimulatedDevice, wifiOnly: Bool) throws -> SetupRequest {
        SetupRequest(deviceName: device.name,
                     target: .softAp(ssid: device.name, passphrase: info.deviceApPassphrase, address: device.softapAddress),
                     credentials: .fromCode(code: try parseOnboardingCode(text: device.setupCode)),
                     wifiOnly: wifiOnly)
    }

    func stagedWithBinding() async throws {
        let device = info.devices[4]
        let wifi = FakePhoneWifi(apPassphrase: info.deviceApPassphrase)
        let client = try await client(store: SwiftSecretStore(), wifi: wifi)
        let observer = RecordingObserver()
        let request = try setupRequest(device, wifiOnly: false)
        let session = try await withDeadline(60) {
            try await client.connect(request: request, observer: observer, cancel: CancelHandle())
        }
        // The claim exists before the phone joins the device's access point.
        try check(observer.started == [.signIn, .createClaim, .connectDevice, .secureSession], "steps \(observer.started)")
        let details = session.details()
        try check(details.`protocol` == .espUnified && details.security == .sec2 && details.protection == .encrypted,
                  "\(details)")
        try check(details.bindingModes.contains(.claim) && details.canScan, "\(details)")
        try check(session.bindingMode() == .claim, "binding mode")

        let networks = try await session.scanNetworks(observer: observer)
        try check(networks.networks.map { $0.ssid } == [info.homeSsid, "Neighbour"], "\(networks)")
        let home = networks.networks[0]
        try check(home.needsPassphrase && home.warning == nil && (1...4).contains(home.bars) && home.band != .unknown,
                  "\(home)")

        do {
            _ = try await session.provision(wifi: WifiCredentials(ssid: info.homeSsid, passphrase: "wrong password"),
                                            observer: observer)
            throw Failure(description: "a wrong password was accepted")
        } catch OnboardingError.EnterWifiPassword {}
        let homeWifi = WifiCredentials(ssid: info.homeSsid, passphrase: info.homePassphrase)
        let network = try await withDeadline(60) { try await session.provision(wifi: homeWifi, observer: observer) }
        try check(network?.ssid == info.homeSsid, "network \(String(describing: network))")
        let binding = try await withDeadline(60) { try await session.bind(observer: observer) }
        try check(!binding.deviceId.isEmpty, "no device id")
        await session.disconnect()
        await session.disconnect()
        try check(wifi.history.current == ["join \(device.name)", "leave \(device.name)"], "\(wifi.history.current)")
        try check(try await client.pendingClaims().isEmpty, "claims left pending")
        do {
            _ = try await session.scanNetworks(observer: observer)
            throw Failure(description: "a closed session scanned")
        } catch OnboardingError.ContactSupport {}
    }

    func stagedWifiOnly() async throws {
        let device = info.devices[5]
        let wifi = FakePhoneWifi(apPassphrase: info.deviceApPassphrase)
        let client = try await client(store: SwiftSecretStore(), wifi: wifi)
        let observer = RecordingObserver()
        let request = try setupRequest(device, wifiOnly: true)
        let session = try await withDeadline(60) {
            try await client.connect(request: request, observer: observer, cancel: CancelHandle())
        }
        try check(session.bindingMode() == BindingMode.none, "binding mode")
        let homeWifi = WifiCredentials(ssid: info.homeSsid, passphrase: info.homePassphrase)
        let network = try await withDeadline(60) { try await session.provision(wifi: homeWifi, observer: observer) }
        try check(network?.ssid == info.homeSsid, "network \(String(describing: network))")
        do {
            _ = try await session.bind(observer: observer)
            throw Failure(description: "a Wi-Fi-only session bound")
        } catch OnboardingError.ContactSupport(let message) {
            try check(message.contains("Wi-Fi only"), message)
        }
        await session.disconnect()
        try check(wifi.history.current == ["join \(device.name)", "leave \(device.name)"], "\(wifi.history.current)")
    }

    func chooser() async throws {
        let client = try await client(store: SwiftSecretStore(), wifi: FakePhoneWifi(apPassphrase: info.deviceApPassphrase))
        var request = try request(info.devices[6])
        request.wifi = nil
        request.scanWifi = false
        let unchosen = request
        do {
            _ = try await client.run(request: unchosen, observer: RecordingObserver(), prompt: nil, cancel: CancelHandle())
            throw Failure(description: "ran without a network or a chooser")
        } catch OnboardingError.ContactSupport {}
        let chooser = FirstNetworkChooser(passphrase: "wrong password")
        let prompt = OneAnswer(answer: info.homePassphrase)
        let chosen = request
        let done = try await withDeadline(60) {
            try await client.runChoosing(request: chosen, observer: RecordingObserver(), prompt: prompt, chooser: chooser,
                                         cancel: CancelHandle())
        }
        try check(done.network?.ssid == info.homeSsid, "network \(String(describing: done.network))")
        try check(chooser.seen.current?.networks.map { $0.ssid } == [info.homeSsid, "Neighbour"], "list")
        try check(prompt.asked.current == 1, "asked \(prompt.asked.current) times")
        try check(done.binding != nil && done.device?.`protocol` == .espUnified, "\(done)")

        var other = try self.request(info.devices[8])
        other.wifi = nil
        let cancelled = other
        do {
            _ = try await client.runChoosing(request: cancelled, observer: RecordingObserver(), prompt: nil,
                                             chooser: CancelsChoice(), cancel: CancelHandle())
            throw Failure(description: "ran although the person closed the picker")
        } catch OnboardingError.Cancelled {}

        // The same device, Wi-Fi only: the result holds what an app binding it itself needs.
        var plainRequest = try self.request(info.devices[8])
        plainRequest.wifiOnly = true
        plainRequest.code = try parseOnboardingCode(text: info.devices[8].setupCode)
        let wifiOnly = plainRequest
        let plain = try await withDeadline(60) {
            try await client.run(request: wifiOnly, observer: RecordingObserver(), prompt: nil, cancel: CancelHandle())
        }
        try check(plain.binding == nil && plain.confirmation == .reported, "\(plain)")
        try check(plain.device?.name == info.devices[8].name, "device \(String(describing: plain.device))")
        try check(plain.code?.deviceName() == info.devices[8].name, "code")
        try check(plain.network.map { !$0.ip4Addr.isEmpty } == true, "network \(String(describing: plain.network))")
    }

    func stagedClose() async throws {
        let device = info.devices[7]
        let wifi = FakePhoneWifi(apPassphrase: info.deviceApPassphrase)
        let client = try await client(store: SwiftSecretStore(), wifi: wifi)
        let request = try setupRequest(device, wifiOnly: true)
        let session = try await withDeadline(60) {
            try await client.connect(request: request, observer: RecordingObserver(), cancel: CancelHandle())
        }
        let waiting = StepSignal(step: .waitDeviceOnline)
        let homeWifi = WifiCredentials(ssid: info.homeSsid, passphrase: info.homePassphrase)
        let provision = Task { try await session.provision(wifi: homeWifi, observer: waiting) }
        for _ in 0..<3000 where !waiting.reached.current { try await Task.sleep(nanoseconds: 10_000_000) }
        try check(waiting.reached.current, "the device was never waited for")
        await session.disconnect()
        do {
            _ = try await withDeadline(10) { try await provision.value }
            throw Failure(description: "provisioning finished despite the close")
        } catch OnboardingError.Cancelled {}
        try check(wifi.history.current == ["join \(device.name)", "leave \(device.name)"], "\(wifi.history.current)")
    }
}
