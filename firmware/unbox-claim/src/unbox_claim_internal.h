/* unbox-claim internals shared by the endpoint (unbox_claim.c) and the redemption (unbox_redeem.c). */
#ifndef UNBOX_CLAIM_INTERNAL_H
#define UNBOX_CLAIM_INTERNAL_H

#include "unbox_claim.h"

/* Key-value keys (NVS keys are at most 15 characters). */
#define UNBOX_CLAIM_KEY_PENDING "claim"
#define UNBOX_CLAIM_KEY_BOUND "bound"

/* Logs a fixed message (never formatted with secrets). */
void unbox_claim_log(const unbox_claim_t *claim, unbox_claim_log_level_t level, const char *message);

/* Erases the pending claim from RAM and the store. */
void unbox_claim_drop_pending(unbox_claim_t *claim);

/* The backend the pending claim is redeemed at: the pushed URL or the firmware's default. */
const char *unbox_claim_backend(const unbox_claim_t *claim);

/* Builds `<backend>/v1/claims/redeem` (one slash between); false if it does not fit. */
bool unbox_redeem_url(const char *backend, char *url, size_t url_cap);

/* Builds the request body into `body`; returns its length, 0 if it does not fit. */
size_t unbox_redeem_body(const char *token, const char *device_id, char *body, size_t body_cap);

/* The Authorization header value for `body`; false on an HMAC failure or a small buffer. */
bool unbox_redeem_authorization(const unbox_claim_t *claim, const uint8_t *body, size_t body_len,
                                char *header, size_t header_cap);

/* What to do with one answer. */
typedef enum {
    UNBOX_REDEEM_RETRY,
    UNBOX_REDEEM_FINAL,
} unbox_redeem_verdict_t;

/* Classifies `answer`; for a final one fills `result` (outcome, status, detail). */
unbox_redeem_verdict_t unbox_redeem_classify(const unbox_claim_answer_t *answer,
                                             unbox_claim_result_t *result);

/* The delay before retry number `retry` (1-based): min(initial * 2^(retry-1), max) with equal
 * jitter (half fixed, half random), or Retry-After when longer, never above max. */
uint32_t unbox_redeem_backoff_ms(const unbox_claim_t *claim, uint32_t retry, uint32_t retry_after_s);

#endif
