/*
 * unbox-claim: the device side of Unbox's account binding.
 *
 * The phone pushes a claim token on the `unbox-claim` protocomm endpoint (core/proto/claim.proto)
 * before it sends Wi-Fi credentials; the device answers with its device id, keeps the claim across
 * a reboot, and once the station has an IP redeems it at the backend with `POST /v1/claims/redeem`
 * signed with its factory HMAC credential (docs/binding-api.yaml), retrying transient failures
 * with backoff and jitter. The application hears the outcome through one callback.
 *
 * Portable C11: all state lives in one caller-provided `unbox_claim_t`; nothing is allocated after
 * unbox_claim_init() except the reply buffer protocomm's handler contract requires (freed by
 * protocomm). Secrets (device secret, claim token) are wiped when no longer needed and never
 * logged. Not thread-safe: call everything from one task, or serialise the calls.
 */
#ifndef UNBOX_CLAIM_H
#define UNBOX_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "unbox_claim_platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Name of the protocomm endpoint. */
#define UNBOX_CLAIM_ENDPOINT "unbox-claim"
/** Claim token length bounds (base64url characters). */
#define UNBOX_CLAIM_TOKEN_MIN 22
#define UNBOX_CLAIM_TOKEN_MAX 128
/** Longest backend URL accepted (bytes). */
#define UNBOX_CLAIM_URL_MAX 256
/** Longest device id (characters of A-Z a-z 0-9 . _ : -). */
#define UNBOX_CLAIM_DEVICE_ID_MAX 64
/** Device secret length bounds (bytes). */
#define UNBOX_CLAIM_SECRET_MIN 16
#define UNBOX_CLAIM_SECRET_MAX 64
/** Longest `unbox-claim` request decoded; longer ones are answered ClaimInvalidToken. */
#define UNBOX_CLAIM_REQUEST_MAX 512
/** Bytes protobuf-c may use to unpack one request (a bounded arena, reset per request). */
#define UNBOX_CLAIM_ARENA_SIZE 1024
/** Longest `unbox-claim` reply (status + device id). */
#define UNBOX_CLAIM_REPLY_MAX 80

/** Return codes. UNBOX_CLAIM_ERR_NO_MEM has the value of ESP-IDF's ESP_ERR_NO_MEM. */
#define UNBOX_CLAIM_OK 0
#define UNBOX_CLAIM_ERR_INVALID_ARG 0x102
#define UNBOX_CLAIM_ERR_NO_MEM 0x101
#define UNBOX_CLAIM_ERR_STORAGE 0x105

/** The final outcome of a pushed claim. */
typedef enum {
    /** The backend accepted the redemption: the phone can now confirm the binding. */
    UNBOX_CLAIM_BOUND = 0,
    /** The backend refused for good (see `problem_code`): another device used the token, the
     *  claim was voided, the device credential is unknown, or the request was malformed. */
    UNBOX_CLAIM_REFUSED = 1,
    /** The claim expired (410), or no answer came before the give-up time. */
    UNBOX_CLAIM_EXPIRED = 2,
} unbox_claim_outcome_t;

/** What the callback receives. */
typedef struct {
    unbox_claim_outcome_t outcome;
    /** The last HTTP status (0: no answer). */
    int http_status;
    /** BOUND: "redeemed" or "confirmed". Otherwise the problem's `code`
     *  (e.g. "claim-already-used"), "" when the backend gave none. */
    char detail[32];
    /** Redemption attempts made. */
    uint32_t attempts;
} unbox_claim_result_t;

/** Called once per pushed claim, from unbox_claim_poll(). */
typedef void (*unbox_claim_callback_t)(const unbox_claim_result_t *result, void *user);

/** Where the component stands. */
typedef enum {
    /** No claim held. */
    UNBOX_CLAIM_STATE_IDLE = 0,
    /** A claim is held; waiting for the station to get an IP. */
    UNBOX_CLAIM_STATE_PENDING = 1,
    /** Online: redeeming (an attempt is due at unbox_claim_poll()'s returned time). */
    UNBOX_CLAIM_STATE_REDEEMING = 2,
} unbox_claim_state_t;

/** Settings, copied by unbox_claim_init(). */
typedef struct {
    /** The factory device id; reported on `unbox-claim` and used in the redemption. */
    const char *device_id;
    /** The factory device secret (16-64 bytes); copied, wipe your copy after init. */
    const uint8_t *device_secret;
    size_t device_secret_len;
    /** Backend used when the phone sends none; NULL or "" for none (then such claims are
     *  answered ClaimBackendNotAllowed). */
    const char *default_backend_url;
    /** URL prefixes a pushed backend URL must start with (e.g. "https://api.example.com/");
     *  with none, any well-formed https URL is accepted. */
    const char *const *allowed_backends;
    size_t allowed_backend_count;
    /** Also accept plain http:// backend URLs (tests and the simulator only). */
    bool allow_http;
    /** Answer ClaimAlreadyBound once bound (re-binding then needs unbox_claim_forget_binding()). */
    bool refuse_when_bound;
    /** Retry backoff: first delay, cap, and when to give up after the first attempt (ms).
     *  0 picks the defaults 1000, 30000 and 900000. */
    uint32_t initial_delay_ms;
    uint32_t max_delay_ms;
    uint32_t give_up_ms;
    /** Outcome callback (may be NULL) and its argument. */
    unbox_claim_callback_t on_result;
    void *user;
} unbox_claim_config_t;

/** The component's state. Allocate it statically; treat the fields as private. */
typedef struct {
    unbox_claim_platform_t platform;
    unbox_claim_config_t config;
    unbox_claim_state_t state;
    bool bound;
    char device_id[UNBOX_CLAIM_DEVICE_ID_MAX + 1];
    uint8_t secret[UNBOX_CLAIM_SECRET_MAX];
    size_t secret_len;
    char default_backend[UNBOX_CLAIM_URL_MAX + 1];
    /* The pending claim: token and the backend URL the phone sent ("" = default). */
    char token[UNBOX_CLAIM_TOKEN_MAX + 1];
    char backend[UNBOX_CLAIM_URL_MAX + 1];
    /* Redemption schedule. */
    uint32_t attempts;
    uint64_t first_attempt_ms;
    uint64_t next_attempt_ms;
    /* Arena protobuf-c unpacks requests into. */
    size_t arena_used;
    _Alignas(8) uint8_t arena[UNBOX_CLAIM_ARENA_SIZE];
} unbox_claim_t;

/**
 * Initialises `claim` with `config` and `platform` and loads a claim a previous boot left
 * pending (and the bound flag) from the key-value store. Returns UNBOX_CLAIM_OK, or
 * UNBOX_CLAIM_ERR_INVALID_ARG for a missing platform function, a bad device id or secret length.
 */
int unbox_claim_init(unbox_claim_t *claim, const unbox_claim_config_t *config,
                     const unbox_claim_platform_t *platform);

/** Wipes the secrets and the claim held in RAM (the stored claim stays). */
void unbox_claim_deinit(unbox_claim_t *claim);

/**
 * Handles one decrypted `unbox-claim` request into `out` (capacity `out_cap`, at least
 * UNBOX_CLAIM_REPLY_MAX). Bad input is answered with a status, never an error: returns
 * UNBOX_CLAIM_OK and the reply length in `*out_len`, or UNBOX_CLAIM_ERR_INVALID_ARG when `out`
 * is too small.
 */
int unbox_claim_handle(unbox_claim_t *claim, const uint8_t *in, size_t in_len, uint8_t *out,
                       size_t out_cap, size_t *out_len);

/**
 * The handler to register with protocomm / wifi_prov_mgr_endpoint_register(), `priv_data`
 * being the `unbox_claim_t`. Its signature is protocomm_req_handler_t's. The reply is malloc'd
 * as protocomm requires (protocomm frees it); returns UNBOX_CLAIM_ERR_NO_MEM if that fails.
 */
int unbox_claim_protocomm_handler(uint32_t session_id, const uint8_t *inbuf, ssize_t inlen,
                                  uint8_t **outbuf, ssize_t *outlen, void *priv_data);

/** The station got an IP: a pending claim's redemption becomes due now. */
void unbox_claim_network_up(unbox_claim_t *claim);

/** The station lost its IP: attempts pause until unbox_claim_network_up(). */
void unbox_claim_network_down(unbox_claim_t *claim);

/**
 * Makes the redemption attempt that is due, if any (it blocks for the HTTP call), and calls the
 * callback on a final answer. Returns the milliseconds until it should be called again, or
 * UINT32_MAX when nothing is scheduled.
 */
uint32_t unbox_claim_poll(unbox_claim_t *claim);

/** Where the component stands. */
unbox_claim_state_t unbox_claim_state(const unbox_claim_t *claim);

/** Whether a redemption succeeded on this device (kept across reboots). */
bool unbox_claim_is_bound(const unbox_claim_t *claim);

/** Forgets the bound flag (factory reset) and any pending claim. */
int unbox_claim_forget_binding(unbox_claim_t *claim);

/** Overwrites `len` bytes at `buf` with zeros in a way the compiler cannot remove. */
void unbox_claim_wipe(void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
