# Sourced (not run) by the scripts that build the library apps ship: size-report.sh,
# test-ffi-panics.sh, android/scripts/build-rust.sh, ios/scripts/build-xcframework.sh. Each flag is
# a size saving measured on x86_64 Linux (see size-report.sh); none changes behaviour.
#
# UNBOX_RUSTFLAGS, for every target:
#   - curve25519-dalek's portable backend: its AVX2 one exists only on x86_64 (never on phone
#     CPUs) and X25519 runs once per security-1 session (~30 KB with the next two);
#   - source paths in panic messages relative to the registry and the workspace (~25 KB);
#   - unwind tables only for code that can unwind: panics still unwind everywhere;
#   - the sha2 crate's compact SHA-256/512 for CPUs without SHA instructions (those with them
#     still use them): the handshakes hash a few dozen short messages each (~22 KB).
# UNBOX_ELF_LINKFLAGS, for ELF targets linked by lld (Linux, Android): identical-code folding.
# Packed relocations depend on the loader, so each script picks its own (RELR needs glibc 2.36
# or Android API 28; Android's own packing works from API 23).
# shellcheck shell=bash
# (RUSTFLAGS splits on spaces: CARGO_HOME and the workspace path must not contain any.)
UNBOX_RUSTFLAGS="--cfg curve25519_dalek_backend=\"serial\" --cfg sha2_backend_soft=\"compact\""
UNBOX_RUSTFLAGS+=" -C force-unwind-tables=no"
UNBOX_RUSTFLAGS+=" --remap-path-prefix=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/="
# One remap per registry index folder (their names change with cargo versions; there may be several).
for unbox_registry_sources in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
    if [[ -d $unbox_registry_sources ]]; then
        UNBOX_RUSTFLAGS+=" --remap-path-prefix=$unbox_registry_sources="
    fi
done
UNBOX_ELF_LINKFLAGS="-C link-arg=-Wl,--icf=all"
export UNBOX_RUSTFLAGS UNBOX_ELF_LINKFLAGS
unset unbox_registry_sources

# `unbox_link_without_metadata LIBRARY METADATA_COPY NM CARGO... -- ARGS...`: builds a shared
# library with `CARGO... build ARGS...` (LIBRARY is where that puts it), keeps a copy of it at
# METADATA_COPY (generate the bindings from this one), then links LIBRARY again, with
# `CARGO... rustc ARGS... -- <version script>`, without UniFFI's metadata. UniFFI's macros export
# one static per exported item (UNIFFI_META_*, about 64 KB in all) that only the generator reads;
# rustc's version script makes them global, so the linker keeps them. A second version script
# naming each of them makes them local, and --gc-sections drops them (with lld, the exact names
# win over rustc's; a wildcard would not). Only the last crate recompiles (its LTO link,
# about 20 s); its other exports must stay those of METADATA_COPY, which NM (nm or llvm-nm) checks.
# ELF (lld) only: Apple's linker has no version scripts, and the app's linker dead-strips the
# static library iOS ships.
unbox_link_without_metadata() {
    local library=$1 metadata_copy=$2 nm_tool=$3
    shift 3
    local cargo=()
    while [[ $1 != -- ]]; do cargo+=("$1"); shift; done
    shift
    "${cargo[@]}" build "$@"
    mkdir -p "$(dirname "$metadata_copy")"
    cp "$library" "$metadata_copy"
    # Absolute: the linker runs in whatever folder cargo starts rustc in.
    local folder
    folder=$(cd "$(dirname "$metadata_copy")" && pwd)
    local script="$folder/$(basename "$metadata_copy").hide-uniffi-metadata.ver"
    local exports="$folder/$(basename "$metadata_copy").exports"
    "$nm_tool" -D --defined-only "$metadata_copy" | awk '{ print $NF }' | sort >"$exports"
    if ! grep -q '^UNIFFI_META_' "$exports"; then
        echo "unbox_link_without_metadata: $metadata_copy exports no UniFFI metadata" >&2
        return 1
    fi
    { echo "{ local:"; sed -n 's/^UNIFFI_META_.*/  &;/p' "$exports"; echo "};"; } >"$script"
    "${cargo[@]}" rustc "$@" -- -C "link-arg=-Wl,--version-script=$script"
    if ! diff <(grep -v '^UNIFFI_META_' "$exports") \
        <("$nm_tool" -D --defined-only "$library" | awk '{ print $NF }' | sort) >&2; then
        echo "unbox_link_without_metadata: $library lost or kept other exports than the metadata (above)" >&2
        return 1
    fi
}
