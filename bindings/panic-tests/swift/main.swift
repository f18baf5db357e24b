// A panic inside the shipped `release-ffi` library (built with the test-only `panic-probe`
// feature by bindings/scripts/test-ffi-panics.sh) reaches Swift as a thrown error, and the
// library keeps working afterwards. Prints one line per check and "N passed, N failed".

import Foundation

@main
struct PanicTests {
    static func main() async {
        let checks: [(String, () async throws -> Void)] = [
            ("a panic is a thrown error and the library keeps working", syncPanics),
            ("a panic in an async call is a thrown error and the runtime keeps working", asyncPanics),
        ]
        await runChecks(checks, cleanUp: {})
    }

    static func syncPanics() throws {
        for attempt in 0..<3 {
            do {
                _ = try panicProbe(panic: true, message: "sync \(attempt)")
                throw Failure(description: "the panic was not reported")
            } catch let error as ProbeError {
                throw Failure(description: "a panic came back as a typed error: \(error)")
            } catch let error as Failure {
                throw error
            } catch {
                try check("\(error)".contains("panic probe: sync \(attempt)"), "unexpected error \(error)")
            }
        }
        do {
            _ = try panicProbe(panic: false, message: "after")
            throw Failure(description: "the probe did not fail")
        } catch ProbeError.Failed(let message) {
            try check(message == "the probe failed as asked: after", "message \(message)")
        }
        let code = try parseOnboardingCode(text: "WIFI:T:WPA;S:home;P:secret12;;")
        try check(code.kind() == .wifiNetwork, "kind \(code.kind())")
    }

    static func asyncPanics() async throws {
        for attempt in 0..<3 {
            do {
                _ = try await panicProbeAsync(panic: true, message: "async \(attempt)")
                throw Failure(description: "the panic was not reported")
            } catch let error as Failure {
                throw error
            } catch {
                try check("\(error)".contains("panic probe (async): async \(attempt)"), "unexpected error \(error)")
            }
        }
        let answer = try await panicProbeAsync(panic: false, message: "still running")
        try check(answer == "still running", "answer \(answer)")
    }
}
