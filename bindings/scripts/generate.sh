#!/usr/bin/env bash
# Builds the unbox-ffi library and generates its Kotlin and Swift bindings (library mode) into
# build/bindings/{kotlin,swift}. Bindings come from the unstripped library: stripping removes the
# metadata UniFFI reads.
#
# Usage: generate.sh [--release] [--features LIST]
#   --release        build with the release profile (default: dev)
#   --features LIST  cargo features of unbox-ffi, e.g. `sim` for the binding tests
# Prints the path of the library it generated from on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."

profile=dev
features=()
while (($#)); do
    case $1 in
        --release) profile=release ;;
        --features) features=(--features "$2"); shift ;;
        *) echo "usage: $0 [--release] [--features LIST]" >&2; exit 2 ;;
    esac
    shift
done

cargo build -p unbox-ffi --profile "$profile" "${features[@]}" >&2
cargo build -p unbox-ffi --bin uniffi-bindgen --features cli >&2

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
profile_dir=$([[ $profile == dev ]] && echo debug || echo "$profile")
library="$target_dir/$profile_dir/libunbox_ffi.so"
[[ $(uname) == Darwin ]] && library="$target_dir/$profile_dir/libunbox_ffi.dylib"

out=build/bindings
rm -rf "$out/kotlin" "$out/swift"
for language in kotlin swift; do
    "$target_dir/debug/uniffi-bindgen" generate --library "$library" --language "$language" \
        --config uniffi.toml --out-dir "$out/$language" --no-format >&2
done
echo "$library"
