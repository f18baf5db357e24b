/* unbox-claim: the redemption request of docs/binding-api.yaml (`POST /v1/claims/redeem`,
 * `Authorization: Unbox-HMAC-SHA256 <sig>`), the reading of its answers and the retry delays, as
 * core/src/binding/redeem.rs, call.rs and retry.rs do them. */
#include <stdio.h>
#include <string.h>

#include "unbox_claim_internal.h"

#define REDEEM_PATH "v1/claims/redeem"
#define SIGNING_PREFIX "unbox-redeem-v1\n"
#define AUTH_SCHEME "Unbox-HMAC-SHA256 "

bool unbox_redeem_url(const char *backend, char *url, size_t url_cap)
{
    size_t len = strlen(backend);
    if (len == 0) {
        return false;
    }
    const char *slash = backend[len - 1] == '/' ? "" : "/";
    int n = snprintf(url, url_cap, "%s%s%s", backend, slash, REDEEM_PATH);
    return n > 0 && (size_t)n < url_cap;
}

size_t unbox_redeem_body(const char *token, const char *device_id, char *body, size_t body_cap)
{
    /* Token and id need no JSON escaping: their alphabets exclude '"' and '\'. The field order is
     * the one the Rust client serialises (claim_token, device_id). */
    int n = snprintf(body, body_cap, "{\"claim_token\":\"%s\",\"device_id\":\"%s\"}", token, device_id);
    return (n > 0 && (size_t)n < body_cap) ? (size_t)n : 0;
}

static size_t base64url(const uint8_t *in, size_t len, char *out, size_t out_cap)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t need = (len * 4 + 2) / 3;
    if (out_cap <= need) {
        return 0;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t)in[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= in[i + 2];
        }
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (i + 1 < len) {
            out[o++] = alphabet[(v >> 6) & 63];
        }
        if (i + 2 < len) {
            out[o++] = alphabet[v & 63];
        }
    }
    out[o] = '\0';
    return o;
}

bool unbox_redeem_authorization(const unbox_claim_t *claim, const uint8_t *body, size_t body_len,
                                char *header, size_t header_cap)
{
    uint8_t message[sizeof(SIGNING_PREFIX) - 1 + 48 + UNBOX_CLAIM_TOKEN_MAX + UNBOX_CLAIM_DEVICE_ID_MAX];
    uint8_t mac[32];
    size_t prefix_len = sizeof(SIGNING_PREFIX) - 1;
    size_t scheme_len = sizeof(AUTH_SCHEME) - 1;
    bool ok = body_len <= sizeof(message) - prefix_len && header_cap > scheme_len;
    if (ok) {
        memcpy(message, SIGNING_PREFIX, prefix_len);
        memcpy(message + prefix_len, body, body_len);
        ok = claim->platform.hmac_sha256(claim->platform.ctx, claim->secret, claim->secret_len, message,
                                         prefix_len + body_len, mac) == 0;
    }
    if (ok) {
        memcpy(header, AUTH_SCHEME, scheme_len);
        ok = base64url(mac, sizeof(mac), header + scheme_len, header_cap - scheme_len) > 0;
    }
    unbox_claim_wipe(message, sizeof(message));
    unbox_claim_wipe(mac, sizeof(mac));
    return ok;
}

/* Copies the string value of the top-level-looking field `"name"` of a JSON body into `out`
 * (bounded; only plain printable ASCII values). Returns false when absent or unusable. */
static bool json_string_field(const char *body, size_t len, const char *name, char *out, size_t out_cap)
{
    size_t name_len = strlen(name);
    for (size_t i = 0; i + name_len + 2 <= len; i++) {
        if (body[i] != '"' || memcmp(body + i + 1, name, name_len) != 0 || body[i + 1 + name_len] != '"') {
            continue;
        }
        size_t p = i + name_len + 2;
        while (p < len && (body[p] == ' ' || body[p] == '\t' || body[p] == '\r' || body[p] == '\n')) {
            p++;
        }
        if (p >= len || body[p] != ':') {
            continue;
        }
        p++;
        while (p < len && (body[p] == ' ' || body[p] == '\t' || body[p] == '\r' || body[p] == '\n')) {
            p++;
        }
        if (p >= len || body[p] != '"') {
            return false;
        }
        p++;
        size_t o = 0;
        while (p < len && body[p] != '"') {
            if (body[p] < ' ' || body[p] > '~' || body[p] == '\\' || o + 1 >= out_cap) {
                return false;
            }
            out[o++] = body[p++];
        }
        if (p >= len) {
            return false;
        }
        out[o] = '\0';
        return true;
    }
    return false;
}

unbox_redeem_verdict_t unbox_redeem_classify(const unbox_claim_answer_t *answer, unbox_claim_result_t *result)
{
    int status = answer->status;
    size_t len = answer->body_len < sizeof(answer->body) ? answer->body_len : sizeof(answer->body);
    result->http_status = status;
    result->detail[0] = '\0';
    if (status == 0 || status == 429 || (status >= 500 && status <= 599)) {
        return UNBOX_REDEEM_RETRY;
    }
    if (status >= 200 && status <= 299) {
        char value[16];
        if (json_string_field(answer->body, len, "status", value, sizeof(value)) &&
            (strcmp(value, "redeemed") == 0 || strcmp(value, "confirmed") == 0)) {
            result->outcome = UNBOX_CLAIM_BOUND;
            memcpy(result->detail, value, strlen(value) + 1);
        } else {
            /* A success without a redeem result: the backend speaks another version. */
            result->outcome = UNBOX_CLAIM_REFUSED;
            memcpy(result->detail, "protocol", sizeof("protocol"));
        }
        return UNBOX_REDEEM_FINAL;
    }
    if (!json_string_field(answer->body, len, "code", result->detail, sizeof(result->detail))) {
        result->detail[0] = '\0';
    }
    result->outcome = (status == 410 || strcmp(result->detail, "claim-expired") == 0) ? UNBOX_CLAIM_EXPIRED
                                                                                      : UNBOX_CLAIM_REFUSED;
    return UNBOX_REDEEM_FINAL;
}

uint32_t unbox_redeem_backoff_ms(const unbox_claim_t *claim, uint32_t retry, uint32_t retry_after_s)
{
    uint32_t max = claim->config.max_delay_ms;
    uint64_t nominal = claim->config.initial_delay_ms;
    for (uint32_t i = 1; i < retry && nominal < max; i++) {
        nominal *= 2;
    }
    if (nominal > max) {
        nominal = max;
    }
    uint8_t bytes[4];
    claim->platform.random(claim->platform.ctx, bytes, sizeof(bytes));
    uint32_t random = (uint32_t)bytes[0] | ((uint32_t)bytes[1] << 8) | ((uint32_t)bytes[2] << 16) |
                      ((uint32_t)bytes[3] << 24);
    uint64_t half = nominal / 2;
    uint64_t delay = half + random % (nominal - half + 1);
    uint64_t server = (uint64_t)retry_after_s * 1000u;
    if (server > delay) {
        delay = server;
    }
    return delay > max ? max : (uint32_t)delay;
}
