#!/usr/bin/env bash
# Builds unbox-claim for the host with AddressSanitizer and UndefinedBehaviorSanitizer and runs its
# cmocka tests; checks that the committed protobuf-c code is what protoc-c makes of
# core/proto/claim.proto. Needs cmake, libprotobuf-c-dev, protobuf-c-compiler and libcmocka-dev
# (.ci/run installs them). Also compiles the ESP-IDF port against stubs/esp-idf. Usage: test-host.sh [build-dir]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="${1:-$repo/target/unbox-claim-host}"

generated="$(mktemp -d)"
trap 'rm -rf "$generated"' EXIT
(cd "$repo/core/proto" && protoc-c --c_out="$generated" claim.proto)
for file in claim.pb-c.c claim.pb-c.h; do
    if ! diff -u "$here/src/$file" "$generated/$file"; then
        echo "src/$file is stale: regenerate it with (cd core/proto && protoc-c --c_out=../../firmware/unbox-claim/src claim.proto)" >&2
        exit 1
    fi
done

# The ESP-IDF port, compiled against declarations of ESP-IDF's API (no ESP-IDF here).
gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -DESP_PLATFORM -I"$here/stubs/esp-idf" -I"$here/src" \
    -c "$here/src/unbox_claim_esp.c" -o /dev/null

sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="$sanitizers" \
    -DCMAKE_EXE_LINKER_FLAGS="$sanitizers" >/dev/null
cmake --build "$build" -j2 >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 "$build/test_unbox_claim"
