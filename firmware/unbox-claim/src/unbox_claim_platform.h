/*
 * unbox-claim: what the component needs from the system it runs on. A platform is a table of
 * function pointers; the ESP-IDF port (unbox_claim_esp.c) fills it with esp_http_client, NVS,
 * esp_timer, esp_fill_random, mbedTLS and ESP_LOG; the host port (host/) with test doubles.
 */
#ifndef UNBOX_CLAIM_PLATFORM_H
#define UNBOX_CLAIM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest answer body the component reads (a problem document fits easily). */
#define UNBOX_CLAIM_ANSWER_BODY_MAX 512

/** What one HTTP POST brought back. */
typedef struct {
    /** HTTP status; 0 when no answer came (DNS, TCP, TLS failure or timeout). */
    int status;
    /** The Retry-After header in seconds, 0 when absent. */
    uint32_t retry_after_s;
    /** The start of the body (truncated to the buffer), not NUL-terminated. */
    char body[UNBOX_CLAIM_ANSWER_BODY_MAX];
    /** Bytes of body held. */
    size_t body_len;
} unbox_claim_answer_t;

/** Log levels the component uses. It never passes secrets to `log`. */
typedef enum {
    UNBOX_CLAIM_LOG_ERROR = 0,
    UNBOX_CLAIM_LOG_WARN = 1,
    UNBOX_CLAIM_LOG_INFO = 2,
    UNBOX_CLAIM_LOG_DEBUG = 3,
} unbox_claim_log_level_t;

/** `kv_get` result when the key holds nothing. */
#define UNBOX_CLAIM_KV_NOT_FOUND 1

/** The system services, each called with `ctx` as its first argument. */
typedef struct {
    /** Opaque pointer handed to every function below. */
    void *ctx;
    /**
     * POSTs `body` (`application/json`) to `url` with the given `Authorization` header value,
     * over TLS for https URLs (certificate checked). Blocks for at most the platform's timeout.
     * Fills `answer`; returns 0 when an HTTP answer came, non-zero otherwise (answer->status 0).
     */
    int (*http_post)(void *ctx, const char *url, const char *authorization, const uint8_t *body,
                     size_t body_len, unbox_claim_answer_t *answer);
    /**
     * Reads the value of `key` into `buf` (capacity `*len`), setting `*len` to its length.
     * Returns 0, UNBOX_CLAIM_KV_NOT_FOUND, or another non-zero value on failure.
     */
    int (*kv_get)(void *ctx, const char *key, uint8_t *buf, size_t *len);
    /** Stores `len` bytes under `key` durably (committed when it returns 0). */
    int (*kv_set)(void *ctx, const char *key, const uint8_t *buf, size_t len);
    /** Erases `key`; erasing a missing key succeeds. */
    int (*kv_erase)(void *ctx, const char *key);
    /** A monotonic clock in milliseconds (it may restart at boot). */
    uint64_t (*now_ms)(void *ctx);
    /** Fills `buf` with `len` random bytes (for the retry jitter). */
    void (*random)(void *ctx, uint8_t *buf, size_t len);
    /** HMAC-SHA256 of `msg` keyed with `key` into `out`; returns 0 on success. */
    int (*hmac_sha256)(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *msg,
                       size_t msg_len, uint8_t out[32]);
    /** Writes one log line (no trailing newline). May be NULL. */
    void (*log)(void *ctx, unbox_claim_log_level_t level, const char *message);
} unbox_claim_platform_t;

#ifdef __cplusplus
}
#endif

#endif
