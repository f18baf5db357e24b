package dev.unbox.android.sample

import android.app.Activity
import dev.unbox.*
import dev.unbox.android.auth.CustomTabsAuthorizationAgent
import dev.unbox.android.flow.OnboardingUpdate
import dev.unbox.android.flow.onboardingFlow
import dev.unbox.android.permissions.Capability
import dev.unbox.android.permissions.UnboxPermissions
import dev.unbox.android.storage.KeystoreSecretStore
import dev.unbox.android.wifi.AndroidPhoneWifi
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch

/** The integration guide's example: sign in, read a device's setup code, onboard it with progress;
 *  later, hand a device to another account. */
class OnboardingExample(private val activity: Activity, private val scope: CoroutineScope) {
    private val store = KeystoreSecretStore.create(activity)
    private val auth = AuthConfig(
        issuer = "https://login.example.com", clientId = "unbox-app", redirectUri = "com.example.app:/oauth2redirect",
        scopes = listOf("openid", "profile"), allowInsecureHttp = false,
    )

    /** Onboards the device whose QR code reads [scanned] onto the home network [ssid]. */
    fun onboard(scanned: String, ssid: String, passphrase: String, show: (String) -> Unit) = scope.launch {
        val missing = UnboxPermissions.missing(activity, listOf(Capability.WIFI_JOIN))
        if (missing.isNotEmpty()) return@launch activity.requestPermissions(UnboxPermissions.toRequest(missing).toTypedArray(), 1)
        try {
            val account = discoverAuthSession(auth, CustomTabsAuthorizationAgent(activity), store)
            if (!account.isSignedIn()) account.signIn() // opens a Custom Tab
            val code = parseOnboardingCode(scanned) // QrException says what is wrong with the code
            val name = code.deviceName() ?: return@launch show("this is not a device's setup code")
            val client = OnboardingClient(account, "https://api.example.com", null, AndroidPhoneWifi(activity), store, defaultOnboardingSettings())
            val request = OnboardingRequest(
                name, DeviceTarget.SoftApFromCode(code, "192.168.4.1:80"), DeviceCredentials.FromCode(code),
                WifiCredentials(ssid, passphrase), scanWifi = true, wifiOnly = false,
            )
            client.onboardingFlow(request).collect { update ->
                when (update) {
                    is OnboardingUpdate.Progress -> show("${update.event.step}: ${update.event.message}")
                    is OnboardingUpdate.Finished -> show(update.result.binding?.let { "${it.deviceId} is now yours" } ?: "The device is online")
                }
            }
        } catch (error: OnboardingException) { // the variant says what to offer: Retry, EnterWifiPassword, ...
            show(error.message ?: "the onboarding failed")
        } catch (error: QrException) {
            show(error.message ?: "this is not a device's setup code")
        } catch (error: AuthException) {
            show(error.message ?: "the sign-in failed")
        }
    }

    /** Lists the account's devices and offers the one with [deviceId] to another account. */
    fun handOver(client: OnboardingClient, deviceId: String, show: (String) -> Unit) = scope.launch {
        try {
            // Every page of the backend's list; includeEnded = true adds devices that left, with the reason.
            val device = client.devices(includeEnded = false).firstOrNull { it.deviceId == deviceId }
                ?: return@launch show("$deviceId is not on this account")
            val offer = client.offerTransfer(device.bindingId) // client.unbind(device.bindingId) removes it instead
            show("Give the new owner this code: ${offer.code}") // their app calls acceptTransfer(code)
        } catch (error: DevicesException) { // the variant says what to offer: RefreshDevices, CheckTransferCode, Retry, ...
            show(error.message ?: "the device could not be offered")
        }
    }
}
