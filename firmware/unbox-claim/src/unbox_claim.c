/* unbox-claim: initialisation, the `unbox-claim` endpoint, the pending claim's persistence and the
 * redemption schedule. The answers match the simulator's device (sim/src/device/claim.rs) and the
 * rules of core/src/binding/device_claim.rs. */
#include <stdlib.h>
#include <string.h>

#include "claim.pb-c.h"
#include "unbox_claim_internal.h"

#define DEFAULT_INITIAL_DELAY_MS 1000u
#define DEFAULT_MAX_DELAY_MS 30000u
#define DEFAULT_GIVE_UP_MS 900000u
/* Stored pending claim: version, token length, token, URL length (2 bytes LE), URL. */
#define PENDING_VERSION 1u
#define PENDING_MAX (1 + 1 + UNBOX_CLAIM_TOKEN_MAX + 2 + UNBOX_CLAIM_URL_MAX)

void unbox_claim_wipe(void *buf, size_t len)
{
    /* Stores through a volatile pointer are side effects the compiler must keep. */
    volatile uint8_t *p = (volatile uint8_t *)buf;
    while (len--) {
        *p++ = 0;
    }
}

void unbox_claim_log(const unbox_claim_t *claim, unbox_claim_log_level_t level, const char *message)
{
    if (claim->platform.log != NULL) {
        claim->platform.log(claim->platform.ctx, level, message);
    }
}

/* strlen bounded by `max` (strnlen is POSIX, not C11). */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n] != '\0') {
        n++;
    }
    return n;
}

static bool is_url_safe(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static bool is_device_id_char(char c)
{
    return is_url_safe(c) || c == '.' || c == ':';
}

static bool token_ok(const char *token)
{
    size_t len = bounded_len(token, UNBOX_CLAIM_TOKEN_MAX + 1);
    if (len < UNBOX_CLAIM_TOKEN_MIN || len > UNBOX_CLAIM_TOKEN_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_url_safe(token[i])) {
            return false;
        }
    }
    return true;
}

/* protobuf strings must be UTF-8 (prost refuses others: the simulator answers ClaimInvalidToken). */
static bool utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned char c = *s;
        size_t extra;
        uint32_t cp;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= extra; i++) {
            if ((s[i] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        static const uint32_t min_for[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        s += extra + 1;
    }
    return true;
}

static bool starts_with_nocase(const char *text, const char *prefix)
{
    for (; *prefix; prefix++, text++) {
        char a = *text, b = *prefix;
        if (a >= 'A' && a <= 'Z') {
            a = (char)(a - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

/* A well-formed absolute http(s) URL: host of letters, digits, '.', '-' (or a bracketed IPv6
 * address), optional port, optional path of printable ASCII. Stricter than a general URL parser
 * on purpose: the device only talks to its maker's backends. */
static bool url_shape_ok(const char *url, bool allow_http)
{
    const char *p;
    if (starts_with_nocase(url, "https://")) {
        p = url + 8;
    } else if (allow_http && starts_with_nocase(url, "http://")) {
        p = url + 7;
    } else {
        return false;
    }
    const char *host = p;
    if (*p == '[') {
        p++;
        while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
               *p == ':' || *p == '.') {
            p++;
        }
        if (*p != ']' || p == host + 1) {
            return false;
        }
        p++;
    } else {
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               *p == '.' || *p == '-') {
            p++;
        }
        if (p == host) {
            return false;
        }
    }
    if (*p == ':') {
        const char *digits = ++p;
        while (*p >= '0' && *p <= '9') {
            p++;
        }
        if (p == digits || p - digits > 5) {
            return false;
        }
    }
    if (*p != '\0' && *p != '/') {
        return false;
    }
    for (; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            return false;
        }
    }
    return true;
}

static bool backend_allowed(const unbox_claim_t *claim, const char *url)
{
    if (!url_shape_ok(url, claim->config.allow_http)) {
        return false;
    }
    if (claim->config.allowed_backend_count == 0) {
        return true;
    }
    for (size_t i = 0; i < claim->config.allowed_backend_count; i++) {
        const char *prefix = claim->config.allowed_backends[i];
        if (prefix != NULL && strncmp(url, prefix, strlen(prefix)) == 0) {
            return true;
        }
    }
    return false;
}

const char *unbox_claim_backend(const unbox_claim_t *claim)
{
    return claim->backend[0] != '\0' ? claim->backend : claim->default_backend;
}

/* ---- persistence ---- */

static int store_pending(unbox_claim_t *claim)
{
    uint8_t record[PENDING_MAX];
    size_t token_len = strlen(claim->token);
    size_t url_len = strlen(claim->backend);
    size_t n = 0;
    record[n++] = PENDING_VERSION;
    record[n++] = (uint8_t)token_len;
    memcpy(record + n, claim->token, token_len);
    n += token_len;
    record[n++] = (uint8_t)(url_len & 0xFF);
    record[n++] = (uint8_t)(url_len >> 8);
    memcpy(record + n, claim->backend, url_len);
    n += url_len;
    int err = claim->platform.kv_set(claim->platform.ctx, UNBOX_CLAIM_KEY_PENDING, record, n);
    unbox_claim_wipe(record, sizeof(record));
    return err;
}

/* Loads a stored claim; a malformed record is erased. */
static void load_pending(unbox_claim_t *claim)
{
    uint8_t record[PENDING_MAX];
    size_t len = sizeof(record);
    int err = claim->platform.kv_get(claim->platform.ctx, UNBOX_CLAIM_KEY_PENDING, record, &len);
    if (err == UNBOX_CLAIM_KV_NOT_FOUND) {
        return;
    }
    bool ok = err == 0 && len >= 4 && len <= sizeof(record) && record[0] == PENDING_VERSION;
    size_t token_len = ok ? record[1] : 0;
    ok = ok && token_len <= UNBOX_CLAIM_TOKEN_MAX && 2 + token_len + 2 <= len;
    size_t url_len = ok ? (size_t)record[2 + token_len] | ((size_t)record[3 + token_len] << 8) : 0;
    ok = ok && url_len <= UNBOX_CLAIM_URL_MAX && 4 + token_len + url_len == len;
    if (ok) {
        memcpy(claim->token, record + 2, token_len);
        claim->token[token_len] = '\0';
        memcpy(claim->backend, record + 4 + token_len, url_len);
        claim->backend[url_len] = '\0';
        ok = token_ok(claim->token) && (url_len == 0 || backend_allowed(claim, claim->backend)) &&
             unbox_claim_backend(claim)[0] != '\0';
    }
    if (ok) {
        claim->state = UNBOX_CLAIM_STATE_PENDING;
        unbox_claim_log(claim, UNBOX_CLAIM_LOG_INFO, "a claim from before the restart is pending");
    } else {
        unbox_claim_log(claim, UNBOX_CLAIM_LOG_WARN, "the stored claim is unreadable; erasing it");
        unbox_claim_drop_pending(claim);
    }
    unbox_claim_wipe(record, sizeof(record));
}

void unbox_claim_drop_pending(unbox_claim_t *claim)
{
    unbox_claim_wipe(claim->token, sizeof(claim->token));
    unbox_claim_wipe(claim->backend, sizeof(claim->backend));
    claim->state = UNBOX_CLAIM_STATE_IDLE;
    claim->attempts = 0;
    if (claim->platform.kv_erase(claim->platform.ctx, UNBOX_CLAIM_KEY_PENDING) != 0) {
        unbox_claim_log(claim, UNBOX_CLAIM_LOG_ERROR, "could not erase the stored claim");
    }
}

/* ---- init ---- */

int unbox_claim_init(unbox_claim_t *claim, const unbox_claim_config_t *config,
                     const unbox_claim_platform_t *platform)
{
    if (claim == NULL || config == NULL || platform == NULL || platform->http_post == NULL ||
        platform->kv_get == NULL || platform->kv_set == NULL || platform->kv_erase == NULL ||
        platform->now_ms == NULL || platform->random == NULL || platform->hmac_sha256 == NULL ||
        config->device_id == NULL || config->device_secret == NULL ||
        config->device_secret_len < UNBOX_CLAIM_SECRET_MIN ||
        config->device_secret_len > UNBOX_CLAIM_SECRET_MAX) {
        return UNBOX_CLAIM_ERR_INVALID_ARG;
    }
    size_t id_len = bounded_len(config->device_id, UNBOX_CLAIM_DEVICE_ID_MAX + 1);
    if (id_len == 0 || id_len > UNBOX_CLAIM_DEVICE_ID_MAX) {
        return UNBOX_CLAIM_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < id_len; i++) {
        if (!is_device_id_char(config->device_id[i])) {
            return UNBOX_CLAIM_ERR_INVALID_ARG;
        }
    }
    const char *default_backend = config->default_backend_url ? config->default_backend_url : "";
    if (bounded_len(default_backend, UNBOX_CLAIM_URL_MAX + 1) > UNBOX_CLAIM_URL_MAX ||
        (default_backend[0] != '\0' && !url_shape_ok(default_backend, config->allow_http))) {
        return UNBOX_CLAIM_ERR_INVALID_ARG;
    }

    unbox_claim_wipe(claim, sizeof(*claim));
    claim->platform = *platform;
    claim->config = *config;
    claim->config.device_secret = NULL; /* the copy below is the only one kept */
    claim->config.device_id = claim->device_id;
    claim->config.default_backend_url = claim->default_backend;
    if (claim->config.initial_delay_ms == 0) {
        claim->config.initial_delay_ms = DEFAULT_INITIAL_DELAY_MS;
    }
    if (claim->config.max_delay_ms == 0) {
        claim->config.max_delay_ms = DEFAULT_MAX_DELAY_MS;
    }
    if (claim->config.max_delay_ms < claim->config.initial_delay_ms) {
        claim->config.max_delay_ms = claim->config.initial_delay_ms;
    }
    if (claim->config.give_up_ms == 0) {
        claim->config.give_up_ms = DEFAULT_GIVE_UP_MS;
    }
    memcpy(claim->device_id, config->device_id, id_len);
    memcpy(claim->secret, config->device_secret, config->device_secret_len);
    claim->secret_len = config->device_secret_len;
    memcpy(claim->default_backend, default_backend, strlen(default_backend));

    uint8_t flag = 0;
    size_t flag_len = sizeof(flag);
    if (platform->kv_get(platform->ctx, UNBOX_CLAIM_KEY_BOUND, &flag, &flag_len) == 0 && flag_len == 1) {
        claim->bound = flag == 1;
    }
    load_pending(claim);
    return UNBOX_CLAIM_OK;
}

void unbox_claim_deinit(unbox_claim_t *claim)
{
    unbox_claim_wipe(claim, sizeof(*claim));
}

/* ---- the endpoint ---- */

/* protobuf-c allocates from the state's arena: bounded, nothing reaches the heap. */
static void *arena_alloc(void *data, size_t size)
{
    unbox_claim_t *claim = data;
    size_t start = (claim->arena_used + 7u) & ~(size_t)7u;
    if (start > sizeof(claim->arena) || size > sizeof(claim->arena) - start) {
        return NULL;
    }
    claim->arena_used = start + size;
    return claim->arena + start;
}

static void arena_free(void *data, void *pointer)
{
    (void)data;
    (void)pointer;
}

static Unbox__Esp__DeviceClaimStatus accept_claim(unbox_claim_t *claim, const Unbox__Esp__ClaimRequest *req)
{
    const char *token = req->claim_token ? req->claim_token : "";
    const char *url = req->backend_url ? req->backend_url : "";
    if (!utf8_ok((const unsigned char *)url) || !token_ok(token)) {
        return UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken;
    }
    size_t url_len = bounded_len(url, UNBOX_CLAIM_URL_MAX + 1);
    if (url_len > UNBOX_CLAIM_URL_MAX || (url_len > 0 && !backend_allowed(claim, url))) {
        return UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed;
    }
    if (url_len == 0 && claim->default_backend[0] == '\0') {
        return UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed;
    }
    if (claim->config.refuse_when_bound && claim->bound) {
        return UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimAlreadyBound;
    }
    /* A second claim replaces the first. */
    unbox_claim_wipe(claim->token, sizeof(claim->token));
    unbox_claim_wipe(claim->backend, sizeof(claim->backend));
    memcpy(claim->token, token, strlen(token));
    memcpy(claim->backend, url, url_len);
    if (store_pending(claim) != 0) {
        unbox_claim_log(claim, UNBOX_CLAIM_LOG_ERROR, "could not store the claim");
        unbox_claim_wipe(claim->token, sizeof(claim->token));
        unbox_claim_wipe(claim->backend, sizeof(claim->backend));
        claim->state = UNBOX_CLAIM_STATE_IDLE;
        return UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInternalError;
    }
    unbox_claim_log(claim, UNBOX_CLAIM_LOG_INFO, "claim token received");
    if (claim->state == UNBOX_CLAIM_STATE_REDEEMING) {
        /* Online already (a re-provisioning): redeem the new claim now. */
        claim->attempts = 0;
        claim->first_attempt_ms = claim->next_attempt_ms = claim->platform.now_ms(claim->platform.ctx);
    } else {
        claim->state = UNBOX_CLAIM_STATE_PENDING;
    }
    return UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimAccepted;
}

/* Wipes every string protobuf-c copied out of the request (the token among them). */
static void wipe_arena(unbox_claim_t *claim)
{
    unbox_claim_wipe(claim->arena, claim->arena_used < sizeof(claim->arena) ? claim->arena_used
                                                                          : sizeof(claim->arena));
    claim->arena_used = 0;
}

int unbox_claim_handle(unbox_claim_t *claim, const uint8_t *in, size_t in_len, uint8_t *out,
                       size_t out_cap, size_t *out_len)
{
    if (claim == NULL || out == NULL || out_len == NULL || out_cap < UNBOX_CLAIM_REPLY_MAX ||
        (in == NULL && in_len > 0)) {
        return UNBOX_CLAIM_ERR_INVALID_ARG;
    }
    Unbox__Esp__DeviceClaimStatus status = UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken;
    if (in_len <= UNBOX_CLAIM_REQUEST_MAX) {
        ProtobufCAllocator allocator = {arena_alloc, arena_free, claim};
        claim->arena_used = 0;
        Unbox__Esp__ClaimPayload *request =
            unbox__esp__claim_payload__unpack(&allocator, in_len, in_len ? in : (const uint8_t *)"");
        if (request != NULL && request->msg == UNBOX__ESP__CLAIM_MSG_TYPE__TypeCmdClaim &&
            request->payload_case == UNBOX__ESP__CLAIM_PAYLOAD__PAYLOAD_CMD_CLAIM &&
            request->cmd_claim != NULL) {
            status = accept_claim(claim, request->cmd_claim);
        }
        wipe_arena(claim);
    } else {
        unbox_claim_log(claim, UNBOX_CLAIM_LOG_WARN, "unbox-claim request too long");
    }

    Unbox__Esp__ClaimResponse response = UNBOX__ESP__CLAIM_RESPONSE__INIT;
    response.status = status;
    response.device_id = claim->device_id;
    Unbox__Esp__ClaimPayload reply = UNBOX__ESP__CLAIM_PAYLOAD__INIT;
    reply.msg = UNBOX__ESP__CLAIM_MSG_TYPE__TypeRespClaim;
    reply.payload_case = UNBOX__ESP__CLAIM_PAYLOAD__PAYLOAD_RESP_CLAIM;
    reply.resp_claim = &response;
    size_t size = unbox__esp__claim_payload__get_packed_size(&reply);
    if (size > out_cap) {
        return UNBOX_CLAIM_ERR_INVALID_ARG;
    }
    *out_len = unbox__esp__claim_payload__pack(&reply, out);
    return UNBOX_CLAIM_OK;
}

int unbox_claim_protocomm_handler(uint32_t session_id, const uint8_t *inbuf, ssize_t inlen,
                                  uint8_t **outbuf, ssize_t *outlen, void *priv_data)
{
    (void)session_id;
    if (priv_data == NULL || outbuf == NULL || outlen == NULL || inlen < 0) {
        return UNBOX_CLAIM_ERR_INVALID_ARG;
    }
    uint8_t reply[UNBOX_CLAIM_REPLY_MAX];
    size_t reply_len = 0;
    int err = unbox_claim_handle(priv_data, inbuf, (size_t)inlen, reply, sizeof(reply), &reply_len);
    if (err != UNBOX_CLAIM_OK) {
        return err;
    }
    /* protocomm frees the reply with free(). */
    *outbuf = malloc(reply_len ? reply_len : 1);
    if (*outbuf == NULL) {
        return UNBOX_CLAIM_ERR_NO_MEM;
    }
    memcpy(*outbuf, reply, reply_len);
    *outlen = (ssize_t)reply_len;
    return UNBOX_CLAIM_OK;
}

/* ---- the schedule ---- */

void unbox_claim_network_up(unbox_claim_t *claim)
{
    if (claim->state == UNBOX_CLAIM_STATE_PENDING) {
        claim->state = UNBOX_CLAIM_STATE_REDEEMING;
        claim->attempts = 0;
        claim->first_attempt_ms = claim->next_attempt_ms = claim->platform.now_ms(claim->platform.ctx);
    }
}

void unbox_claim_network_down(unbox_claim_t *claim)
{
    if (claim->state == UNBOX_CLAIM_STATE_REDEEMING) {
        claim->state = UNBOX_CLAIM_STATE_PENDING;
    }
}

static void finish(unbox_claim_t *claim, unbox_claim_result_t *result)
{
    result->attempts = claim->attempts;
    if (result->outcome == UNBOX_CLAIM_BOUND) {
        uint8_t flag = 1;
        claim->bound = true;
        if (claim->platform.kv_set(claim->platform.ctx, UNBOX_CLAIM_KEY_BOUND, &flag, 1) != 0) {
            unbox_claim_log(claim, UNBOX_CLAIM_LOG_ERROR, "could not store the bound flag");
        }
        unbox_claim_log(claim, UNBOX_CLAIM_LOG_INFO, "claim redeemed");
    } else if (result->outcome == UNBOX_CLAIM_EXPIRED) {
        unbox_claim_log(claim, UNBOX_CLAIM_LOG_WARN, "claim expired before it could be redeemed");
    } else {
        unbox_claim_log(claim, UNBOX_CLAIM_LOG_WARN, "the backend refused the claim");
    }
    unbox_claim_drop_pending(claim);
    if (claim->config.on_result != NULL) {
        claim->config.on_result(result, claim->config.user);
    }
}

/* One attempt: build, sign, send; the token-bearing buffers are wiped before returning. */
static void attempt(unbox_claim_t *claim, unbox_claim_answer_t *answer)
{
    char url[UNBOX_CLAIM_URL_MAX + 24];
    char body[48 + UNBOX_CLAIM_TOKEN_MAX + UNBOX_CLAIM_DEVICE_ID_MAX];
    char authorization[80];
    memset(answer, 0, sizeof(*answer));
    size_t body_len = unbox_redeem_body(claim->token, claim->device_id, body, sizeof(body));
    if (!unbox_redeem_url(unbox_claim_backend(claim), url, sizeof(url)) || body_len == 0 ||
        !unbox_redeem_authorization(claim, (const uint8_t *)body, body_len, authorization,
                                    sizeof(authorization))) {
        unbox_claim_log(claim, UNBOX_CLAIM_LOG_ERROR, "could not build the redeem request");
    } else if (claim->platform.http_post(claim->platform.ctx, url, authorization, (const uint8_t *)body,
                                         body_len, answer) != 0) {
        answer->status = 0;
    }
    unbox_claim_wipe(body, sizeof(body));
    unbox_claim_wipe(authorization, sizeof(authorization));
}

uint32_t unbox_claim_poll(unbox_claim_t *claim)
{
    if (claim->state != UNBOX_CLAIM_STATE_REDEEMING) {
        return UINT32_MAX;
    }
    uint64_t now = claim->platform.now_ms(claim->platform.ctx);
    if (now < claim->next_attempt_ms) {
        uint64_t wait = claim->next_attempt_ms - now;
        return wait > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)wait;
    }
    unbox_claim_answer_t answer;
    unbox_claim_result_t result = {0};
    claim->attempts++;
    attempt(claim, &answer);
    unbox_redeem_verdict_t verdict = unbox_redeem_classify(&answer, &result);
    uint32_t retry_after_s = answer.retry_after_s;
    unbox_claim_wipe(&answer, sizeof(answer));
    if (verdict == UNBOX_REDEEM_FINAL) {
        finish(claim, &result);
        return UINT32_MAX;
    }
    now = claim->platform.now_ms(claim->platform.ctx);
    uint32_t delay = unbox_redeem_backoff_ms(claim, claim->attempts, retry_after_s);
    if (now + delay - claim->first_attempt_ms > claim->config.give_up_ms) {
        result.outcome = UNBOX_CLAIM_EXPIRED;
        finish(claim, &result);
        return UINT32_MAX;
    }
    unbox_claim_log(claim, UNBOX_CLAIM_LOG_INFO, "backend not reachable; retrying the redemption later");
    claim->next_attempt_ms = now + delay;
    return delay;
}

unbox_claim_state_t unbox_claim_state(const unbox_claim_t *claim)
{
    return claim->state;
}

bool unbox_claim_is_bound(const unbox_claim_t *claim)
{
    return claim->bound;
}

int unbox_claim_forget_binding(unbox_claim_t *claim)
{
    claim->bound = false;
    unbox_claim_drop_pending(claim);
    return claim->platform.kv_erase(claim->platform.ctx, UNBOX_CLAIM_KEY_BOUND) == 0
               ? UNBOX_CLAIM_OK
               : UNBOX_CLAIM_ERR_STORAGE;
}
