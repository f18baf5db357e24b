#!/usr/bin/env bash
# Compiles and runs Swift against the generated Swift bindings and the cdylib.
#
# Where `swiftc` is on PATH (macOS, a Linux with Swift) it is used directly. Elsewhere (Debian 12,
# whose archive has no Swift) the commands run in a Debian 13 root made with debootstrap, kept
# outside the repository and reused: the first run costs about a minute, later ones seconds. Needs
# root for debootstrap, chroot and mounting /proc. Runs in the root take a lock, so that two of
# them (the binding tests, the iOS shell check) never unmount /proc under each other.
#
# Usage: swift-root.sh BINDINGS_DIR LIBRARY TESTS_DIR
#   BINDINGS_DIR  generated Swift bindings (Unbox.swift, unboxFFI.h, unboxFFI.modulemap)
#   LIBRARY       the cdylib (libunbox_ffi.so) they were generated from
#   TESTS_DIR     the Swift test sources (*.swift, one with @main)
# Usage: swift-root.sh --run DIR COMMAND
#   Runs the bash COMMAND in a copy of the folder DIR (named like DIR inside the root), with
#   swiftc, swift and the toolchain's libraries at hand.
# Environment: UNBOX_SWIFT_ROOT (default /var/cache/unbox-swift-root), DEBIAN_MIRROR.
# Exit codes: 0 success, 3 no Swift toolchain can be had here, otherwise COMMAND's (1: tests failed).
set -euo pipefail

root=${UNBOX_SWIFT_ROOT:-/var/cache/unbox-swift-root}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
temporary=()
cleanup() {
    if ((${#temporary[@]})); then rm -rf "${temporary[@]}"; fi
}
trap cleanup EXIT

if [[ ${1:-} == --run ]]; then
    source_dir=$(realpath "$2")
    command=$3
else
    bindings_dir=$(realpath "$1")
    library=$(realpath "$2")
    tests_dir=$(realpath "$3")
    lib_name=$(basename "$library" .so)
    lib_name=${lib_name#lib}
    # One build folder: sources, header, module map (renamed as swiftc expects) and library.
    staging=$(mktemp -d)
    temporary+=("$staging")
    source_dir=$staging/unbox-swift-tests
    mkdir "$source_dir"
    cp "$bindings_dir"/*.swift "$bindings_dir"/*.h "$source_dir"/
    for map in "$bindings_dir"/*.modulemap; do cp "$map" "$source_dir/module.modulemap"; done
    cp "$library" "$source_dir"/
    cp "$tests_dir"/*.swift "$source_dir"/
    # The compile-and-run command, run inside the build folder.
    command='swiftc -parse-as-library -module-cache-path "$PWD/mcache" -I "$PWD" -L "$PWD" -l'"$lib_name"' *.swift -o unbox-swift-tests && LD_LIBRARY_PATH="$PWD" ./unbox-swift-tests'
fi
name=$(basename "$source_dir")

if command -v swiftc >/dev/null; then
    work=$(mktemp -d)
    temporary+=("$work")
    cp -a "$source_dir" "$work/$name"
    echo "swift: $(swiftc --version 2>&1 | head -1) (host)"
    cd "$work/$name"
    status=0
    bash -c "$command" || status=$?
    exit "$status"
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "swift: no swiftc on PATH and not root, so no Debian 13 root can be made" >&2
    exit 3
fi

mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
if ! flock -n 9; then
    echo "swift: waiting for another run in the Debian 13 root to finish"
    flock 9
fi

if [[ ! -x "$root/usr/bin/swiftc" ]]; then
    if ! command -v debootstrap >/dev/null; then
        apt-get install -y debootstrap >/dev/null 2>&1 || {
            apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >/dev/null
        } || { echo "swift: debootstrap is missing and cannot be installed" >&2; exit 3; }
    fi
    echo "swift: making the Debian 13 root at $root (once; about a minute)"
    partial="$root.partial"
    if mountpoint -q "$partial/proc"; then umount "$partial/proc"; fi
    rm -rf "$partial"
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

work_in_root=/work/$name
rm -rf "${root:?}$work_in_root"
mkdir -p "$root/work"
cp -a "$source_dir" "$root$work_in_root"
mounted_proc=false
unmount_proc() {
    if $mounted_proc; then umount "$root/proc"; fi
    cleanup
}
trap unmount_proc EXIT
if ! mountpoint -q "$root/proc"; then
    mount -t proc proc "$root/proc"
    mounted_proc=true
fi
echo "swift: $(chroot "$root" swiftc --version 2>&1 | head -1) (Debian 13 root $root)"
status=0
chroot "$root" /bin/bash -c "cd $work_in_root && $command" || status=$?
exit "$status"
