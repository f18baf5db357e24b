#!/usr/bin/env bash
# Builds libunbox_ffi.so for Android with cargo-ndk (profile release-ffi) into
# android/generated/jniLibs/<abi>/ (stripped: what the AAR ships) and generates the Kotlin bindings
# into android/generated/bindings/kotlin from an unstripped copy (stripping removes the metadata
# UniFFI reads).
#
# Usage: android/scripts/build-rust.sh [--abis "arm64-v8a armeabi-v7a x86_64"] [--min-sdk 24]
#                                       [--profile release-ffi]
#   --abis LIST          Android ABIs to build (default: arm64-v8a armeabi-v7a x86_64)
#   --min-sdk N          the app's minSdk, passed to cargo-ndk as the platform level (default 24)
#   --profile NAME       cargo profile (default release-ffi)
#
# Size flags: those of bindings/scripts/ship-flags.sh (as size-report.sh uses on Linux) and packed
# relocations in the form the min-sdk allows: Android's packed format from API 23, RELR with
# Android's private tags from API 28, standard RELR (-z pack-relative-relocs) from 30.
#
# Needs: cargo-ndk (cargo install cargo-ndk), the Rust targets (rustup target add
# aarch64-linux-android armv7-linux-androideabi x86_64-linux-android), and an NDK (ANDROID_NDK_HOME,
# or ANDROID_HOME/ndk/<version>).
set -euo pipefail
cd "$(dirname "$0")/../.."

abis="arm64-v8a armeabi-v7a x86_64"
min_sdk=24
profile=release-ffi
while (($#)); do
    case $1 in
        --abis) abis=$2; shift ;;
        --min-sdk) min_sdk=$2; shift ;;
        --profile) profile=$2; shift ;;
        *) echo "usage: $0 [--abis LIST] [--min-sdk N] [--profile NAME]" >&2; exit 2 ;;
    esac
    shift
done

fail() { echo "build-rust: $1" >&2; exit 1; }
command -v cargo-ndk >/dev/null || fail "cargo-ndk is missing: cargo install cargo-ndk"

ndk=${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}
if [[ -z $ndk && -n ${ANDROID_HOME:-${ANDROID_SDK_ROOT:-}} ]]; then
    ndk=$(ls -d "${ANDROID_HOME:-$ANDROID_SDK_ROOT}"/ndk/*/ 2>/dev/null | sort -V | tail -1)
fi
[[ -n $ndk && -d $ndk ]] || fail "no NDK found: set ANDROID_NDK_HOME (or ANDROID_HOME with an ndk/ folder)"
strip_tool=$(ls "$ndk"/toolchains/llvm/prebuilt/*/bin/llvm-strip 2>/dev/null | head -1)
[[ -x $strip_tool ]] || fail "no llvm-strip in $ndk/toolchains/llvm/prebuilt/*/bin"

triple_of() {
    case $1 in
        arm64-v8a) echo aarch64-linux-android ;;
        armeabi-v7a) echo armv7-linux-androideabi ;;
        x86_64) echo x86_64-linux-android ;;
        x86) echo i686-linux-android ;;
        *) fail "unknown ABI $1" ;;
    esac
}

source bindings/scripts/ship-flags.sh
# 16 KB page alignment (required of apps targeting Android 15 on Google Play; harmless on 4 KB).
link_flags="$UNBOX_RUSTFLAGS $UNBOX_ELF_LINKFLAGS -C link-arg=-Wl,-z,max-page-size=16384"
if ((min_sdk >= 30)); then
    link_flags+=" -C link-arg=-Wl,-z,pack-relative-relocs"
elif ((min_sdk >= 28)); then
    link_flags+=" -C link-arg=-Wl,--pack-dyn-relocs=android+relr -C link-arg=-Wl,--use-android-relr-tags"
else
    link_flags+=" -C link-arg=-Wl,--pack-dyn-relocs=android"
fi

targets=()
for abi in $abis; do targets+=(-t "$abi"); done
echo "== cargo ndk: unbox-ffi ($profile) for $abis, platform $min_sdk" >&2
RUSTFLAGS="${RUSTFLAGS:-} $link_flags" \
    cargo ndk "${targets[@]}" -P "$min_sdk" build -p unbox-ffi --profile "$profile" --lib

target_dir=${CARGO_TARGET_DIR:-$PWD/target}
jni=android/generated/jniLibs
rm -rf "$jni"
first_unstripped=
for abi in $abis; do
    built="$target_dir/$(triple_of "$abi")/$profile/libunbox_ffi.so"
    [[ -f $built ]] || fail "cargo built no $built"
    first_unstripped=${first_unstripped:-$built}
    mkdir -p "$jni/$abi"
    "$strip_tool" --strip-unneeded -o "$jni/$abi/libunbox_ffi.so" "$built"
    echo "$abi: $(wc -c <"$built" | tr -d " ") bytes unstripped, $(wc -c <"$jni/$abi/libunbox_ffi.so" | tr -d " ") stripped" >&2
done

echo "== uniffi-bindgen: Kotlin from $first_unstripped" >&2
out=android/generated/bindings/kotlin
rm -rf "$out"
cargo run -q -p unbox-ffi --features cli --bin uniffi-bindgen -- generate --library "$first_unstripped" \
    --language kotlin --config uniffi.toml --out-dir "$out" --no-format
[[ -f $out/dev/unbox/unbox.kt ]] || fail "the bindings were not generated"
echo "done: $jni, $out" >&2
