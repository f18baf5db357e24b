#!/usr/bin/env bash
# Builds libunbox_ffi.so for Android with cargo-ndk (profile release-ffi) into
# android/generated/jniLibs/<abi>/ (linked without UniFFI's metadata and stripped: what the AAR
# ships) and generates the Kotlin bindings into android/generated/bindings/kotlin from the first
# ABI's copy that keeps the metadata (unbox_link_without_metadata in ship-flags.sh; stripping
# removes the symbols the generator reads).
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
nm_tool=$(dirname "$strip_tool")/llvm-nm
[[ -x $nm_tool ]] || fail "no llvm-nm beside $strip_tool"

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

target_dir=${CARGO_TARGET_DIR:-$PWD/target}
jni=android/generated/jniLibs
metadata=android/generated/metadata
rm -rf "$jni" "$metadata"
first_with_metadata=
for abi in $abis; do
    built="$target_dir/$(triple_of "$abi")/$profile/libunbox_ffi.so"
    echo "== cargo ndk: unbox-ffi ($profile) for $abi, platform $min_sdk" >&2
    RUSTFLAGS="${RUSTFLAGS:-} $link_flags" \
        unbox_link_without_metadata "$built" "$metadata/$abi/libunbox_ffi.so" "$nm_tool" \
        cargo ndk -t "$abi" -P "$min_sdk" -- -p unbox-ffi --profile "$profile" --lib
    first_with_metadata=${first_with_metadata:-$metadata/$abi/libunbox_ffi.so}
    mkdir -p "$jni/$abi"
    "$strip_tool" --strip-unneeded -o "$jni/$abi/libunbox_ffi.so" "$built"
    echo "$abi: $(wc -c <"$built" | tr -d " ") bytes unstripped, $(wc -c <"$jni/$abi/libunbox_ffi.so" | tr -d " ") stripped" >&2
done

echo "== uniffi-bindgen: Kotlin from $first_with_metadata" >&2
out=android/generated/bindings/kotlin
rm -rf "$out"
cargo run -q -p unbox-ffi --features cli --bin uniffi-bindgen -- generate --library "$first_with_metadata" \
    --language kotlin --config uniffi.toml --out-dir "$out" --no-format
[[ -f $out/dev/unbox/unbox.kt ]] || fail "the bindings were not generated"
echo "done: $jni, $out" >&2
