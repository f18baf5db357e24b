package dev.unbox.tests

import dev.unbox.*
import dev.unbox.core.*
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.Collections
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/** The shell's browser step, scripted: opens the authorization URL over real HTTP and hands back
 *  the redirect the (auto-consenting) simulated provider answers with, without following it.
 *  With [loginHint] the person signs in as that test user (the provider's "sign in as"). */
class ScriptedBrowser(private val loginHint: String? = null) : AuthorizationAgent {
    private val http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()
    val opened = AtomicInteger()

    override suspend fun authorize(url: String, redirectUri: String): String = withContext(Dispatchers.IO) {
        opened.incrementAndGet()
        val target = loginHint?.let { "$url&login_hint=${URLEncoder.encode(it, Charsets.UTF_8)}" } ?: url
        val response = http.send(HttpRequest.newBuilder(URI(target)).GET().build(), HttpResponse.BodyHandlers.discarding())
        val location = response.headers().firstValue("location").orElseThrow {
            AgentException.Failed("the provider answered ${response.statusCode()} without a redirect")
        }
        if (!location.startsWith(redirectUri)) throw AgentException.Failed("unexpected redirect")
        location
    }
}

/** A browser the person closes. */
class ClosedBrowser : AuthorizationAgent {
    override suspend fun authorize(url: String, redirectUri: String): String = throw AgentException.Cancelled()
}

/** The shell's secure storage, in memory; counts the calls Rust makes into it. */
class KotlinSecretStore : SecretStore {
    val entries = ConcurrentHashMap<String, String>()
    val calls = AtomicInteger()

    override suspend fun get(key: String): String? {
        calls.incrementAndGet()
        return entries[key]
    }

    override suspend fun put(key: String, value: String) {
        calls.incrementAndGet()
        entries[key] = value
    }

    override suspend fun delete(key: String) {
        calls.incrementAndGet()
        entries.remove(key)
    }
}

/** The phone's Wi-Fi, faked: the simulated devices' access points are loopback servers, so
 *  joining only records what the flow asked for. Set [hold] to make joining wait. */
/** Joins the devices' access points: `apPassphrase`'s, or `openNetworks` without one. */
class FakePhoneWifi(private val apPassphrase: String, private val openNetworks: Set<String> = emptySet()) : PhoneWifi {
    val history: MutableList<String> = Collections.synchronizedList(mutableListOf())
    @Volatile var hold: CompletableDeferred<Unit>? = null
    val joinStarted = CompletableDeferred<Unit>()

    override suspend fun joinNetwork(ssid: String, passphrase: String?) {
        joinStarted.complete(Unit)
        hold?.await()
        val open = passphrase == null && ssid in openNetworks
        if (!open && passphrase != apPassphrase) throw PhoneWifiException.JoinFailed(ssid, "wrong passphrase")
        history.add("join $ssid")
    }

    override suspend fun leaveNetwork(ssid: String) {
        history.add("leave $ssid")
    }

    override suspend fun scanNetworks(): List<WifiNetwork> = emptyList()
}

/** Records the flow's events. */
class RecordingObserver : FlowObserver {
    val events: MutableList<FlowEvent> = Collections.synchronizedList(mutableListOf())

    override fun onEvent(event: FlowEvent) {
        events.add(event)
    }

    fun started(): List<FlowStep> = events.filter { it.kind == FlowEventKind.STARTED }.map { it.step }
}

/** Signals when a step starts. */
class StepSignal(private val step: FlowStep) : FlowObserver {
    val reached = CompletableDeferred<Unit>()

    override fun onEvent(event: FlowEvent) {
        if (event.step == step && event.kind == FlowEventKind.STARTED) reached.complete(Unit)
    }
}

/** The person picks the strongest network the device sees and types [passphrase]. */
class FirstNetworkChooser(private val passphrase: String) : NetworkChooser {
    @Volatile var seen: NetworkList? = null

    override suspend fun choose(networks: NetworkList): WifiCredentials? {
        seen = networks
        return WifiCredentials(networks.networks.first().ssid, passphrase)
    }
}

/** The person closes the picker. */
class CancelsChoice : NetworkChooser {
    override suspend fun choose(networks: NetworkList): WifiCredentials? = null
}

/** Answers the first password prompt with [answer], then gives up. */
class OneAnswer(private val answer: String) : WifiPasswordPrompt {
    val asked = AtomicInteger()

    override suspend fun askAgain(ssid: String, attempt: UInt): String? =
        if (asked.incrementAndGet() == 1) answer else null
}

/** Records log records. */
class RecordingLogger : Logger {
    val records: MutableList<LogRecord> = Collections.synchronizedList(mutableListOf())

    override fun log(record: LogRecord) {
        records.add(record)
    }
}

/** An Android-style BLE central written in Kotlin. It has no radio here, so it forwards every
 *  operation to the simulated Bluetooth world; the onboarding still goes through this Kotlin code
 *  for every scan, connection, GATT discovery, write and read. */
class KotlinBleCentral(private val radio: BleCentral) : BleCentral {
    val writes = AtomicInteger()
    val reads = AtomicInteger()

    override suspend fun startScan(filter: ScanFilter, sink: AdvertisementSink) = radio.startScan(filter, sink)

    override suspend fun stopScan() = radio.stopScan()

    override suspend fun connect(peripheralId: String): BleLink {
        val link = radio.connect(peripheralId)
        return BleLink(KotlinConnection(link, this))
    }

    /** Wraps the simulated world's connection, counting GATT operations. */
    private class KotlinConnection(inner: BleLink, private val central: KotlinBleCentral) : BleConnection {
        private val delegate: BleConnection = inner.connection()

        override fun mtu(): UShort = delegate.mtu()

        override suspend fun discover(service: UUID): List<GattCharacteristic> = delegate.discover(service)

        override suspend fun write(characteristic: UUID, value: ByteArray) {
            central.writes.incrementAndGet()
            delegate.write(characteristic, value)
        }

        override suspend fun read(characteristic: UUID): ByteArray {
            central.reads.incrementAndGet()
            return delegate.read(characteristic)
        }

        override suspend fun subscribe(characteristic: UUID, sink: NotificationSink) = delegate.subscribe(characteristic, sink)

        override suspend fun disconnect() = delegate.disconnect()
    }
}
