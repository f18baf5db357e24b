package dev.unbox.android.flow

import dev.unbox.CancelHandle
import dev.unbox.core.FlowEventKind
import dev.unbox.core.FlowStep
import dev.unbox.OnboardingClient
import dev.unbox.OnboardingException
import dev.unbox.PhoneWifi
import dev.unbox.WifiNetwork
import dev.unbox.android.auth.AuthorizationBroker
import dev.unbox.android.storage.AesGcmSealer
import dev.unbox.android.storage.SealedSecretStore
import dev.unbox.android.support.BrokeredBrowser
import dev.unbox.android.support.MemoryBackend
import dev.unbox.android.support.SimulatorWorld
import dev.unbox.android.support.TestKeys
import dev.unbox.simulatedAccessPointPhoneWifi
import dev.unbox.discoverAuthSession
import java.util.concurrent.atomic.AtomicReference
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The Flow adapter driving real onboardings against the in-process simulator. */
class OnboardingFlowTest {
    private val info = SimulatorWorld.info

    private suspend fun client(wifi: PhoneWifi?): OnboardingClient {
        val store = SealedSecretStore(AesGcmSealer(TestKeys()), MemoryBackend())
        val account = discoverAuthSession(SimulatorWorld.authConfig(), BrokeredBrowser(AuthorizationBroker()), store)
        return OnboardingClient(account, info.cloudUrl, null, wifi, store, SimulatorWorld.simulator.settings())
    }

    @Test
    fun `a whole onboarding arrives as its events then the binding`(): Unit = runBlocking {
        val client = client(simulatedAccessPointPhoneWifi(info.deviceApPassphrase))
        val updates = withTimeout(60_000) { client.onboardingFlow(SimulatorWorld.softApRequest(0)).toList() }

        val finished = assertInstanceOf(OnboardingUpdate.Finished::class.java, updates.last())
        val onboarded = finished.result as dev.unbox.Onboarded
        assertTrue(onboarded.binding!!.deviceId.isNotEmpty())
        assertEquals(info.homeSsid, onboarded.network?.ssid)
        val events = updates.dropLast(1).map { (it as OnboardingUpdate.Progress).event }
        assertEquals(
            listOf(
                FlowStep.SIGN_IN, FlowStep.CREATE_CLAIM, FlowStep.CONNECT_DEVICE, FlowStep.SECURE_SESSION,
                FlowStep.SCAN_WIFI, FlowStep.PUSH_CLAIM, FlowStep.PUSH_WIFI, FlowStep.WAIT_DEVICE_ONLINE,
                FlowStep.LEAVE_DEVICE, FlowStep.WAIT_REDEMPTION, FlowStep.CONFIRM,
            ),
            events.filter { it.kind == FlowEventKind.STARTED }.map { it.step },
        )
        assertEquals(1.0f, events.last().fraction, 1e-4f)
        assertTrue(client.pendingClaims().isEmpty())
    }

    @Test
    fun `a failed onboarding ends the flow with the library's typed error`(): Unit = runBlocking {
        val client = client(null)
        val error = assertThrows(OnboardingException.FixPhoneSettings::class.java) {
            runBlocking { client.onboardingFlow(SimulatorWorld.softApRequest(1)).toList() }
        }
        assertTrue(error.message!!.contains("join Wi-Fi networks"), error.message)
    }

    @Test
    fun `a wrong access point passphrase fails the join and the flow`(): Unit = runBlocking {
        val client = client(simulatedAccessPointPhoneWifi("not the passphrase"))
        val error = assertThrows(OnboardingException.MoveCloser::class.java) {
            runBlocking { client.onboardingFlow(SimulatorWorld.softApRequest(2)).toList() }
        }
        assertTrue(error.message!!.contains("refused the passphrase"), error.message)
    }

    @Test
    fun `cancelling the collector cancels the run through its handle and waits for it to wind down`(): Unit = runBlocking {
        val wifi = HeldPhoneWifi(info.deviceApPassphrase)
        val client = client(wifi)
        val handle = AtomicReference<CancelHandle>()
        val ending = AtomicReference<Throwable>()
        val flow = observedOperation { observer, cancel ->
            handle.set(cancel)
            try {
                client.run(SimulatorWorld.softApRequest(3), observer, null, cancel)
            } catch (error: Throwable) {
                ending.set(error)
                throw error
            }
        }
        val collector = launch(Dispatchers.Default) { flow.collect {} }
        withTimeout(30_000) { wifi.joinStarted.await() }

        withTimeout(30_000) { collector.cancelAndJoin() }

        assertTrue(handle.get().isCancelled())
        assertInstanceOf(OnboardingException.Cancelled::class.java, ending.get())
    }

    @Test
    fun `a collector that stops early cancels the run`(): Unit = runBlocking {
        val client = client(HeldPhoneWifi(info.deviceApPassphrase))
        val handle = AtomicReference<CancelHandle>()
        val ending = AtomicReference<Throwable>()
        val flow = observedOperation { observer, cancel ->
            handle.set(cancel)
            runCatching { client.run(SimulatorWorld.softApRequest(4), observer, null, cancel) }
                .onFailure(ending::set)
                .getOrThrow()
        }

        val first = withTimeout(30_000) { flow.first() }

        assertEquals(FlowStep.SIGN_IN, (first as OnboardingUpdate.Progress).event.step)
        assertTrue(handle.get().isCancelled())
        assertInstanceOf(OnboardingException.Cancelled::class.java, ending.get())
    }

    /** The phone's Wi-Fi with a join that never completes, to cancel a run mid-step. */
    private class HeldPhoneWifi(passphrase: String) : PhoneWifi {
        private val inner = simulatedAccessPointPhoneWifi(passphrase)
        val joinStarted = CompletableDeferred<Unit>()

        override suspend fun joinNetwork(ssid: String, passphrase: String?) {
            joinStarted.complete(Unit)
            awaitCancellation()
        }

        override suspend fun leaveNetwork(ssid: String) = inner.leaveNetwork(ssid)

        override suspend fun scanNetworks(): List<WifiNetwork> = inner.scanNetworks()
    }
}
