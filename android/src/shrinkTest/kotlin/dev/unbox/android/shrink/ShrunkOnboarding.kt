package dev.unbox.android.shrink

import dev.unbox.OnboardingClient
import dev.unbox.Onboarded
import dev.unbox.android.auth.AuthorizationBroker
import dev.unbox.android.flow.OnboardingUpdate
import dev.unbox.android.flow.onboardingFlow
import dev.unbox.android.storage.AesGcmSealer
import dev.unbox.android.storage.SealedSecretStore
import dev.unbox.android.support.BrokeredBrowser
import dev.unbox.android.support.MemoryBackend
import dev.unbox.android.support.SimulatorWorld
import dev.unbox.android.support.TestKeys
import dev.unbox.simulatedAccessPointPhoneWifi
import dev.unbox.discoverAuthSession
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

/**
 * The app side of the shrinking check (android/scripts/check.sh): after ProGuard has shrunk and
 * obfuscated this app with the library, its shell and the library's consumer rules, it runs one
 * SoftAP onboarding against the in-process simulator on the JVM, through the generated bindings
 * and JNA as they survived. Prints each step; exits non-zero unless the device ends up bound.
 */
fun main() {
    val outcome = runBlocking {
        val info = SimulatorWorld.info
        val store = SealedSecretStore(AesGcmSealer(TestKeys()), MemoryBackend())
        val account = discoverAuthSession(SimulatorWorld.authConfig(), BrokeredBrowser(AuthorizationBroker()), store)
        val client = OnboardingClient(account, info.cloudUrl, null, simulatedAccessPointPhoneWifi(info.deviceApPassphrase), store, SimulatorWorld.simulator.settings())
        var last: OnboardingUpdate<*>? = null
        withTimeout(120_000) {
            client.onboardingFlow(SimulatorWorld.softApRequest(0)).collect { update ->
                if (update is OnboardingUpdate.Progress) println("shrunk app: ${update.event.step}")
                last = update
            }
        }
        last
    }
    val binding = ((outcome as? OnboardingUpdate.Finished<*>)?.result as? Onboarded)?.binding
    if (binding == null) {
        System.err.println("shrunk app: the onboarding did not bind the device: $outcome")
        exitProcess(1)
    }
    println("shrunk app: ${binding.deviceId} is bound")
}
