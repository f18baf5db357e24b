#!/usr/bin/env bash
# Builds the shells' library for x86_64 Linux with the `release-ffi` profile (LTO, one codegen
# unit, opt-level "z" but 3 for the handshake's big-number and hash crates) and the linker's
# identical-code folding and packed relative relocations (RELR: glibc 2.36+, Android API 28+; app
# builds should pass the same flags), strips a copy, and reports both sizes against the 4 MB budget. Checks that
# bindings generate from the unstripped library (the one to generate from; strip removes UniFFI's
# metadata). Exit 1 when the stripped library exceeds the budget.
set -euo pipefail
cd "$(dirname "$0")/../.."

budget=$((4 * 1024 * 1024))
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,--icf=all -C link-arg=-Wl,-z,pack-relative-relocs" \
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
mib() { awk -v bytes="$1" 'BEGIN { printf "%.2f MiB", bytes / 1048576 }'; }
echo "libunbox_ffi.so (x86_64 Linux, profile release-ffi)"
echo "  unstripped: $unstripped bytes ($(mib "$unstripped")) - generate bindings from this one"
echo "  stripped:   $stripped bytes ($(mib "$stripped")) - ship this one; budget $(mib "$budget")"

# The unstripped library still carries the metadata the generator reads.
cargo build -q -p unbox-ffi --bin uniffi-bindgen --features cli
"$target_dir/debug/uniffi-bindgen" generate --library "$out/libunbox_ffi.so" --language kotlin \
    --config uniffi.toml --out-dir "$out/kotlin" --no-format >/dev/null
echo "  bindings generate from the unstripped library: ok"

if ((stripped > budget)); then
    echo "the stripped library exceeds the budget" >&2
    exit 1
fi
