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
