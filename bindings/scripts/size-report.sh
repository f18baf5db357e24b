#!/usr/bin/env bash
# Builds the shells' library for x86_64 Linux with the `release-ffi` profile (LTO, one codegen
# unit, opt-level "z"), the flags of ship-flags.sh and packed relative relocations (RELR, glibc
# 2.36+), links it without UniFFI's metadata (unbox_link_without_metadata, ship-flags.sh), strips
# a copy, and reports the sizes against the budget of 4 MB (4,000,000 bytes). Checks that the
# Kotlin bindings generate from the copy that keeps the metadata (test-ffi-panics.sh runs bindings
# generated so against a library linked so). Exit 1 when the stripped library exceeds the budget.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

budget=4000000
target_dir=$(target_dir "$PWD")
source bindings/scripts/ship-flags.sh
library="$target_dir/release-ffi/libunbox_ffi.so"
out=build/size-report
rm -rf "$out"
mkdir -p "$out"
RUSTFLAGS="${RUSTFLAGS:-} $UNBOX_RUSTFLAGS $UNBOX_ELF_LINKFLAGS -C link-arg=-Wl,-z,pack-relative-relocs" \
    unbox_link_without_metadata "$library" "$out/metadata/libunbox_ffi.so" nm \
    cargo -- -p unbox-ffi --profile release-ffi --lib
cp "$library" "$out/libunbox_ffi.so"
strip --strip-unneeded -o "$out/libunbox_ffi.stripped.so" "$library"
strip --strip-unneeded -o "$out/metadata/libunbox_ffi.stripped.so" "$out/metadata/libunbox_ffi.so"

with_metadata=$(stat -c %s "$out/metadata/libunbox_ffi.so")
metadata_stripped=$(stat -c %s "$out/metadata/libunbox_ffi.stripped.so")
unstripped=$(stat -c %s "$out/libunbox_ffi.so")
stripped=$(stat -c %s "$out/libunbox_ffi.stripped.so")
mb() { awk -v bytes="$1" 'BEGIN { printf "%.2f MB, %.2f MiB", bytes / 1e6, bytes / 1048576 }'; }
echo "libunbox_ffi.so (x86_64 Linux, profile release-ffi)"
echo "  with metadata: $with_metadata bytes ($(mb "$with_metadata")) - generate bindings from this one"
echo "  unstripped:    $unstripped bytes ($(mb "$unstripped")) - no metadata, other exports the same"
echo "  stripped:      $stripped bytes ($(mb "$stripped")) - ship this one; budget $budget bytes"
echo "  the metadata left out: $((metadata_stripped - stripped)) bytes of the stripped library"

bindgen=$(uniffi_bindgen "$PWD")
generate_bindings "$bindgen" "$out/metadata/libunbox_ffi.so" kotlin "$out/kotlin"
echo "  bindings generate from the copy with metadata: ok"

if ((stripped > budget)); then
    echo "the stripped library exceeds the budget" >&2
    exit 1
fi
