// swift-tools-version:5.9
// The iOS shell of Unbox: the generated Swift API over the Rust library (an XCFramework), and the
// platform implementations the core calls back (sign-in sheet, hotspot join, Keychain, BLE).
//
// Before the first build, run `scripts/build-xcframework.sh` (macOS, Xcode, rustup): it writes
// build/unboxFFI.xcframework and Sources/Unbox/{Unbox,UnboxCore}.swift, none of which is committed.

import PackageDescription

let package = Package(
    name: "Unbox",
    platforms: [.iOS(.v15)],
    products: [
        // `import Unbox` for the API (OnboardingClient, errors, records), `import UnboxShell` for
        // the iOS implementations and the async-sequence adapter.
        .library(name: "Unbox", targets: ["Unbox", "UnboxShell"]),
    ],
    targets: [
        // The Rust library, static, per platform: device arm64, simulator arm64 + x86_64. Its
        // headers carry the `unboxFFI` module map that the generated Swift imports.
        .binaryTarget(name: "unboxFFI", path: "build/unboxFFI.xcframework"),
        // The generated Swift bindings (uniffi-bindgen).
        .target(
            name: "Unbox",
            dependencies: ["unboxFFI"],
            path: "Sources/Unbox",
            linkerSettings: [
                // What the Rust library links on iOS (btleplug: CoreBluetooth; Security: the OS
                // random generator, and reqwest's platform verifier, linked though Unbox's TLS
                // uses its bundled roots). build-xcframework.sh prints rustc's full list.
                .linkedFramework("CoreBluetooth"),
                .linkedFramework("CoreFoundation"),
                .linkedFramework("Foundation"),
                .linkedFramework("Security"),
            ]
        ),
        // The Swift shell.
        .target(name: "UnboxShell", dependencies: ["Unbox"], path: "Sources/UnboxShell"),
    ]
)
