#!/usr/bin/env bash
# Builds the shells' library for x86_64 Linux with the `release-ffi` profile (LTO, one codegen
# unit, opt-level "z"), the flags of ship-flags.sh and packed relative relocations (RELR, glibc
# 2.36+), strips a copy, and reports both sizes against the budget of 4 MB (4,000,000 bytes). Checks that
# bindings generate from the unstripped library (the one to generate from; strip removes UniFFI's
# metadata). Exit 1 when the stripped library exceeds the budget.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

budget=4000000
target_dir=$(target_dir "$PWD")
source bindings/scripts/ship-flags.sh
RUSTFLAGS="${RUSTFLAGS:-} $UNBOX_RUSTFLAGS $UNBOX_ELF_LINKFLAGS -C link-arg=-Wl,-z,pack-relative-relocs" \
    cargo build -p unbox-ffi --profile release-ffi --lib
library="$target_dir/release-ffi/libunbox_ffi.so"
out=build/size-report
rm -rf "$out"
mkdir -p "$out"
cp "$library" "$out/libunbox_ffi.so"
cp "$library" "$out/libunbox_ffi.stripped.so"
strip --strip-unneeded "$out/libunbox_ffi.stripped.so"

unstripped=$(stat -c %s "$out/libunbox_ffi.so")
stripped=$(stat -c %s "$out/libunbox_ffi.stripped.so")
mb() { awk -v bytes="$1" 'BEGIN { printf "%.2f MB, %.2f MiB", bytes / 1e6, bytes / 1048576 }'; }
echo "libunbox_ffi.so (x86_64 Linux, profile release-ffi)"
echo "  unstripped: $unstripped bytes ($(mb "$unstripped")) - generate bindings from this one"
echo "  stripped:   $stripped bytes ($(mb "$stripped")) - ship this one; budget $budget bytes"

# The unstripped library still carries the metadata the generator reads.
bindgen=$(uniffi_bindgen "$PWD")
generate_bindings "$bindgen" "$out/libunbox_ffi.so" kotlin "$out/kotlin"
echo "  bindings generate from the unstripped library: ok"

if ((stripped > budget)); then
    echo "the stripped library exceeds the budget" >&2
    exit 1
fi
