/* The sizes of unbox-claim's structs as the C compiler lays them out, so the simulator's Rust
 * mirrors (src/device/c_firmware.rs) can check theirs before calling into the C code. */
#include "unbox_claim.h"

size_t unbox_sim_layout(size_t *sizes, size_t count)
{
    const size_t all[] = {
        sizeof(unbox_claim_t),        sizeof(unbox_claim_platform_t), sizeof(unbox_claim_config_t),
        sizeof(unbox_claim_answer_t), sizeof(unbox_claim_result_t),
    };
    size_t n = sizeof(all) / sizeof(all[0]);
    for (size_t i = 0; i < n && i < count; i++) {
        sizes[i] = all[i];
    }
    return n;
}
