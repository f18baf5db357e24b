# Sourced by the check scripts (bindings/scripts/*.sh, android/scripts/check.sh,
# ios/scripts/check.sh): their one rule for a missing toolchain and their one rule for where the
# library lives.

# A missing toolchain is skipped with a loud message (the run goes on), except under CI=true,
# where it fails the run. `skip_loudly REASON` prints REASON in a banner; it returns 0 so that the
# caller decides whether to stop there (exit 0) or go on to its next part.
skipped_toolchains=0
skip_loudly() {
    echo "##########################################################################" >&2
    echo "## SKIPPED: $1" >&2
    echo "##########################################################################" >&2
    if [[ ${CI:-} == true ]]; then
        echo "CI=true: a missing toolchain is a failure" >&2
        exit 1
    fi
    skipped_toolchains=$((skipped_toolchains + 1))
}

# Cargo's target folder (CARGO_TARGET_DIR, else target/ of the repository at $1).
target_dir() {
    echo "${CARGO_TARGET_DIR:-$1/target}"
}

# The file name of the shells' library on this system (libunbox_ffi.so, .dylib on macOS).
library_file_name() {
    if [[ $(uname) == Darwin ]]; then echo libunbox_ffi.dylib; else echo libunbox_ffi.so; fi
}

# Prints the path of UniFFI's generator (unbox-ffi's uniffi-bindgen): the one already built in
# $UNBOX_FFI_PREBUILT when that is set (scripts/test-all builds it with the workspace tests),
# otherwise built here.
uniffi_bindgen() {
    if [[ -n ${UNBOX_FFI_PREBUILT:-} ]]; then
        echo "$UNBOX_FFI_PREBUILT/uniffi-bindgen"
    else
        cargo build -q -p unbox-ffi --bin uniffi-bindgen --features cli >&2
        echo "$(target_dir "$1")/debug/uniffi-bindgen"
    fi
}

# `generate_bindings GENERATOR LIBRARY LANGUAGE OUT`: UniFFI's generator writes the bindings of
# LIBRARY (one that keeps UniFFI's metadata: unstripped, not the shipped link of ship-flags.sh)
# in LANGUAGE (kotlin or swift) into OUT, with the repository's uniffi.toml: one source file per
# crate (unbox-ffi's API and unbox-core's domain types). In Swift both compile into the one module
# `Unbox`, and both headers belong to the one C module `unboxFFI`; UniFFI writes a module map per
# crate, so the core's header joins the library's map and the core's own map goes.
generate_bindings() {
    local generator=$1 library=$2 language=$3 out=$4
    "$generator" generate --library "$library" --language "$language" \
        --config uniffi.toml --out-dir "$out" --no-format >&2
    if [[ $language == swift ]]; then
        sed -i.orig 's|^\( *\)header "unboxFFI.h"|\1header "unboxCoreFFI.h"\
&|' "$out/unboxFFI.modulemap"
        rm "$out/unboxFFI.modulemap.orig" "$out/unboxCoreFFI.modulemap"
    fi
}
