#!/usr/bin/env bash
# Builds the unbox-ffi library and generates its Kotlin and Swift bindings (library mode) into
# build/bindings/{kotlin,swift}, one source file per crate (unbox-ffi and the domain types of
# unbox-core; uniffi.toml says where each goes). Bindings come from the unstripped library: stripping removes the
# metadata UniFFI reads.
#
# Usage: generate.sh [--profile NAME] [--features LIST] [--out DIR]
#   --profile NAME   cargo profile to build with (default: dev; release-ffi is the shipped one)
#   --features LIST  cargo features of unbox-ffi, e.g. `sim` for the binding tests
#   --out DIR        where to generate (default: build/bindings)
# Environment: UNBOX_FFI_PREBUILT=DIR takes the library and the generator already built in DIR
# (scripts/test-all builds them with the workspace tests) instead of building them.
# Prints the path of the library it generated from on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

profile=dev
features=
out=build/bindings
while (($#)); do
    case $1 in
        --profile) profile=$2; shift ;;
        --out) out=$2; shift ;;
        --features) features=$2; shift ;;
        *) echo "usage: $0 [--profile NAME] [--features LIST] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done

# One build for the library and the generator (feature `cli` only adds the generator's code,
# which the cdylib does not export), so the two do not rebuild each other with different features.
if [[ -n ${UNBOX_FFI_PREBUILT:-} ]]; then
    build_dir=$UNBOX_FFI_PREBUILT
    for built in "$(library_file_name)" uniffi-bindgen; do
        [[ -f $build_dir/$built ]] || { echo "generate.sh: UNBOX_FFI_PREBUILT=$build_dir has no $built" >&2; exit 1; }
    done
else
    cargo build -p unbox-ffi --profile "$profile" --lib --bin uniffi-bindgen --features "cli${features:+,$features}" >&2
    build_dir=$(target_dir "$PWD")/$([[ $profile == dev ]] && echo debug || echo "$profile")
fi
library="$build_dir/$(library_file_name)"

rm -rf "$out/kotlin" "$out/swift"
for language in kotlin swift; do
    generate_bindings "$build_dir/uniffi-bindgen" "$library" "$language" "$out/$language"
done
echo "$library"
