/* The host port of unbox-claim for tests (see unbox_claim_host.h). */
#include "unbox_claim_host.h"

#include <stdio.h>
#include <string.h>

#include "unbox_host_hmac.h"

static unbox_host_kv_slot_t *find(unbox_host_t *host, const char *key)
{
    for (size_t i = 0; i < UNBOX_HOST_KV_SLOTS; i++) {
        if (host->kv[i].used && strcmp(host->kv[i].key, key) == 0) {
            return &host->kv[i];
        }
    }
    return NULL;
}

static int kv_get(void *ctx, const char *key, uint8_t *buf, size_t *len)
{
    unbox_host_kv_slot_t *slot = find(ctx, key);
    if (slot == NULL) {
        return UNBOX_CLAIM_KV_NOT_FOUND;
    }
    if (slot->len > *len) {
        return -1;
    }
    memcpy(buf, slot->value, slot->len);
    *len = slot->len;
    return 0;
}

static int kv_set(void *ctx, const char *key, const uint8_t *buf, size_t len)
{
    unbox_host_t *host = ctx;
    if (host->kv_broken || len > UNBOX_HOST_KV_VALUE_MAX || strlen(key) >= sizeof(host->kv[0].key)) {
        return -1;
    }
    unbox_host_kv_slot_t *slot = find(host, key);
    for (size_t i = 0; slot == NULL && i < UNBOX_HOST_KV_SLOTS; i++) {
        if (!host->kv[i].used) {
            slot = &host->kv[i];
        }
    }
    if (slot == NULL) {
        return -1;
    }
    slot->used = true;
    snprintf(slot->key, sizeof(slot->key), "%s", key);
    memcpy(slot->value, buf, len);
    slot->len = len;
    return 0;
}

static int kv_erase(void *ctx, const char *key)
{
    unbox_host_kv_slot_t *slot = find(ctx, key);
    if (slot != NULL) {
        unbox_claim_wipe(slot, sizeof(*slot));
    }
    return 0;
}

static uint64_t now_ms(void *ctx)
{
    return ((unbox_host_t *)ctx)->now_ms;
}

static void fill_random(void *ctx, uint8_t *buf, size_t len)
{
    unbox_host_t *host = ctx;
    for (size_t i = 0; i < len; i++) {
        /* xorshift64 */
        host->rng_state ^= host->rng_state << 13;
        host->rng_state ^= host->rng_state >> 7;
        host->rng_state ^= host->rng_state << 17;
        buf[i] = (uint8_t)host->rng_state;
    }
}

static int hmac(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                uint8_t out[32])
{
    (void)ctx;
    return unbox_host_hmac_sha256(key, key_len, msg, msg_len, out);
}

static int http_post(void *ctx, const char *url, const char *authorization, const uint8_t *body,
                     size_t body_len, unbox_claim_answer_t *answer)
{
    unbox_host_t *host = ctx;
    host->posts++;
    snprintf(host->last_url, sizeof(host->last_url), "%s", url);
    snprintf(host->last_authorization, sizeof(host->last_authorization), "%s", authorization);
    host->last_body_len = body_len < sizeof(host->last_body) - 1 ? body_len : sizeof(host->last_body) - 1;
    memcpy(host->last_body, body, host->last_body_len);
    host->last_body[host->last_body_len] = '\0';
    host->now_ms += host->post_duration_ms;
    if (host->answers_served >= host->answer_count) {
        answer->status = 0;
        return -1;
    }
    *answer = host->answers[host->answers_served++];
    return answer->status == 0 ? -1 : 0;
}

static void log_line(void *ctx, unbox_claim_log_level_t level, const char *message)
{
    unbox_host_t *host = ctx;
    int n = snprintf(host->log + host->log_len, sizeof(host->log) - host->log_len, "%d %s\n", (int)level,
                     message);
    if (n > 0 && host->log_len + (size_t)n < sizeof(host->log)) {
        host->log_len += (size_t)n;
    }
}

void unbox_host_init(unbox_host_t *host, uint64_t seed, unbox_claim_platform_t *platform)
{
    memset(host, 0, sizeof(*host));
    host->now_ms = 1000;
    host->rng_state = seed ? seed : 0x9E3779B97F4A7C15ull;
    *platform = (unbox_claim_platform_t){
        .ctx = host,
        .http_post = http_post,
        .kv_get = kv_get,
        .kv_set = kv_set,
        .kv_erase = kv_erase,
        .now_ms = now_ms,
        .random = fill_random,
        .hmac_sha256 = hmac,
        .log = log_line,
    };
}

void unbox_host_answer(unbox_host_t *host, int status, uint32_t retry_after_s, const char *body)
{
    if (host->answer_count >= UNBOX_HOST_ANSWERS_MAX) {
        return;
    }
    unbox_claim_answer_t *answer = &host->answers[host->answer_count++];
    memset(answer, 0, sizeof(*answer));
    answer->status = status;
    answer->retry_after_s = retry_after_s;
    answer->body_len = strlen(body) < sizeof(answer->body) ? strlen(body) : sizeof(answer->body);
    memcpy(answer->body, body, answer->body_len);
}

void unbox_host_no_answer(unbox_host_t *host)
{
    unbox_host_answer(host, 0, 0, "");
}

bool unbox_host_kv_has(const unbox_host_t *host, const char *key)
{
    return find((unbox_host_t *)host, key) != NULL;
}
