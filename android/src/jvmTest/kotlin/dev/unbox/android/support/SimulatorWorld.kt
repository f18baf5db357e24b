package dev.unbox.android.support

import dev.unbox.AuthConfig
import dev.unbox.DeviceCredentials
import dev.unbox.DeviceTarget
import dev.unbox.OnboardingRequest
import dev.unbox.SimulatedDevice
import dev.unbox.Simulator
import dev.unbox.SimulatorInfo
import dev.unbox.WifiCredentials
import dev.unbox.parseOnboardingCode
import dev.unbox.startSimulator
import kotlinx.coroutines.runBlocking

/** One simulated world (cloud + devices, from the sim-featured library) shared by the tests. */
object SimulatorWorld {
    /** The running simulator; it stops with the test JVM. */
    val simulator: Simulator by lazy { runBlocking { startSimulator(DEVICES.toUInt()) } }

    /** Where everything is. */
    val info: SimulatorInfo by lazy { simulator.info() }

    /** The app's sign-in settings for the simulated identity provider. */
    fun authConfig() = AuthConfig(
        issuer = info.cloudUrl,
        clientId = info.clientId,
        redirectUri = info.redirectUri,
        scopes = listOf("openid", "profile"),
        allowInsecureHttp = false,
    )

    /** A SoftAP onboarding of device [index], with the credentials of its QR code. */
    fun softApRequest(index: Int): OnboardingRequest {
        val device: SimulatedDevice = info.devices[index]
        return OnboardingRequest(
            deviceName = device.name,
            target = DeviceTarget.SoftAp(device.name, info.deviceApPassphrase, device.softapAddress),
            credentials = DeviceCredentials.FromCode(parseOnboardingCode(device.setupCode)),
            wifi = WifiCredentials(info.homeSsid, info.homePassphrase),
            scanWifi = true, wifiOnly = false,
        )
    }

    /** Devices in the world; each onboarding test uses its own (a device is onboarded once). */
    const val DEVICES = 6
}
