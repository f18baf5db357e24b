#!/usr/bin/env bash
# A panic in the library as apps get it: builds the `release-ffi` profile with the flags of
# ship-flags.sh (the same build as size-report.sh, whose dependencies it reuses) plus the
# test-only `panic-probe` feature, linked without UniFFI's metadata as shipped
# (unbox_link_without_metadata), generates bindings from the copy that keeps it, and shows from
# Kotlin (JVM) and Swift (Linux), against the library without it, that a panicking call raises an
# error and the library keeps working.
# The shipped library (size-report.sh, the shells' build scripts) never has the feature.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

target_dir=$(target_dir "$PWD")
source bindings/scripts/ship-flags.sh
out=build/ffi-panics
rm -rf "$out"
mkdir -p "$out/lib" "$out/swift-tests"
library="$target_dir/release-ffi/$(library_file_name)"
RUSTFLAGS="${RUSTFLAGS:-} $UNBOX_RUSTFLAGS $UNBOX_ELF_LINKFLAGS -C link-arg=-Wl,-z,pack-relative-relocs" \
    unbox_link_without_metadata "$library" "$out/metadata/$(library_file_name)" nm \
    cargo -- -p unbox-ffi --profile release-ffi --lib --features panic-probe
cp "$library" "$out/lib/"
bindgen=$(uniffi_bindgen "$PWD")
for language in kotlin swift; do
    generate_bindings "$bindgen" "$out/metadata/$(library_file_name)" "$language" "$out/$language"
done

echo "== panics in release-ffi: Kotlin on the JVM"
mvn -B -ntp -q -f bindings/kotlin-tests/pom.xml test -Dunbox.tests.dir="$PWD/bindings/panic-tests/kotlin" \
    -Dunbox.library.dir="$PWD/$out/lib" -Dunbox.bindings.dir="$PWD/$out/kotlin" \
    -Dunbox.build.dir="$PWD/$out/maven"
echo "== panics in release-ffi: Swift"
cp bindings/panic-tests/swift/*.swift bindings/swift-tests/Support.swift "$out/swift-tests/"
bindings/scripts/swift-root.sh "$out/swift" "$out/lib/$(library_file_name)" "$out/swift-tests"
