#!/usr/bin/env bash
# The README's first command as on a fresh machine: pkg-config finds no dbus-1 (PKG_CONFIG_LIBDIR
# points at an empty folder; no libdbus-1-dev needed), the build uses a target folder of its own
# (nothing built against a system library is reused), and the demo must bind its device. Then
# checks that the program does not need the system's libdbus at run time either.
#
# Usage: scripts/check-fresh-build.sh [TARGET_DIR]   (default target/fresh-machine; the binary
# is left at TARGET_DIR/release/unbox for scripts/check-demo-screen.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir=${1:-$PWD/target/fresh-machine}
empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
export PKG_CONFIG_LIBDIR=$empty
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
if command -v pkg-config >/dev/null && pkg-config --exists dbus-1; then
    echo "pkg-config still finds dbus-1 with PKG_CONFIG_LIBDIR=$empty: this check would prove nothing" >&2
    exit 1
fi

started=$SECONDS
CARGO_TARGET_DIR=$target_dir cargo run --release -p unbox-cli -- demo
echo "fresh-machine build and demo: $((SECONDS - started)) s"

if ldd "$target_dir/release/unbox" | grep -q libdbus; then
    echo "target/.../unbox links the system's libdbus dynamically; a fresh machine may not have it:" >&2
    ldd "$target_dir/release/unbox" >&2
    exit 1
fi
