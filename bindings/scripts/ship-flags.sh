# Sourced (not run) by the scripts that build the library apps ship: size-report.sh,
# android/scripts/build-rust.sh, ios/scripts/build-xcframework.sh. Each flag is a size saving
# measured on x86_64 Linux (see size-report.sh); none changes behaviour.
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
