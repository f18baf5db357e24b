/* Host tests of unbox-claim (cmocka), run under AddressSanitizer and UndefinedBehaviorSanitizer by
 * scripts/test-host.sh. The byte vectors are those of core/src/binding/device_claim.rs and
 * core/src/binding/device_auth.rs (published in docs/firmware-guide.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "claim.pb-c.h"
#include "unbox_claim.h"
#include "unbox_claim_host.h"
#include "unbox_host_hmac.h"

#define TOKEN "q83vEjRWeJq83vEjRWeJqw"
#define DEVICE_ID "unbox-sim-0001"
#define BACKEND "https://api.example.com/"
#define SIGNATURE "GLIXCfdH4MKMpW-lMwXOfBJ_vDoiilgnrcNvI2N8UX0"

typedef struct {
    unbox_host_t host;
    unbox_claim_platform_t platform;
    unbox_claim_config_t config;
    uint8_t secret[32];
    unbox_claim_t claim;
    unsigned results;
    unbox_claim_result_t last;
} fixture_t;

static void on_result(const unbox_claim_result_t *result, void *user)
{
    fixture_t *f = user;
    f->results++;
    f->last = *result;
}

static void boot(fixture_t *f)
{
    assert_int_equal(unbox_claim_init(&f->claim, &f->config, &f->platform), UNBOX_CLAIM_OK);
}

/* A power cycle: RAM is lost, the key-value store stays. */
static void reboot(fixture_t *f)
{
    unbox_claim_deinit(&f->claim);
    boot(f);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    unbox_host_init(&f->host, 42, &f->platform);
    for (int i = 0; i < 32; i++) {
        f->secret[i] = (uint8_t)i;
    }
    f->config = (unbox_claim_config_t){
        .device_id = DEVICE_ID,
        .device_secret = f->secret,
        .device_secret_len = sizeof(f->secret),
        .default_backend_url = BACKEND,
        .on_result = on_result,
        .user = f,
    };
    boot(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    unbox_claim_deinit(&f->claim);
    free(f);
    return 0;
}

static size_t hex_decode(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void hex_encode(const uint8_t *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        sprintf(out + 2 * i, "%02x", in[i]);
    }
}

/* Packs a ClaimPayload{msg, cmd_claim{token, url}} the way a phone would. */
static size_t request(int msg, const char *token, const char *url, uint8_t *out)
{
    Unbox__Esp__ClaimRequest req = UNBOX__ESP__CLAIM_REQUEST__INIT;
    req.claim_token = (char *)token;
    req.backend_url = (char *)url;
    Unbox__Esp__ClaimPayload payload = UNBOX__ESP__CLAIM_PAYLOAD__INIT;
    payload.msg = (Unbox__Esp__ClaimMsgType)msg;
    payload.payload_case = UNBOX__ESP__CLAIM_PAYLOAD__PAYLOAD_CMD_CLAIM;
    payload.cmd_claim = &req;
    return unbox__esp__claim_payload__pack(&payload, out);
}

/* Sends `in` to the endpoint and returns the status answered; checks the reply's shape. */
static int exchange(fixture_t *f, const uint8_t *in, size_t len)
{
    uint8_t out[UNBOX_CLAIM_REPLY_MAX];
    size_t out_len = 0;
    assert_int_equal(unbox_claim_handle(&f->claim, in, len, out, sizeof(out), &out_len), UNBOX_CLAIM_OK);
    Unbox__Esp__ClaimPayload *reply = unbox__esp__claim_payload__unpack(NULL, out_len, out);
    assert_non_null(reply);
    assert_int_equal(reply->msg, UNBOX__ESP__CLAIM_MSG_TYPE__TypeRespClaim);
    assert_int_equal(reply->payload_case, UNBOX__ESP__CLAIM_PAYLOAD__PAYLOAD_RESP_CLAIM);
    assert_string_equal(reply->resp_claim->device_id, DEVICE_ID);
    int status = reply->resp_claim->status;
    unbox__esp__claim_payload__free_unpacked(reply, NULL);
    return status;
}

static int push(fixture_t *f, const char *token, const char *url)
{
    uint8_t in[UNBOX_CLAIM_REQUEST_MAX + 64];
    return exchange(f, in, request(0, token, url, in));
}

/* ---- crypto ---- */

static void sha256_and_hmac_match_fips_and_rfc4231(void **state)
{
    (void)state;
    uint8_t out[32], key[131], data[160];
    char hex[65];
    unbox_host_sha256((const uint8_t *)"abc", 3, out);
    hex_encode(out, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* RFC 4231 test case 1 */
    memset(key, 0x0b, 20);
    unbox_host_hmac_sha256(key, 20, (const uint8_t *)"Hi There", 8, out);
    hex_encode(out, 32, hex);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* test case 2 */
    unbox_host_hmac_sha256((const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28, out);
    hex_encode(out, 32, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* test case 3 */
    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    unbox_host_hmac_sha256(key, 20, data, 50, out);
    hex_encode(out, 32, hex);
    assert_string_equal(hex, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    /* test case 6: a key longer than the block */
    memset(key, 0xaa, 131);
    const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    unbox_host_hmac_sha256(key, 131, (const uint8_t *)msg6, strlen(msg6), out);
    hex_encode(out, 32, hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* test case 7: long key and long message */
    const char *msg7 = "This is a test using a larger than block-size key and a larger than block-size data. "
                       "The key needs to be hashed before being used by the HMAC algorithm.";
    unbox_host_hmac_sha256(key, 131, (const uint8_t *)msg7, strlen(msg7), out);
    hex_encode(out, 32, hex);
    assert_string_equal(hex, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* ---- codec ---- */

static void documented_request_is_accepted_with_the_documented_reply(void **state)
{
    fixture_t *f = *state;
    uint8_t in[128], out[UNBOX_CLAIM_REPLY_MAX];
    char hex[2 * UNBOX_CLAIM_REPLY_MAX + 1];
    size_t len = hex_decode("52320a1671383376456a5257654a71383376456a5257654a7177121868747470733a2f2f6170692e6578"
                            "616d706c652e636f6d2f",
                            in);
    size_t out_len = 0;
    assert_int_equal(unbox_claim_handle(&f->claim, in, len, out, sizeof(out), &out_len), UNBOX_CLAIM_OK);
    hex_encode(out, out_len, hex);
    /* The reply of the simulator's device; ClaimAccepted (0) is omitted by proto3. */
    assert_string_equal(hex, "08015a10120e756e626f782d73696d2d30303031");
    assert_int_equal(unbox_claim_state(&f->claim), UNBOX_CLAIM_STATE_PENDING);
}

static void refusals_are_answered_with_a_status(void **state)
{
    fixture_t *f = *state;
    uint8_t in[700];
    assert_int_equal(push(f, "short", ""), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken);
    assert_int_equal(push(f, "not base64url!not base64url!", ""), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken);
    char long_token[UNBOX_CLAIM_TOKEN_MAX + 2];
    memset(long_token, 'a', sizeof(long_token) - 1);
    long_token[sizeof(long_token) - 1] = '\0';
    assert_int_equal(push(f, long_token, ""), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken);
    long_token[UNBOX_CLAIM_TOKEN_MAX] = '\0';
    assert_int_equal(push(f, long_token, ""), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimAccepted);
    assert_int_equal(push(f, TOKEN, "not a url"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed);
    assert_int_equal(push(f, TOKEN, "ftp://api.example.com/"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed);
    assert_int_equal(push(f, TOKEN, "http://api.example.com/"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed);
    assert_int_equal(push(f, TOKEN, "https://"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed);
    assert_int_equal(push(f, TOKEN, "https://api.example.com:99999999/"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed);
    assert_int_equal(push(f, TOKEN, "https://[::1]:8443/x"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimAccepted);
    char long_url[UNBOX_CLAIM_URL_MAX + 2] = "https://a.example/";
    memset(long_url + strlen(long_url), 'p', sizeof(long_url) - 1 - strlen(long_url));
    long_url[sizeof(long_url) - 1] = '\0';
    assert_int_equal(push(f, TOKEN, long_url), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed);
    /* Invalid UTF-8 is a decode error for the Rust device: ClaimInvalidToken. */
    assert_int_equal(push(f, TOKEN, "https://a.example/\xff"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken);
    /* Wrong message type, a response instead of a request, nothing, garbage, too long. */
    assert_int_equal(exchange(f, in, request(1, TOKEN, "", in)), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken);
    size_t len = hex_decode("08015a10120e756e626f782d73696d2d30303031", in);
    assert_int_equal(exchange(f, in, len), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken);
    assert_int_equal(exchange(f, NULL, 0), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken);
    memset(in, 0xff, 3);
    assert_int_equal(exchange(f, in, 3), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken);
    memset(in, 0, sizeof(in));
    assert_int_equal(exchange(f, in, UNBOX_CLAIM_REQUEST_MAX + 1), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInvalidToken);
}

static void allowlist_no_default_and_storage_failures(void **state)
{
    fixture_t *f = *state;
    static const char *const allowed[] = {"https://api.example.com/"};
    f->config.default_backend_url = NULL;
    f->config.allowed_backends = allowed;
    f->config.allowed_backend_count = 1;
    reboot(f);
    assert_int_equal(push(f, TOKEN, ""), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed);
    assert_int_equal(push(f, TOKEN, "https://evil.example/"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimBackendNotAllowed);
    assert_int_equal(push(f, TOKEN, "https://api.example.com/v2"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimAccepted);
    f->host.kv_broken = true;
    assert_int_equal(push(f, TOKEN, "https://api.example.com/"), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimInternalError);
    assert_int_equal(unbox_claim_state(&f->claim), UNBOX_CLAIM_STATE_IDLE);
}

static void init_checks_its_arguments(void **state)
{
    fixture_t *f = *state;
    unbox_claim_t claim;
    unbox_claim_config_t config = f->config;
    config.device_secret_len = 15;
    assert_int_equal(unbox_claim_init(&claim, &config, &f->platform), UNBOX_CLAIM_ERR_INVALID_ARG);
    config = f->config;
    config.device_id = "bad id";
    assert_int_equal(unbox_claim_init(&claim, &config, &f->platform), UNBOX_CLAIM_ERR_INVALID_ARG);
    config = f->config;
    config.default_backend_url = "http://insecure.example/";
    assert_int_equal(unbox_claim_init(&claim, &config, &f->platform), UNBOX_CLAIM_ERR_INVALID_ARG);
    unbox_claim_platform_t platform = f->platform;
    platform.hmac_sha256 = NULL;
    assert_int_equal(unbox_claim_init(&claim, &f->config, &platform), UNBOX_CLAIM_ERR_INVALID_ARG);
}

static void protocomm_handler_mallocs_the_reply(void **state)
{
    fixture_t *f = *state;
    uint8_t in[128];
    uint8_t *out = NULL;
    ssize_t out_len = 0;
    size_t len = request(0, TOKEN, "", in);
    assert_int_equal(unbox_claim_protocomm_handler(7, in, (ssize_t)len, &out, &out_len, &f->claim), UNBOX_CLAIM_OK);
    assert_non_null(out);
    assert_int_equal(out_len, 20);
    free(out);
    assert_int_equal(unbox_claim_protocomm_handler(7, in, -1, &out, &out_len, &f->claim), UNBOX_CLAIM_ERR_INVALID_ARG);
}

/* ---- redemption ---- */

static void redeems_once_online_with_the_exact_request(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(push(f, TOKEN, ""), 0);
    assert_int_equal(unbox_claim_poll(&f->claim), UINT32_MAX); /* offline: nothing to do */
    assert_int_equal(f->host.posts, 0);
    unbox_host_answer(&f->host, 200, 0, "{\"status\":\"redeemed\"}");
    unbox_claim_network_up(&f->claim);
    assert_int_equal(unbox_claim_state(&f->claim), UNBOX_CLAIM_STATE_REDEEMING);
    assert_int_equal(unbox_claim_poll(&f->claim), UINT32_MAX);
    assert_int_equal(f->host.posts, 1);
    assert_string_equal(f->host.last_url, "https://api.example.com/v1/claims/redeem");
    assert_string_equal(f->host.last_body, "{\"claim_token\":\"" TOKEN "\",\"device_id\":\"" DEVICE_ID "\"}");
    assert_string_equal(f->host.last_authorization, "Unbox-HMAC-SHA256 " SIGNATURE);
    assert_int_equal(f->results, 1);
    assert_int_equal(f->last.outcome, UNBOX_CLAIM_BOUND);
    assert_string_equal(f->last.detail, "redeemed");
    assert_int_equal(f->last.attempts, 1);
    assert_true(unbox_claim_is_bound(&f->claim));
    assert_false(unbox_host_kv_has(&f->host, "claim"));
    assert_int_equal(unbox_claim_state(&f->claim), UNBOX_CLAIM_STATE_IDLE);
    /* Bound survives a reboot; the token does not stay anywhere. */
    reboot(f);
    assert_true(unbox_claim_is_bound(&f->claim));
    assert_int_equal(unbox_claim_state(&f->claim), UNBOX_CLAIM_STATE_IDLE);
    assert_null(strstr(f->host.log, TOKEN));
    /* Re-binding is allowed unless the product refuses it. */
    assert_int_equal(push(f, TOKEN, ""), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimAccepted);
    f->config.refuse_when_bound = true;
    reboot(f);
    assert_int_equal(push(f, TOKEN, ""), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimAlreadyBound);
    assert_int_equal(unbox_claim_forget_binding(&f->claim), UNBOX_CLAIM_OK);
    assert_int_equal(push(f, TOKEN, ""), UNBOX__ESP__DEVICE_CLAIM_STATUS__ClaimAccepted);
}

static void pushed_backend_is_joined_with_one_slash(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(push(f, TOKEN, "https://other.example.com:8443/base"), 0);
    unbox_host_answer(&f->host, 200, 0, "{\"status\": \"confirmed\"}");
    unbox_claim_network_up(&f->claim);
    unbox_claim_poll(&f->claim);
    assert_string_equal(f->host.last_url, "https://other.example.com:8443/base/v1/claims/redeem");
    assert_string_equal(f->last.detail, "confirmed");
}

static void pending_claim_survives_a_reboot(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(push(f, TOKEN, "https://other.example.com/"), 0);
    assert_true(unbox_host_kv_has(&f->host, "claim"));
    reboot(f);
    assert_int_equal(unbox_claim_state(&f->claim), UNBOX_CLAIM_STATE_PENDING);
    unbox_host_answer(&f->host, 200, 0, "{\"status\":\"redeemed\"}");
    unbox_claim_network_up(&f->claim);
    unbox_claim_poll(&f->claim);
    assert_string_equal(f->host.last_url, "https://other.example.com/v1/claims/redeem");
    assert_string_equal(f->host.last_authorization, "Unbox-HMAC-SHA256 " SIGNATURE);
    assert_int_equal(f->last.outcome, UNBOX_CLAIM_BOUND);
    /* A reboot during the retries resumes them. */
    assert_int_equal(push(f, TOKEN, ""), 0);
    unbox_claim_network_up(&f->claim);
    unbox_host_answer(&f->host, 503, 0, "");
    unbox_claim_poll(&f->claim);
    reboot(f);
    assert_int_equal(unbox_claim_state(&f->claim), UNBOX_CLAIM_STATE_PENDING);
}

static void corrupt_stored_claim_is_erased(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(push(f, TOKEN, ""), 0);
    for (size_t i = 0; i < UNBOX_HOST_KV_SLOTS; i++) {
        if (f->host.kv[i].used && strcmp(f->host.kv[i].key, "claim") == 0) {
            f->host.kv[i].value[1] = 200; /* token length beyond the record */
        }
    }
    reboot(f);
    assert_int_equal(unbox_claim_state(&f->claim), UNBOX_CLAIM_STATE_IDLE);
    assert_false(unbox_host_kv_has(&f->host, "claim"));
}

static void transient_answers_back_off_with_jitter(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(push(f, TOKEN, ""), 0);
    unbox_host_no_answer(&f->host);
    unbox_host_answer(&f->host, 503, 0, "{\"code\":\"unavailable\"}");
    unbox_host_answer(&f->host, 500, 0, "");
    unbox_host_answer(&f->host, 429, 20, "{\"code\":\"rate-limited\"}");
    unbox_host_answer(&f->host, 502, 0, "");
    unbox_host_answer(&f->host, 504, 0, "");
    unbox_host_answer(&f->host, 503, 120, "");
    unbox_host_answer(&f->host, 200, 0, "{\"status\":\"redeemed\"}");
    unbox_claim_network_up(&f->claim);
    /* Nominal 1, 2, 4, 8, 16, 30, 30 s: each delay in [nominal/2, nominal], at least Retry-After,
     * never above 30 s. */
    static const uint32_t nominal[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
    static const uint32_t server[] = {0, 0, 0, 20000, 0, 0, 120000};
    for (size_t i = 0; i < 7; i++) {
        uint32_t delay = unbox_claim_poll(&f->claim);
        uint32_t low = nominal[i] / 2 > server[i] ? nominal[i] / 2 : server[i];
        if (low > 30000) {
            low = 30000;
        }
        uint32_t high = nominal[i] > server[i] ? nominal[i] : server[i];
        if (high > 30000) {
            high = 30000;
        }
        assert_in_range(delay, low, high);
        /* Not due yet. */
        f->host.now_ms += delay - 1;
        assert_int_equal(unbox_claim_poll(&f->claim), 1);
        assert_int_equal(f->host.posts, i + 1);
        f->host.now_ms += 1;
        assert_int_equal(f->results, 0);
    }
    assert_int_equal(unbox_claim_poll(&f->claim), UINT32_MAX);
    assert_int_equal(f->last.outcome, UNBOX_CLAIM_BOUND);
    assert_int_equal(f->last.attempts, 8);
}

static void jitter_spreads_the_delays(void **state)
{
    fixture_t *f = *state;
    uint32_t seen_low = UINT32_MAX, seen_high = 0;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(push(f, TOKEN, ""), 0);
        unbox_claim_network_up(&f->claim);
        unbox_host_no_answer(&f->host);
        uint32_t delay = unbox_claim_poll(&f->claim);
        assert_in_range(delay, 500, 1000);
        seen_low = delay < seen_low ? delay : seen_low;
        seen_high = delay > seen_high ? delay : seen_high;
        unbox_claim_network_down(&f->claim);
    }
    assert_true(seen_low < 600 && seen_high > 900);
}

static void network_down_pauses_the_attempts(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(push(f, TOKEN, ""), 0);
    unbox_claim_network_up(&f->claim);
    unbox_host_no_answer(&f->host);
    unbox_claim_poll(&f->claim);
    unbox_claim_network_down(&f->claim);
    f->host.now_ms += 60000;
    assert_int_equal(unbox_claim_poll(&f->claim), UINT32_MAX);
    assert_int_equal(f->host.posts, 1);
    unbox_host_answer(&f->host, 200, 0, "{\"status\":\"redeemed\"}");
    unbox_claim_network_up(&f->claim);
    assert_int_equal(unbox_claim_poll(&f->claim), UINT32_MAX);
    assert_int_equal(f->last.outcome, UNBOX_CLAIM_BOUND);
}

static void gives_up_after_the_claim_lifetime(void **state)
{
    fixture_t *f = *state;
    f->config.give_up_ms = 10000;
    reboot(f);
    assert_int_equal(push(f, TOKEN, ""), 0);
    unbox_claim_network_up(&f->claim);
    uint32_t delay;
    while ((delay = unbox_claim_poll(&f->claim)) != UINT32_MAX) {
        f->host.now_ms += delay;
    }
    assert_int_equal(f->results, 1);
    assert_int_equal(f->last.outcome, UNBOX_CLAIM_EXPIRED);
    assert_int_equal(f->last.http_status, 0);
    assert_true(f->host.now_ms - 1000 <= 10000);
    assert_false(unbox_host_kv_has(&f->host, "claim"));
}

static void every_terminal_answer_stops_and_erases(void **state)
{
    fixture_t *f = *state;
    static const struct {
        int status;
        const char *body;
        unbox_claim_outcome_t outcome;
        const char *detail;
    } cases[] = {
        {401, "{\"type\":\"urn:unbox:problem:device-unauthorized\",\"code\":\"device-unauthorized\"}", UNBOX_CLAIM_REFUSED, "device-unauthorized"},
        {404, "{\"code\":\"claim-not-found\",\"status\":404}", UNBOX_CLAIM_REFUSED, "claim-not-found"},
        {409, "{\"title\":\"used\",\"code\" : \"claim-already-used\"}", UNBOX_CLAIM_REFUSED, "claim-already-used"},
        {409, "{\"code\":\"claim-refused\"}", UNBOX_CLAIM_REFUSED, "claim-refused"},
        {410, "{\"code\":\"claim-expired\"}", UNBOX_CLAIM_EXPIRED, "claim-expired"},
        {400, "{\"code\":\"invalid-request\"}", UNBOX_CLAIM_REFUSED, "invalid-request"},
        {403, "not json", UNBOX_CLAIM_REFUSED, ""},
        {200, "{\"status\":\"pending\"}", UNBOX_CLAIM_REFUSED, "protocol"},
        {200, "{\"status\":\"redeem", UNBOX_CLAIM_REFUSED, "protocol"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned before = f->results;
        unsigned posts = f->host.posts;
        assert_int_equal(push(f, TOKEN, ""), 0);
        unbox_host_answer(&f->host, cases[i].status, 0, cases[i].body);
        unbox_claim_network_up(&f->claim);
        assert_int_equal(unbox_claim_poll(&f->claim), UINT32_MAX);
        assert_int_equal(f->results, before + 1);
        assert_int_equal(f->last.outcome, cases[i].outcome);
        assert_int_equal(f->last.http_status, cases[i].status);
        assert_string_equal(f->last.detail, cases[i].detail);
        assert_false(unbox_host_kv_has(&f->host, "claim"));
        assert_int_equal(unbox_claim_state(&f->claim), UNBOX_CLAIM_STATE_IDLE);
        f->host.now_ms += 100000;
        assert_int_equal(unbox_claim_poll(&f->claim), UINT32_MAX);
        assert_int_equal(f->host.posts, posts + 1);
    }
    assert_false(unbox_claim_is_bound(&f->claim));
}

static void secrets_are_wiped_and_never_logged(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(push(f, TOKEN, ""), 0);
    unbox_host_no_answer(&f->host);
    unbox_host_answer(&f->host, 409, 0, "{\"code\":\"claim-already-used\"}");
    unbox_claim_network_up(&f->claim);
    f->host.now_ms += unbox_claim_poll(&f->claim);
    unbox_claim_poll(&f->claim);
    assert_null(strstr(f->host.log, TOKEN));
    assert_null(strstr(f->host.log, SIGNATURE));
    assert_non_null(strstr(f->host.log, "claim token received"));
    /* After a final answer the token is gone from RAM, and deinit wipes everything. */
    assert_null(memmem(&f->claim, sizeof(f->claim), TOKEN, strlen(TOKEN)));
    assert_non_null(memmem(&f->claim, sizeof(f->claim), f->secret, sizeof(f->secret)));
    unbox_claim_deinit(&f->claim);
    static const unbox_claim_t zero;
    assert_memory_equal(&f->claim, &zero, sizeof(zero));
    boot(f);
}

/* ---- fuzz-style ---- */

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void random_bytes_never_break_the_endpoint(void **state)
{
    fixture_t *f = *state;
    static const uint64_t seeds[] = {1, 0xdeadbeef, 0x5eed5eed5eedull, 20261201};
    uint8_t valid[128], in[UNBOX_CLAIM_REQUEST_MAX + 16];
    size_t valid_len = request(0, TOKEN, "https://api.example.com/", valid);
    unsigned accepted = 0;
    for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
        uint64_t rng = seeds[s];
        for (int i = 0; i < 25000; i++) {
            size_t len;
            if (i % 2 == 0) {
                /* Pure noise, any length up to just past the limit. */
                len = (size_t)(next(&rng) % sizeof(in));
                for (size_t j = 0; j < len; j++) {
                    in[j] = (uint8_t)next(&rng);
                }
            } else {
                /* A valid request with a few bytes flipped, cut or extended. */
                memcpy(in, valid, valid_len);
                len = valid_len;
                int flips = 1 + (int)(next(&rng) % 4);
                for (int k = 0; k < flips; k++) {
                    in[next(&rng) % len] ^= (uint8_t)(1u << (next(&rng) % 8));
                }
                if (next(&rng) % 4 == 0) {
                    len = (size_t)(next(&rng) % (len + 1));
                }
            }
            int status = exchange(f, in, len);
            assert_in_range(status, 0, 4);
            accepted += status == 0;
            assert_int_equal(f->claim.arena_used, 0);
        }
    }
    assert_true(accepted > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_and_hmac_match_fips_and_rfc4231),
        cmocka_unit_test_setup_teardown(documented_request_is_accepted_with_the_documented_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_are_answered_with_a_status, setup, teardown),
        cmocka_unit_test_setup_teardown(allowlist_no_default_and_storage_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(init_checks_its_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(protocomm_handler_mallocs_the_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(redeems_once_online_with_the_exact_request, setup, teardown),
        cmocka_unit_test_setup_teardown(pushed_backend_is_joined_with_one_slash, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_claim_survives_a_reboot, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_stored_claim_is_erased, setup, teardown),
        cmocka_unit_test_setup_teardown(transient_answers_back_off_with_jitter, setup, teardown),
        cmocka_unit_test_setup_teardown(jitter_spreads_the_delays, setup, teardown),
        cmocka_unit_test_setup_teardown(network_down_pauses_the_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(gives_up_after_the_claim_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(every_terminal_answer_stops_and_erases, setup, teardown),
        cmocka_unit_test_setup_teardown(secrets_are_wiped_and_never_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(random_bytes_never_break_the_endpoint, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
