package dev.unbox.tests

import dev.unbox.*
import dev.unbox.core.*
import java.time.Duration
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/** The generated Kotlin bindings against the real library and the in-process simulator. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BindingsTest {
    private lateinit var sim: Simulator
    private lateinit var info: SimulatorInfo

    @BeforeAll
    fun startSimulator() = runBlocking {
        sim = startSimulator(9u)
        info = sim.info()
    }

    @AfterAll
    fun stopSimulator() {
        sim.stop()
    }

    private fun authConfig() = AuthConfig(
        issuer = info.cloudUrl,
        clientId = info.clientId,
        redirectUri = info.redirectUri,
        scopes = listOf("openid", "profile"),
        allowInsecureHttp = false,
    )

    private fun request(device: SimulatedDevice, credentials: DeviceCredentials? = null) = OnboardingRequest(
        deviceName = device.name,
        target = DeviceTarget.SoftAp(device.name, info.deviceApPassphrase, device.softapAddress),
        credentials = credentials ?: DeviceCredentials.FromCode(parseOnboardingCode(device.setupCode)),
        wifi = WifiCredentials(info.homeSsid, info.homePassphrase),
        scanWifi = true, wifiOnly = false,
    )

    private suspend fun client(store: SecretStore, wifi: PhoneWifi?, ble: BleCentral? = null): OnboardingClient {
        val account = discoverAuthSession(authConfig(), ScriptedBrowser(), store)
        return OnboardingClient(account, info.cloudUrl, ble, wifi, store, sim.settings())
    }

    @Test
    fun `a malformed code is a typed exception with the core's message`() {
        val error = assertThrows(QrException.InvalidJson::class.java) { parseOnboardingCode("{not json") }
        assertTrue(error.message!!.contains("not valid JSON"), error.message)
        assertThrows(QrException.Empty::class.java) { parseOnboardingCode("  ") }
        assertThrows(QrException.InvalidManualCode::class.java) { parseOnboardingCode("3497-011-2333") }
    }

    @Test
    fun `a parsed code summarises without secrets unless asked`() {
        val code = parseOnboardingCode(info.devices[0].setupCode)
        assertEquals(PayloadKind.ESPRESSIF, code.kind())
        val hidden = code.summary(false).fields.associate { it.label to it.value }
        assertEquals("[redacted]", hidden["pop"])
        assertEquals(info.devicePassword, code.summary(true).fields.first { it.label == "pop" }.value)
        val image = QrImage.encode(info.devices[0].setupCode)
        assertEquals((image.width() * image.width()).toInt(), image.modules().size)
    }

    @Test
    fun `Rust signs in through the Kotlin browser and keeps tokens in the Kotlin store`() = runBlocking {
        val store = KotlinSecretStore()
        val browser = ScriptedBrowser()
        val session = discoverAuthSession(authConfig(), browser, store)
        assertFalse(session.isSignedIn())
        val identity = session.signIn()
        assertEquals("user-alice", identity?.subject)
        assertEquals(1, browser.opened.get())
        assertTrue(session.isSignedIn())
        assertTrue(store.entries.isNotEmpty())
        session.signOut()
        assertFalse(session.isSignedIn())
    }

    @Test
    fun `an exception thrown by a Kotlin trait reaches the caller as the typed Rust error`() = runBlocking {
        val session = discoverAuthSession(authConfig(), ClosedBrowser(), memorySecretStore())
        val error = assertThrows(AuthException.Cancelled::class.java) { runBlocking { session.signIn() } }
        assertEquals("the sign-in was cancelled; start it again when you are ready", error.message)
    }

    @Test
    fun `a hundred concurrent coroutines call Rust which calls back into Kotlin`() = runBlocking(Dispatchers.Default) {
        val store = KotlinSecretStore()
        val session = discoverAuthSession(authConfig(), ScriptedBrowser(), store)
        val answers = coroutineScope {
            (1..100).map { async { session.isSignedIn() } }.awaitAll()
        }
        assertEquals(List(100) { false }, answers)
        assertEquals(100, store.calls.get())
        val kinds = coroutineScope {
            (1..100).map { async { parseOnboardingCode(info.devices[it % info.devices.size].setupCode).kind() } }.awaitAll()
        }
        assertTrue(kinds.all { it == PayloadKind.ESPRESSIF })
    }

    @Test
    fun `the cancel handle stops a running onboarding`() = runBlocking {
        val wifi = FakePhoneWifi(info.deviceApPassphrase)
        wifi.hold = CompletableDeferred()
        val client = client(KotlinSecretStore(), wifi)
        val cancel = CancelHandle()
        val observer = RecordingObserver()
        val run = async(Dispatchers.Default) {
            runCatching { client.run(request(info.devices[2]), observer, null, cancel) }
        }
        withTimeout(30_000) { wifi.joinStarted.await() }
        cancel.cancel()
        val outcome = withTimeout(10_000) { run.await() }
        val error = outcome.exceptionOrNull()
        assertTrue(error is OnboardingException.Cancelled, "expected Cancelled, got $error")
        assertTrue(cancel.isCancelled())
        assertEquals(FlowStep.CONNECT_DEVICE, observer.started().last())
    }

    @Test
    fun `log records reach the Kotlin logger at the chosen level`() = runBlocking {
        val logger = RecordingLogger()
        setLogger(logger, LogLevel.WARN)
        discoverAuthSession(authConfig(), ScriptedBrowser(), memorySecretStore()).signIn()
        assertTrue(logger.records.none { it.level < LogLevel.WARN }, "${logger.records}")
        setLogger(logger, LogLevel.INFO)
        discoverAuthSession(authConfig(), ScriptedBrowser(), memorySecretStore()).signIn()
        clearLogger()
        assertTrue(logger.records.any { it.message.contains("opening the sign-in page") }, "${logger.records}")
        assertTrue(logger.records.all { it.target.startsWith("unbox") || it.level >= LogLevel.INFO })
    }

    @Test
    fun `a whole onboarding over SoftAP with a Kotlin browser, store, phone Wi-Fi and observer`() = runBlocking {
        val device = info.devices[0]
        val store = KotlinSecretStore()
        val wifi = FakePhoneWifi(info.deviceApPassphrase)
        val observer = RecordingObserver()
        val client = client(store, wifi)
        val done = withTimeout(60_000) { client.run(request(device), observer, null, CancelHandle()) }
        assertTrue(done.binding!!.deviceId.isNotEmpty())
        assertEquals(info.homeSsid, done.network?.ssid)
        assertEquals(Confirmation.REPORTED, done.confirmation)
        assertEquals(listOf("join ${device.name}", "leave ${device.name}"), wifi.history)
        assertEquals(
            listOf(
                FlowStep.SIGN_IN, FlowStep.CREATE_CLAIM, FlowStep.CONNECT_DEVICE, FlowStep.SECURE_SESSION,
                FlowStep.SCAN_WIFI, FlowStep.PUSH_CLAIM, FlowStep.PUSH_WIFI, FlowStep.WAIT_DEVICE_ONLINE,
                FlowStep.LEAVE_DEVICE, FlowStep.WAIT_REDEMPTION, FlowStep.CONFIRM,
            ),
            observer.started(),
        )
        assertEquals(1.0f, observer.events.last().fraction, 1e-4f)
        assertTrue(client.pendingClaims().isEmpty())
    }

    @Test
    fun `a whole onboarding over BLE through a Kotlin central`() = runBlocking {
        val device = info.devices[1]
        val central = KotlinBleCentral(sim.bleCentral())
        val client = client(KotlinSecretStore(), null, central)
        val request = request(device, DeviceCredentials.Sec2("wifiprov", info.devicePassword))
            .copy(target = DeviceTarget.Ble(device.peripheralId, info.bleService))
        val done = withTimeout(60_000) { client.run(request, RecordingObserver(), null, CancelHandle()) }
        assertNotNull(done.network)
        assertTrue(central.writes.get() > 5 && central.reads.get() > 5, "${central.writes} writes, ${central.reads} reads")
    }

    @Test
    fun `a captive-portal device is bound through its form, with the cleartext warning, or refused`() = runBlocking {
        fun portalRequest(portal: SimulatedPortal) = OnboardingRequest(
            deviceName = portal.name,
            target = DeviceTarget.Portal(portal.name, null, portal.address, emptyList(), portal.claimParameter, portal.deviceId, portal.announce),
            credentials = DeviceCredentials.Sec0,
            wifi = WifiCredentials(info.homeSsid, info.homePassphrase),
            scanWifi = true, wifiOnly = false,
        )
        val portal = info.portals[0]
        val request = portalRequest(portal)
        val strictWifi = FakePhoneWifi(info.deviceApPassphrase, setOf(portal.name))
        val strict = OnboardingClient(
            discoverAuthSession(authConfig(), ScriptedBrowser(), memorySecretStore()), info.cloudUrl, null, strictWifi,
            memorySecretStore(), sim.settings().copy(allowCleartextProtocols = false),
        )
        val refused = assertThrows(OnboardingException::class.java) {
            runBlocking { strict.run(request, RecordingObserver(), null, CancelHandle()) }
        }
        assertTrue(refused.message!!.contains("unencrypted"), refused.message)

        val wifi = FakePhoneWifi(info.deviceApPassphrase, setOf(portal.name))
        val observer = RecordingObserver()
        val done = withTimeout(60_000) { client(KotlinSecretStore(), wifi).run(request, observer, null, CancelHandle()) }
        assertEquals(portal.deviceId, done.binding!!.deviceId)
        assertEquals(Confirmation.REDEEMED, done.confirmation)
        assertTrue(observer.events.any { it.kind == FlowEventKind.WARNING && it.message.contains("does not encrypt") }, "${observer.events}")
        assertEquals(listOf("join ${portal.name}", "leave ${portal.name}"), wifi.history)

        // Wi-Fi only: the portal never reports; the service browser sees the device arrive.
        val store = memorySecretStore()
        val browsing = OnboardingClient(
            discoverAuthSession(authConfig(), ScriptedBrowser(), store), info.cloudUrl, null,
            FakePhoneWifi(info.deviceApPassphrase, setOf(info.portals[1].name)), store, sim.settings(), sim.serviceBrowser(),
        )
        val wifiOnly = portalRequest(info.portals[1]).copy(wifiOnly = true)
        val seen = withTimeout(60_000) { browsing.run(wifiOnly, RecordingObserver(), null, CancelHandle()) }
        assertEquals(Confirmation.REPORTED, seen.confirmation)
        assertEquals(null, seen.binding)
        assertNotNull(seen.network)
    }

    @Test
    fun `an Improv device is onboarded over a Kotlin central once its button is pressed`() = runBlocking {
        val improv = info.improv
        val central = KotlinBleCentral(sim.improvCentral())
        val observer = RecordingObserver()
        val request = OnboardingRequest(
            deviceName = improv.name,
            target = DeviceTarget.ImprovBle(improv.peripheralId),
            credentials = DeviceCredentials.Sec0,
            wifi = WifiCredentials(info.homeSsid, info.homePassphrase),
            scanWifi = true, wifiOnly = true,
        )
        val done = withTimeout(60_000) { client(KotlinSecretStore(), null, central).run(request, observer, null, CancelHandle()) }
        assertEquals(null, done.binding)
        assertEquals(Confirmation.REPORTED, done.confirmation)
        assertEquals(improv.redirectUrl, done.network?.redirectUrl)
        val messages = observer.events.map { it.message }
        assertTrue(messages.any { it.startsWith("Press the button on the device") }, "$messages")
        assertTrue(observer.events.any { it.kind == FlowEventKind.WARNING && it.message.contains("does not encrypt") }, "$messages")
        assertTrue(central.writes.get() >= 2, "${central.writes} writes")
    }

    @Test
    fun `a Wi-Fi onboarding without phone Wi-Fi asks the app to fix the phone's settings`() = runBlocking {
        val client = client(memorySecretStore(), null)
        val error = assertThrows(OnboardingException.FixPhoneSettings::class.java) {
            runBlocking { client.run(request(info.devices[0]), RecordingObserver(), null, CancelHandle()) }
        }
        assertTrue(error.message!!.contains("join Wi-Fi networks"), error.message)
    }

    @Test
    fun `the account's devices are listed, handed to another account and unbound`() = runBlocking {
        val alice = client(KotlinSecretStore(), FakePhoneWifi(info.deviceApPassphrase))
        val done = withTimeout(60_000) { alice.run(request(info.devices[3]), RecordingObserver(), null, CancelHandle()) }
        val bound = done.binding!!
        val listed = alice.devices(false).single { it.bindingId == bound.bindingId }
        assertEquals(bound.deviceId, listed.deviceId)
        assertEquals(info.clientId, listed.boundByClient)
        assertEquals(null, listed.endReason)

        val offer = alice.offerTransfer(bound.bindingId)
        assertEquals(bound.deviceId, offer.deviceId)
        val bobStore = KotlinSecretStore()
        val bobAccount = discoverAuthSession(authConfig(), ScriptedBrowser("bob@example.com"), bobStore)
        val bob = OnboardingClient(bobAccount, info.cloudUrl, null, null, bobStore, sim.settings())
        assertThrows(DevicesException.SignIn::class.java) { runBlocking { bob.devices(false) } }
        assertEquals("user-bob", bobAccount.signIn()?.subject)
        val accepted = bob.acceptTransfer(offer.code)
        assertEquals(bound.deviceId, accepted.deviceId)
        // Both see the outcome: the receiver has the device, the giver sees why it left.
        assertEquals(listOf(accepted.bindingId), bob.devices(false).map { it.bindingId })
        assertTrue(alice.devices(false).none { it.deviceId == bound.deviceId })
        val ended = alice.devices(true).single { it.bindingId == bound.bindingId }
        assertEquals(EndReason.TRANSFERRED, ended.endReason)
        assertNotNull(ended.endedAt)
        assertThrows(DevicesException.CheckTransferCode::class.java) { runBlocking { bob.acceptTransfer(offer.code) } }
        assertThrows(DevicesException.CheckTransferCode::class.java) { runBlocking { bob.acceptTransfer("typo") } }
        assertThrows(DevicesException.RefreshDevices::class.java) { runBlocking { alice.offerTransfer(bound.bindingId) } }
        assertThrows(DevicesException.InvalidRequest::class.java) { runBlocking { bob.unbind("../x") } }

        bob.unbind(accepted.bindingId)
        assertTrue(bob.devices(false).isEmpty())
        assertEquals(EndReason.UNBOUND, bob.devices(true).single().endReason)
    }

    private fun setupRequest(device: SimulatedDevice, wifiOnly: Boolean) = SetupRequest(
        deviceName = device.name,
        target = DeviceTarget.SoftAp(device.name, info.deviceApPassphrase, device.softapAddress),
        credentials = DeviceCredentials.FromCode(parseOnboardingCode(device.setupCode)),
        wifiOnly = wifiOnly,
    )

    @Test
    fun `the staged API claims, lists networks, provisions again after a wrong password, binds and disconnects`() = runBlocking {
        val device = info.devices[4]
        val wifi = FakePhoneWifi(info.deviceApPassphrase)
        val client = client(KotlinSecretStore(), wifi)
        val observer = RecordingObserver()
        val session = withTimeout(60_000) { client.connect(setupRequest(device, false), observer, CancelHandle()) }
        // The claim exists before the phone joins the device's access point.
        assertEquals(
            listOf(FlowStep.SIGN_IN, FlowStep.CREATE_CLAIM, FlowStep.CONNECT_DEVICE, FlowStep.SECURE_SESSION),
            observer.started(),
        )
        val details = session.details()
        assertEquals(DeviceProtocol.ESP_UNIFIED, details.protocol)
        assertEquals(SecurityLevel.SEC2, details.security)
        assertEquals(ChannelProtection.ENCRYPTED, details.protection)
        assertTrue(BindingMode.CLAIM in details.bindingModes && details.canScan, "$details")
        assertEquals(BindingMode.CLAIM, session.bindingMode())

        val networks = session.scanNetworks(observer)
        assertEquals(listOf(info.homeSsid, "Neighbour"), networks.networks.map { it.ssid })
        val home = networks.networks.first()
        assertTrue(home.needsPassphrase && home.warning == null && home.bars.toInt() in 1..4, "$home")
        assertTrue(home.band != WifiBand.UNKNOWN, "$home")

        assertThrows(OnboardingException.EnterWifiPassword::class.java) {
            runBlocking { session.provision(WifiCredentials(info.homeSsid, "wrong password"), observer) }
        }
        val network = withTimeout(60_000) { session.provision(WifiCredentials(info.homeSsid, info.homePassphrase), observer) }
        assertEquals(info.homeSsid, network?.ssid)
        val binding = withTimeout(60_000) { session.bind(observer) }
        assertTrue(binding.deviceId.isNotEmpty())
        session.disconnect()
        session.disconnect()
        assertEquals(listOf("join ${device.name}", "leave ${device.name}"), wifi.history)
        assertTrue(client.pendingClaims().isEmpty())
        assertThrows(OnboardingException.ContactSupport::class.java) { runBlocking { session.scanNetworks(observer) } }
    }

    @Test
    fun `the staged API in Wi-Fi-only mode provisions and has nothing to bind`() = runBlocking {
        val device = info.devices[5]
        val wifi = FakePhoneWifi(info.deviceApPassphrase)
        val client = client(KotlinSecretStore(), wifi)
        val observer = RecordingObserver()
        val session = withTimeout(60_000) { client.connect(setupRequest(device, true), observer, CancelHandle()) }
        assertEquals(BindingMode.NONE, session.bindingMode())
        val network = withTimeout(60_000) { session.provision(WifiCredentials(info.homeSsid, info.homePassphrase), observer) }
        assertEquals(info.homeSsid, network?.ssid)
        val error = assertThrows(OnboardingException.ContactSupport::class.java) { runBlocking { session.bind(observer) } }
        assertTrue(error.message!!.contains("Wi-Fi only"), error.message)
        session.disconnect()
        assertEquals(listOf("join ${device.name}", "leave ${device.name}"), wifi.history)
        assertEquals(listOf(FlowEventKind.SKIPPED, FlowEventKind.SKIPPED), observer.events.take(2).map { it.kind })
    }

    @Test
    fun `run without a network lets the Kotlin chooser pick one and asks the password again`() = runBlocking {
        val device = info.devices[6]
        val client = client(KotlinSecretStore(), FakePhoneWifi(info.deviceApPassphrase))
        val request = request(device).copy(wifi = null, scanWifi = false)
        assertThrows(OnboardingException.ContactSupport::class.java) {
            runBlocking { client.run(request, RecordingObserver(), null, CancelHandle()) }
        }
        val chooser = FirstNetworkChooser("wrong password")
        val prompt = OneAnswer(info.homePassphrase)
        val done = withTimeout(60_000) { client.runChoosing(request, RecordingObserver(), prompt, chooser, CancelHandle()) }
        assertEquals(info.homeSsid, done.network?.ssid)
        assertEquals(listOf(info.homeSsid, "Neighbour"), chooser.seen?.networks?.map { it.ssid })
        assertEquals(1, prompt.asked.get())
        assertNotNull(done.binding)
        assertEquals(DeviceProtocol.ESP_UNIFIED, done.device?.protocol)

        val cancelled = assertThrows(OnboardingException.Cancelled::class.java) {
            runBlocking { client.runChoosing(request(info.devices[8]).copy(wifi = null), RecordingObserver(), null, CancelsChoice(), CancelHandle()) }
        }
        assertNotNull(cancelled.message)

        // The same device, Wi-Fi only: the result holds what an app binding it itself needs.
        val code = parseOnboardingCode(info.devices[8].setupCode)
        val wifiOnly = request(info.devices[8]).copy(wifiOnly = true, code = code)
        val plain = withTimeout(60_000) { client.run(wifiOnly, RecordingObserver(), null, CancelHandle()) }
        assertEquals(null, plain.binding)
        assertEquals(Confirmation.REPORTED, plain.confirmation)
        assertEquals(info.devices[8].name, plain.device?.name)
        assertEquals(info.devices[8].name, plain.code?.deviceName())
        assertTrue(plain.network?.ip4Addr?.isNotEmpty() == true, "${plain.network}")
    }

    @Test
    fun `a staged session disconnected while it waits for the device stops and leaves the access point`() = runBlocking {
        val device = info.devices[7]
        val wifi = FakePhoneWifi(info.deviceApPassphrase)
        val client = client(KotlinSecretStore(), wifi)
        val session = withTimeout(60_000) { client.connect(setupRequest(device, true), RecordingObserver(), CancelHandle()) }
        val waiting = StepSignal(FlowStep.WAIT_DEVICE_ONLINE)
        val provision = async(Dispatchers.Default) {
            runCatching { session.provision(WifiCredentials(info.homeSsid, info.homePassphrase), waiting) }
        }
        withTimeout(30_000) { waiting.reached.await() }
        session.disconnect()
        val error = withTimeout(10_000) { provision.await() }.exceptionOrNull()
        assertTrue(error is OnboardingException.Cancelled, "expected Cancelled, got $error")
        assertEquals(listOf("join ${device.name}", "leave ${device.name}"), wifi.history)
    }

    @Test
    fun `default settings come from the core`() {
        val settings = defaultOnboardingSettings()
        assertEquals(Duration.ofSeconds(300), settings.timeouts.signIn)
        assertEquals(3u, settings.maxPasswordRetries)
        assertFalse(settings.allowUnencrypted)
    }
}
