#!/usr/bin/env bash
# The interoperability suite: Espressif's own Python provisioning client (PyPI esp-rainmaker-cli,
# pinned in sim/interop/requirements.txt) and our `unbox provision` against `unbox sim device`.
#
#   scripts/interop-espressif.sh [PYTEST ARGS...]     e.g. -k sec2 or -x
#
# The tests run in UNBOX_INTEROP_WORKERS parallel processes (pytest-xdist; default 4): each starts
# its own simulated device on a port of its own and spends most of its time waiting on the
# device's Wi-Fi join, so four workers fit two cores. `-n 0` among the arguments runs them in one.
#
# Environment:
#   UNBOX_INTEROP_VENV  the virtualenv to create or reuse (default target/interop-venv)
#   UNBOX_BIN           an already built `unbox` binary (default: cargo build -p unbox-cli)
#   PYTHON              the interpreter for the virtualenv (default python3; 3.11 or newer)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

venv=${UNBOX_INTEROP_VENV:-target/interop-venv}
case $venv in /*) ;; *) venv="$root/$venv" ;; esac
python=${PYTHON:-python3}
requirements="$root/sim/interop/requirements.txt"

fail() {
    echo "interop-espressif: $*" >&2
    exit 1
}

# The virtualenv, made again when the requirements changed since it was filled.
stamp="$venv/.unbox-requirements"
if [[ ! -x $venv/bin/python ]] || ! cmp -s "$requirements" "$stamp"; then
    echo "== interop: virtualenv $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv" ||
        fail "cannot create a virtualenv with $python (on Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip --version >/dev/null 2>&1 ||
        fail "the virtualenv at $venv has no pip (on Debian: apt-get install python3-venv python3-pip)"
    # Every package is pinned in the file, dependencies included; --no-deps keeps Espressif's
    # ~20 unused CLI dependencies (BLE, cloud, camera) out.
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --no-deps \
        -r "$requirements"; then
        rm -rf "$venv"
        fail "pip could not install $requirements"
    fi
    "$venv/bin/python" -c 'import rmaker_tools.common.prov, rmaker_tools.common.security, rmaker_tools.common.transport, pytest, xdist' ||
        { rm -rf "$venv"; fail "the installed packages do not import (see above)"; }
    cp "$requirements" "$stamp"
fi

if [[ -n ${UNBOX_BIN:-} ]]; then
    [[ -x $UNBOX_BIN ]] || fail "UNBOX_BIN=$UNBOX_BIN is not an executable"
    unbox=$UNBOX_BIN
else
    echo "== interop: cargo build -p unbox-cli"
    cargo build -p unbox-cli
    target_dir=$(cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    unbox="$target_dir/debug/unbox"
fi

echo "== interop: pytest sim/interop (unbox: $unbox)"
cd "$root/sim/interop"
export UNBOX_BIN=$unbox
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest -v -n "${UNBOX_INTEROP_WORKERS:-4}" "$@"
