#!/usr/bin/env bash
# Checks the iOS shell without Apple's toolchain: compiles the shell's platform-independent Swift
# (the Apple-only files drop out through `#if canImport(...)`) over the generated bindings, laid
# out in modules as Package.swift has them; typechecks the Apple-only files against stand-ins of
# the Apple APIs they use (ios/Tests/AppleStubs); runs the checks: the mappings, the async
# sequence driving real onboardings against the in-process simulator (events, typed error,
# cancellation through the consuming task), the integration guide's example (extracted from
# docs/integration/ios.md), the example Info.plist and entitlements; and has SwiftPM load
# Package.swift (targets and sources, with a stand-in for the XCFramework only macOS can build).
#
# Usage: ios/scripts/check.sh [BINDINGS_SWIFT_DIR] [LIBRARY]
#   BINDINGS_SWIFT_DIR  generated Swift bindings (default: build/bindings/swift)
#   LIBRARY             the library they were generated from, built with the `sim` feature
#                       (default: the debug libunbox_ffi.so, .dylib on macOS, that
#                       bindings/scripts/generate.sh --features sim builds)
# Swift runs natively or in the Debian 13 root of bindings/scripts/swift-root.sh. A missing Swift
# toolchain is skipped with a loud message and exit 0, except under CI=true, where it fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$repo/scripts/lib.sh"
bindings=${1:-$repo/build/bindings/swift}
library=${2:-$(target_dir "$repo")/debug/$(library_file_name)}

echo "== ios: the Swift shell against the generated bindings"
for input in "$bindings/Unbox.swift" "$bindings/UnboxCore.swift" "$bindings/unboxFFI.h" \
    "$bindings/unboxCoreFFI.h" "$bindings/unboxFFI.modulemap" "$library"; do
    if [[ ! -f $input ]]; then
        echo "ios: $input is missing; run bindings/scripts/generate.sh --features sim first" >&2
        exit 1
    fi
done

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
dir=$staging/unbox-ios-check
mkdir -p "$dir"/{ffi/unboxFFI,lib,Unbox,UnboxShell,ShellChecks,AppleStubs,Examples,package/Sources/Unbox}
# The C module as the XCFramework's Headers/ carry it.
cp "$bindings/"*.h "$dir/ffi/unboxFFI/"
cp "$bindings/unboxFFI.modulemap" "$dir/ffi/unboxFFI/module.modulemap"
cp "$library" "$dir/lib/"
cp "$bindings/"*.swift "$dir/Unbox/"
cp "$repo"/ios/Sources/UnboxShell/*.swift "$dir/UnboxShell/"
cp "$repo"/ios/Tests/ShellChecks/*.swift "$repo"/bindings/swift-tests/Support.swift "$dir/ShellChecks/"
cp "$repo"/ios/Tests/AppleStubs/*.swift "$dir/AppleStubs/"
cp "$repo"/ios/Examples/* "$dir/Examples/"
# The package as build-xcframework.sh leaves it, for SwiftPM to load: the generated sources and an
# XCFramework stand-in (the Info.plist and headers xcodebuild writes, no libraries).
cp "$repo/ios/Package.swift" "$dir/package/"
cp -r "$repo/ios/Sources/UnboxShell" "$dir/package/Sources/"
cp "$bindings/"*.swift "$dir/package/Sources/Unbox/"
xcframework=$dir/package/build/unboxFFI.xcframework
libraries=
for slice in "ios-arm64 arm64" "ios-arm64_x86_64-simulator arm64 x86_64"; do
    read -r identifier architectures <<<"$slice"
    read -ra architectures <<<"$architectures"
    variant=
    if [[ $identifier == *-simulator ]]; then
        variant="<key>SupportedPlatformVariant</key><string>simulator</string>"
    fi
    mkdir -p "$xcframework/$identifier/Headers/unboxFFI"
    cp "$dir/ffi/unboxFFI/"* "$xcframework/$identifier/Headers/unboxFFI/"
    archs=$(printf '<string>%s</string>' "${architectures[@]}")
    libraries+="<dict><key>HeadersPath</key><string>Headers</string><key>LibraryIdentifier</key><string>$identifier</string><key>LibraryPath</key><string>libunbox_ffi.a</string><key>SupportedArchitectures</key><array>$archs</array><key>SupportedPlatform</key><string>ios</string>$variant</dict>"
done
cat >"$xcframework/Info.plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>AvailableLibraries</key><array>$libraries</array>
<key>CFBundlePackageType</key><string>XFWK</string><key>XCFrameworkFormatVersion</key><string>1.0</string></dict></plist>
PLIST
cp "$repo/ios/scripts/staged-check.sh" "$dir/"

# The guide's example: the first swift block after its marker.
awk '/<!-- compiled and run against the simulator by ios\/scripts\/check.sh/ { armed = 1; next }
     armed && /^```swift$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$repo/docs/integration/ios.md" >"$dir/ShellChecks/IntegrationExample.swift"
if [[ ! -s $dir/ShellChecks/IntegrationExample.swift ]]; then
    echo "ios: no example found in docs/integration/ios.md (its marker comment is gone?)" >&2
    exit 1
fi

status=0
"$repo/bindings/scripts/swift-root.sh" --run "$dir" "bash staged-check.sh" || status=$?
case $status in
    0) ;;
    3) skip_loudly "iOS shell check: no swiftc and no Debian 13 root could be made" ;;
    *) exit "$status" ;;
esac
