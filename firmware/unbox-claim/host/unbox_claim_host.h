/* The host port of unbox-claim, for tests: an in-memory key-value store that survives a simulated
 * reboot, a manual clock, seeded randomness, scripted HTTP answers with a record of the requests,
 * HMAC-SHA256 from unbox_host_hmac.c, and a log kept in memory (so tests can check that no secret
 * was logged). */
#ifndef UNBOX_CLAIM_HOST_H
#define UNBOX_CLAIM_HOST_H

#include <stdbool.h>

#include "unbox_claim.h"

#define UNBOX_HOST_KV_SLOTS 4
#define UNBOX_HOST_KV_VALUE_MAX 512
#define UNBOX_HOST_ANSWERS_MAX 32
#define UNBOX_HOST_LOG_MAX 4096

typedef struct {
    bool used;
    char key[16];
    uint8_t value[UNBOX_HOST_KV_VALUE_MAX];
    size_t len;
} unbox_host_kv_slot_t;

typedef struct {
    unbox_host_kv_slot_t kv[UNBOX_HOST_KV_SLOTS];
    /** Make every kv_set fail (a full or broken flash). */
    bool kv_broken;
    uint64_t now_ms;
    uint64_t rng_state;
    /** Scripted answers, served in order; past the end every POST fails (no network). */
    unbox_claim_answer_t answers[UNBOX_HOST_ANSWERS_MAX];
    size_t answer_count;
    size_t answers_served;
    /** Advance the clock by this much on each POST (the call's duration). */
    uint64_t post_duration_ms;
    /** The last request. */
    unsigned posts;
    char last_url[UNBOX_CLAIM_URL_MAX + 32];
    char last_authorization[96];
    char last_body[256];
    size_t last_body_len;
    /** Everything logged, one message per line. */
    char log[UNBOX_HOST_LOG_MAX];
    size_t log_len;
} unbox_host_t;

/** Resets `host` (empty store, clock at 1000 ms, random seeded with `seed`) and fills `platform`. */
void unbox_host_init(unbox_host_t *host, uint64_t seed, unbox_claim_platform_t *platform);

/** Queues an HTTP answer with `status`, `retry_after_s` and the JSON `body`. */
void unbox_host_answer(unbox_host_t *host, int status, uint32_t retry_after_s, const char *body);

/** Queues a failed POST (no answer). */
void unbox_host_no_answer(unbox_host_t *host);

/** Whether `key` holds a value in the store. */
bool unbox_host_kv_has(const unbox_host_t *host, const char *key);

#endif
