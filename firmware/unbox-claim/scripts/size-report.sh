#!/usr/bin/env bash
# Code size of unbox-claim (host `size` of the object files built with -Os; x86-64, so an
# indication of the Xtensa/RISC-V size, not a measurement of it) and the RAM it holds while it
# waits for the redemption (sizeof unbox_claim_t, its only state). Usage: size-report.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for source in unbox_claim unbox_redeem claim.pb-c; do
    gcc -std=c11 -Os -I"$here/src" -c "$here/src/$source.c" -o "$work/$source.o"
done
gcc -std=c11 -Os -DESP_PLATFORM -I"$here/stubs/esp-idf" -I"$here/src" -c "$here/src/unbox_claim_esp.c" \
    -o "$work/unbox_claim_esp.o"
echo "Code (-Os, x86-64 host objects):"
(cd "$work" && size unbox_claim.o unbox_redeem.o claim.pb-c.o unbox_claim_esp.o && size -t unbox_claim.o unbox_redeem.o claim.pb-c.o | tail -1 | awk '{print "portable core total: " $1 " text, " $2 " data, " $3 " bss"}')
cat >"$work/ram.c" <<'C'
#include <stdio.h>
#include "unbox_claim.h"
int main(void)
{
    printf("RAM held while waiting for the redemption: sizeof(unbox_claim_t) = %zu bytes "
           "(arena %d, token %d, backend URLs 2 x %d, device id %d, secret %d)\n",
           sizeof(unbox_claim_t), UNBOX_CLAIM_ARENA_SIZE, UNBOX_CLAIM_TOKEN_MAX + 1,
           UNBOX_CLAIM_URL_MAX + 1, UNBOX_CLAIM_DEVICE_ID_MAX + 1, UNBOX_CLAIM_SECRET_MAX);
    return 0;
}
C
gcc -std=c11 -I"$here/src" "$work/ram.c" -o "$work/ram" && "$work/ram"
