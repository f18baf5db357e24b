#!/usr/bin/env bash
# Builds what the Swift package in ios/ needs and does not commit (macOS with Xcode and rustup):
#   ios/build/unboxFFI.xcframework   the Rust library (unbox-ffi, feature `btleplug`) as a static
#                                    library for iOS devices (arm64) and the iOS Simulator (arm64 and
#                                    x86_64, joined with lipo), with Headers/unboxFFI/ holding
#                                    the headers (unboxFFI.h, unboxCoreFFI.h) and the module.modulemap
#                                    of the C module `unboxFFI`
#   ios/Sources/Unbox/Unbox.swift    the Swift bindings, generated from that library (the API, and
#   ios/Sources/Unbox/UnboxCore.swift  the core's domain types; both compile into module Unbox)
#
# Usage: ios/scripts/build-xcframework.sh [--profile NAME]
#   --profile NAME  cargo profile (default: release-ffi, the shipped one; `dev` for debugging)
# Environment: CARGO_TARGET_DIR, IPHONEOS_DEPLOYMENT_TARGET (default 15.0, as Package.swift).
#
# The library is built with `cargo rustc --crate-type staticlib` (so bindings/Cargo.toml keeps its
# cdylib + lib crate types) and the size flags of bindings/scripts/ship-flags.sh. The headers sit in a folder named after the module so that the
# XCFramework does not clash with other ones that ship a module.modulemap of their own.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
ios=$repo/ios
cd "$repo"
source scripts/lib.sh

profile=release-ffi
while (($#)); do
    case $1 in
        --profile) profile=$2; shift ;;
        *) echo "usage: $0 [--profile NAME]" >&2; exit 2 ;;
    esac
    shift
done
profile_dir=$([[ $profile == dev ]] && echo debug || echo "$profile")
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
export IPHONEOS_DEPLOYMENT_TARGET=${IPHONEOS_DEPLOYMENT_TARGET:-15.0}

if [[ $(uname) != Darwin ]]; then
    echo "ios: building the XCFramework needs macOS with Xcode (xcodebuild, lipo, the iOS SDKs)" >&2
    exit 2
fi
for tool in cargo xcodebuild lipo; do
    command -v "$tool" >/dev/null || { echo "ios: $tool is missing" >&2; exit 2; }
done
if command -v rustup >/dev/null; then
    installed=$(rustup target list --installed)
    for target in "${targets[@]}"; do
        grep -qx "$target" <<<"$installed" || rustup target add "$target"
    done
fi

cd "$repo"
target_dir=${CARGO_TARGET_DIR:-$repo/target}
# The size flags every shipped library gets (UNBOX_RUSTFLAGS; the ELF linker flags do not apply to
# a static library, which the app's linker links).
source bindings/scripts/ship-flags.sh
for target in "${targets[@]}"; do
    echo "== cargo: unbox-ffi ($profile, btleplug) for $target"
    # rustc prints the system libraries and frameworks the static library needs (the app links
    # them; Package.swift lists them): compare after dependency changes.
    RUSTFLAGS="${RUSTFLAGS:-} $UNBOX_RUSTFLAGS" \
        cargo rustc -p unbox-ffi --lib --crate-type staticlib --profile "$profile" --features btleplug \
        --target "$target" -- --print native-static-libs
done
library() { echo "$target_dir/$1/$profile_dir/libunbox_ffi.a"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== uniffi-bindgen: Swift bindings"
generate_bindings "$(uniffi_bindgen "$repo")" "$(library aarch64-apple-ios)" swift "$work/swift"
mkdir -p "$work/headers/unboxFFI"
cp "$work/swift/"*.h "$work/headers/unboxFFI/"
cp "$work/swift/unboxFFI.modulemap" "$work/headers/unboxFFI/module.modulemap"

echo "== lipo: one simulator library for arm64 and x86_64"
mkdir -p "$work/simulator"
lipo -create "$(library aarch64-apple-ios-sim)" "$(library x86_64-apple-ios)" -output "$work/simulator/libunbox_ffi.a"

echo "== xcodebuild: unboxFFI.xcframework"
rm -rf "$ios/build/unboxFFI.xcframework"
mkdir -p "$ios/build"
xcodebuild -create-xcframework \
    -library "$(library aarch64-apple-ios)" -headers "$work/headers" \
    -library "$work/simulator/libunbox_ffi.a" -headers "$work/headers" \
    -output "$ios/build/unboxFFI.xcframework"
cp "$work/swift/"*.swift "$ios/Sources/Unbox/"

echo "ios: wrote $ios/build/unboxFFI.xcframework, $ios/Sources/Unbox/Unbox.swift and UnboxCore.swift"
