#!/usr/bin/env bash
# Watches `unbox demo --devices 2` as a person would: the demo runs in a tmux pane of a fixed
# size (its own tmux server, no user configuration), and the screen is read ten times a second
# with `tmux capture-pane -p`. Checks, for every simulated device:
#   - its bar shows the running step's elapsed time (`1.3s`), and the Wi-Fi wait its limit
#     (`Waiting for the device to join your Wi-Fi 1.3s, up to 90s`);
#   - the bar keeps moving while nothing else happens: during the Wi-Fi wait (the simulated device
#     takes 2.5 s to join) the same step is shown with at least three different elapsed times,
#     i.e. the bar is redrawn on its own tick, not frozen until the next event;
#   - the demo ends (within 60 s) with status 0, the bar at 100% "bound as", and a "bound" row in
#     the summary table.
# Then the network chooser of `unbox provision --wifi-only` without `--ssid`, against an
# `unbox sim device` that sees an open network and HomeNet: the device's list is shown (bars,
# security, band, the open network's warning, "Enter a network by name"), the Down arrow
# selects HomeNet, Enter asks its password without echo, a wrong one is asked again, the right
# one gets the device online (no sign-in), and no password ever shows on the screen.
#
# Usage: scripts/check-demo-screen.sh [UNBOX_BINARY]   (default: builds the README's release binary)
set -euo pipefail
cd "$(dirname "$0")/.."

devices=2
deadline_seconds=60
wait_step="Waiting for the device to join your Wi-Fi"

command -v tmux >/dev/null || { echo "tmux is required (apt-get install tmux)" >&2; exit 1; }
unbox=${1:-}
if [[ -z $unbox ]]; then
    cargo build --release -p unbox-cli
    unbox=${CARGO_TARGET_DIR:-$PWD/target}/release/unbox
fi
[[ -x $unbox ]] || { echo "no unbox binary at $unbox" >&2; exit 1; }

server=unbox-screen-$$
screens=$(mktemp -d)
device_pid=
cleanup() {
    tmux -L "$server" kill-server 2>/dev/null || true
    if [[ -n $device_pid ]]; then kill "$device_pid" 2>/dev/null || true; fi
    rm -rf "$screens"
}
trap cleanup EXIT

fail() {
    echo "check-demo-screen: $1" >&2
    if [[ -n ${2:-} ]]; then
        echo "--- the screen then ---" >&2
        sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$2" >&2 # without the empty lines below the text
        echo "---" >&2
    fi
    exit 1
}

printf -v demo_command '%q demo --devices %d; echo "demo exited with status $?"; sleep %d' \
    "$unbox" "$devices" "$((deadline_seconds + 30))"
tmux -L "$server" -f /dev/null -u new-session -d -s demo -x 160 -y 40 "$demo_command"

count=0
started=$SECONDS
while :; do
    count=$((count + 1))
    screen=$(printf '%s/%05d.txt' "$screens" "$count")
    tmux -L "$server" capture-pane -p -t demo >"$screen"
    if grep -q '^demo exited with status' "$screen"; then
        break
    fi
    if ((SECONDS - started > deadline_seconds)); then
        fail "the demo did not finish within $deadline_seconds s" "$screen"
    fi
    sleep 0.1
done
last=$screen

grep -q '^demo exited with status 0$' "$last" || fail "the demo failed" "$last"
mapfile -t names < <(sed -n 's/^simulated device \([^ ]*\) .*/\1/p' "$last")
((${#names[@]} == devices)) || fail "expected $devices simulated devices on the screen, found ${#names[@]}" "$last"

for name in "${names[@]}"; do
    bar="^ *$name .*\\[[= >]*\\] +[0-9]+%"
    # Every rendering of this device's bar during the Wi-Fi wait, one per screen.
    waits=$(cat "$screens"/*.txt | grep -E "$bar $wait_step" || true)
    [[ -n $waits ]] || fail "$name: the Wi-Fi wait step never showed on its bar" "$last"
    grep -Eq "$wait_step [0-9]+\\.[0-9]s, up to [0-9]+s" <<<"$waits" ||
        fail "$name: the Wi-Fi wait shows no elapsed time and limit (\`1.3s, up to 90s\`)" "$last"
    elapsed_times=$(grep -Eo "$wait_step [0-9]+\\.[0-9]s" <<<"$waits" | sort -u | wc -l)
    ((elapsed_times >= 3)) ||
        fail "$name: its bar looked frozen during the 2.5 s Wi-Fi wait (only $elapsed_times different elapsed times in $count screens)" "$last"
    grep -Eq "$bar .* [0-9]+\\.[0-9]s" "$screens"/*.txt ||
        fail "$name: no step showed its elapsed time" "$last"
    grep -Eq "^ *$name .*100% bound as " "$last" || fail "$name: its bar does not end at 100% \"bound as\"" "$last"
    grep -Eq "^$name +bound " "$last" || fail "$name: no \"bound\" row in the summary table" "$last"
    echo "$name: Wi-Fi wait drawn with $elapsed_times different elapsed times; bound"
done
echo "demo screen check passed: $count screens read in $((SECONDS - started)) s"

# --- the network chooser ---
chooser_started=$SECONDS
device_log=$screens/device.txt
"$unbox" sim device --password abcd1234 --join-ms 200 --network 'Cafe:' --network 'HomeNet:pass1234' \
    >"$device_log" 2>&1 &
device_pid=$!
for _ in $(seq 100); do
    grep -q ' listening on ' "$device_log" && break
    sleep 0.1
done
address=$(sed -n 's/.* listening on //p' "$device_log")
[[ -n $address ]] || fail "unbox sim device printed no address: $(cat "$device_log")"

printf -v provision_command \
    'UNBOX_STATE_DIR=%q %q provision --transport softap --device PROV_1A2B3C=%q --code abcd1234 --wifi-only; echo "provision exited with status $?"; sleep %d' \
    "$screens/state" "$unbox" "$address" "$((deadline_seconds + 30))"
tmux -L "$server" -f /dev/null -u new-session -d -s chooser -x 160 -y 40 "$provision_command"
screen=$screens/chooser.txt

# Reads the chooser's screen until it matches PATTERN (extended regex), within 20 s.
wait_for() {
    local until=$((SECONDS + 20))
    while :; do
        tmux -L "$server" capture-pane -p -t chooser >"$screen"
        grep -Eq -- "$1" "$screen" && return
        ((SECONDS < until)) || fail "the chooser's screen never showed /$1/" "$screen"
        sleep 0.1
    done
}
keys() { tmux -L "$server" send-keys -t chooser "$@"; }

wait_for 'Enter a network by name'
grep -Eq '^>  1  Cafe .* open .*2\.4 GHz' "$screen" || fail "the open network is not first and selected" "$screen"
grep -q '! open network: anyone nearby' "$screen" || fail "the open network has no warning" "$screen"
# Bars as glyphs (matched as fixed text: the locale may not be UTF-8), dBm, security, band.
grep -Eq '^   2  HomeNet +[^ ]+ +-[0-9]+ dBm +WPA2 +2\.4 GHz' "$screen" && grep -Fq 'HomeNet   ▂▄▆█ ' "$screen" ||
    fail "HomeNet is not listed with bars, dBm, security and band" "$screen"
keys Down
wait_for '^>  2  HomeNet'
keys Enter
wait_for 'Wi-Fi password for HomeNet: *$'
keys -l 'wrong-pass'
keys Enter
wait_for 'could not join HomeNet with that password \(attempt 1\)\. Password: *$'
keys -l 'pass1234'
keys Enter
wait_for '^provision exited with status'
grep -q '^provision exited with status 0$' "$screen" || fail "the provisioning failed" "$screen"
grep -q '^Network: HomeNet$' "$screen" || fail "the chosen network is not named" "$screen"
grep -Eq '^PROV_1A2B3C +online .*on HomeNet \(' "$screen" || fail "no \"online\" row on HomeNet" "$screen"
if grep -Eq 'wrong-pass|pass1234' "$screen"; then fail "a password showed on the screen" "$screen"; fi
echo "chooser screen check passed: HomeNet chosen with the Down arrow, a wrong password asked again, online in $((SECONDS - chooser_started)) s"
