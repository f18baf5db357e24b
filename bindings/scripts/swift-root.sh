#!/usr/bin/env bash
# Compiles and runs the Swift binding tests against the generated Swift bindings and the cdylib.
#
# Where `swiftc` is on PATH (macOS, a Linux with Swift) it is used directly. Elsewhere (Debian 12,
# whose archive has no Swift) the tests run in a Debian 13 root made with debootstrap, kept outside
# the repository and reused: the first run costs about a minute, later ones seconds. Needs root
# for debootstrap, chroot and mounting /proc.
#
# Usage: swift-root.sh BINDINGS_DIR LIBRARY TESTS_DIR
#   BINDINGS_DIR  generated Swift bindings (Unbox.swift, unboxFFI.h, unboxFFI.modulemap)
#   LIBRARY       the cdylib (libunbox_ffi.so) they were generated from
#   TESTS_DIR     the Swift test sources (*.swift, one with @main)
# Environment: UNBOX_SWIFT_ROOT (default /var/cache/unbox-swift-root), DEBIAN_MIRROR.
# Exit codes: 0 tests passed, 1 tests failed, 3 no Swift toolchain can be had here.
set -euo pipefail

bindings_dir=$(realpath "$1")
library=$(realpath "$2")
tests_dir=$(realpath "$3")
root=${UNBOX_SWIFT_ROOT:-/var/cache/unbox-swift-root}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
lib_name=$(basename "$library" .so)
lib_name=${lib_name#lib}

# Lays out one build folder: sources, header, module map (renamed as swiftc expects) and library.
stage() {
    local dir=$1
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$bindings_dir"/*.swift "$bindings_dir"/*.h "$dir"/
    for map in "$bindings_dir"/*.modulemap; do cp "$map" "$dir/module.modulemap"; done
    cp "$library" "$dir"/
    cp "$tests_dir"/*.swift "$dir"/
}

# The compile-and-run command, run inside the build folder.
build_and_run='swiftc -parse-as-library -module-cache-path "$PWD/mcache" -I "$PWD" -L "$PWD" -l'"$lib_name"' *.swift -o unbox-swift-tests && LD_LIBRARY_PATH="$PWD" ./unbox-swift-tests'

if command -v swiftc >/dev/null; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    stage "$work"
    echo "swift: $(swiftc --version 2>&1 | head -1) (host)"
    cd "$work" && exec bash -c "$build_and_run"
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "swift: no swiftc on PATH and not root, so no Debian 13 root can be made" >&2
    exit 3
fi

if [[ ! -x "$root/usr/bin/swiftc" ]]; then
    if ! command -v debootstrap >/dev/null; then
        apt-get install -y debootstrap >/dev/null 2>&1 || {
            apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >/dev/null
        } || { echo "swift: debootstrap is missing and cannot be installed" >&2; exit 3; }
    fi
    echo "swift: making the Debian 13 root at $root (once; about a minute)"
    partial="$root.partial"
    for mounted in "$partial/proc"; do mountpoint -q "$mounted" && umount "$mounted"; done
    rm -rf "$partial"
    mkdir -p "$(dirname "$root")"
    debootstrap --variant=minbase trixie "$partial" "$mirror" >"$partial.log" 2>&1 ||
        { echo "swift: debootstrap failed, see $partial.log" >&2; exit 3; }
    chroot "$partial" apt-get update >>"$partial.log" 2>&1
    chroot "$partial" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        swiftlang libc6-dev libstdc++-14-dev >>"$partial.log" 2>&1 ||
        { echo "swift: installing swiftlang in the root failed, see $partial.log" >&2; exit 3; }
    chroot "$partial" apt-get clean
    rm -rf "$root"
    mv "$partial" "$root"
    rm -f "$partial.log"
fi

work_in_root=/work/unbox-swift-tests
stage "$root$work_in_root"
mounted_proc=false
cleanup() {
    if $mounted_proc; then umount "$root/proc"; fi
}
trap cleanup EXIT
if ! mountpoint -q "$root/proc"; then
    mount -t proc proc "$root/proc"
    mounted_proc=true
fi
echo "swift: $(chroot "$root" swiftc --version 2>&1 | head -1) (Debian 13 root $root)"
chroot "$root" /bin/bash -c "cd $work_in_root && $build_and_run"
