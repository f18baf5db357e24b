#!/usr/bin/env bash
# Compiles every ```c block of docs/firmware-guide.md, each as its own translation unit, against
# the component's headers and the declarations of ESP-IDF's API in stubs/esp-idf (C11, warnings
# are errors). Usage: check-guide.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
guide="$here/../../docs/firmware-guide.md"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

awk -v dir="$work" '
    /^```c[[:space:]]*$/ { n++; file = sprintf("%s/block%02d.c", dir, n); inside = 1; next }
    /^```/ && inside { inside = 0; close(file); next }
    inside { print > file }
' "$guide"

blocks=("$work"/block*.c)
[[ -e "${blocks[0]}" ]] || { echo "no C blocks found in $guide" >&2; exit 1; }
for block in "${blocks[@]}"; do
    if ! gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -DESP_PLATFORM -I"$here/stubs/esp-idf" \
        -I"$here/src" -c "$block" -o /dev/null; then
        echo "docs/firmware-guide.md: C block $(basename "$block" .c | tr -dc 0-9) does not compile" >&2
        exit 1
    fi
done
echo "docs/firmware-guide.md: ${#blocks[@]} C blocks compile"
