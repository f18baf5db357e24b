// Checks of the iOS shell's platform-independent Swift, compiled on Linux against the generated
// bindings and the library built with the `sim` feature (ios/scripts/check.sh). Prints one line
// per check and "N passed, N failed".

import Foundation
import Unbox

@main
struct ShellChecks {
    static func main() async {
        let sim: Simulator
        do {
            sim = try await startSimulator(devices: 4)
        } catch {
            print("cannot start the simulator: \(error)")
            exit(1)
        }
        let flows = FlowChecks(sim: sim, info: sim.info())
        let checks: [(String, () async throws -> Void)] = [
            ("a private-use redirect URI gives the sheet its scheme and matches only itself", LogicChecks.privateUseRedirect),
            ("an https redirect needs a host; http and relative URIs are refused with advice", LogicChecks.httpsAndRefusedRedirects),
            ("the sign-in sheet's answers map to the agent errors the core understands", LogicChecks.sheetAnswers),
            ("a continuation resumes once, whichever callback comes first", LogicChecks.resumeOnce),
            ("hotspot configuration errors map to typed phone Wi-Fi errors", LogicChecks.hotspotErrors),
            ("the current network reads as a scan result; short-form BSSIDs parse", LogicChecks.currentNetworkAndBssids),
            ("interface addresses: loopback has one, a missing interface none", LogicChecks.interfaceAddresses),
            ("keychain queries: one generic password per key, device-only after first unlock", LogicChecks.keychainQueries),
            ("keychain statuses map to found, absent or a typed store error", LogicChecks.keychainStatuses),
            ("a refused Bluetooth permission is a typed BLE error", LogicChecks.bluetoothPermissions),
            ("the example Info.plist and entitlements declare the keys the guide lists", LogicChecks.exampleAppFiles),
            ("an onboarding streams its events in order, then its result", flows.eventsThenResult),
            ("a failing onboarding ends the stream with its typed error", flows.typedErrorEndsTheSequence),
            ("cancelling the consuming task cancels the onboarding", flows.cancellingTheConsumerCancelsTheRun),
            ("resuming with nothing pending streams an empty result", flows.resumeWithNothingPending),
            ("the integration guide's example onboards a simulated device and offers it", flows.integrationExample),
        ]
        await runChecks(checks, cleanUp: sim.stop)
    }
}
