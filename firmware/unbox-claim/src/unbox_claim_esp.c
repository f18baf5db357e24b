/* The ESP-IDF port of unbox-claim: esp_http_client with the certificate bundle, NVS, esp_timer,
 * esp_fill_random, mbedTLS HMAC, ESP_LOG, and the glue to wifi_provisioning and the event loop. */
#ifdef ESP_PLATFORM

#include "unbox_claim_esp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <esp_crt_bundle.h>
#include <esp_event.h>
#include <esp_http_client.h>
#include <esp_log.h>
#include <esp_netif.h>
#include <esp_random.h>
#include <esp_timer.h>
#include <esp_wifi.h>
#include <freertos/FreeRTOS.h>
#include <freertos/semphr.h>
#include <freertos/task.h>
#include <mbedtls/md.h>
#include <nvs.h>
#include <sdkconfig.h>
#include <wifi_provisioning/manager.h>

_Static_assert(UNBOX_CLAIM_ERR_NO_MEM == ESP_ERR_NO_MEM, "unbox-claim's NO_MEM is ESP-IDF's");
_Static_assert(UNBOX_CLAIM_ERR_INVALID_ARG == ESP_ERR_INVALID_ARG, "unbox-claim's INVALID_ARG is ESP-IDF's");

/* Kconfig booleans are defined (as 1) only when enabled. */
#ifdef CONFIG_UNBOX_CLAIM_ONLY_DEFAULT_BACKEND
#define ONLY_DEFAULT_BACKEND 1
#else
#define ONLY_DEFAULT_BACKEND 0
#endif
#ifdef CONFIG_UNBOX_CLAIM_REFUSE_WHEN_BOUND
#define REFUSE_WHEN_BOUND true
#else
#define REFUSE_WHEN_BOUND false
#endif

static const char *TAG = "unbox-claim";

static unbox_claim_t s_claim;
static SemaphoreHandle_t s_lock;
static TaskHandle_t s_task;

/* ---- platform ---- */

static esp_err_t on_http_event(esp_http_client_event_t *event)
{
    unbox_claim_answer_t *answer = event->user_data;
    if (event->event_id == HTTP_EVENT_ON_HEADER && strcasecmp(event->header_key, "Retry-After") == 0) {
        /* Delta-seconds only; an HTTP-date is ignored (the device has no wall clock yet). */
        const char *v = event->header_value;
        uint32_t seconds = 0;
        while (*v >= '0' && *v <= '9' && seconds < 86400u) {
            seconds = seconds * 10u + (uint32_t)(*v++ - '0');
        }
        answer->retry_after_s = *v == '\0' ? seconds : 0;
    }
    return ESP_OK;
}

static int http_post(void *ctx, const char *url, const char *authorization, const uint8_t *body,
                     size_t body_len, unbox_claim_answer_t *answer)
{
    (void)ctx;
    esp_http_client_config_t config = {
        .url = url,
        .method = HTTP_METHOD_POST,
        .timeout_ms = CONFIG_UNBOX_CLAIM_HTTP_TIMEOUT_MS,
        .crt_bundle_attach = esp_crt_bundle_attach,
        .disable_auto_redirect = true,
        .event_handler = on_http_event,
        .user_data = answer,
    };
    esp_http_client_handle_t client = esp_http_client_init(&config);
    if (client == NULL) {
        return -1;
    }
    esp_http_client_set_header(client, "Content-Type", "application/json");
    esp_http_client_set_header(client, "Accept", "application/json, application/problem+json");
    esp_http_client_set_header(client, "Authorization", authorization);
    int result = -1;
    if (esp_http_client_open(client, (int)body_len) == ESP_OK &&
        esp_http_client_write(client, (const char *)body, (int)body_len) == (int)body_len &&
        esp_http_client_fetch_headers(client) >= 0) {
        answer->status = esp_http_client_get_status_code(client);
        while (answer->body_len < sizeof(answer->body)) {
            int n = esp_http_client_read(client, answer->body + answer->body_len,
                                         (int)(sizeof(answer->body) - answer->body_len));
            if (n <= 0) {
                break;
            }
            answer->body_len += (size_t)n;
        }
        result = 0;
    }
    esp_http_client_close(client);
    esp_http_client_cleanup(client);
    return result;
}

static int kv_get(void *ctx, const char *key, uint8_t *buf, size_t *len)
{
    (void)ctx;
    nvs_handle_t handle;
    esp_err_t err = nvs_open(CONFIG_UNBOX_CLAIM_NVS_NAMESPACE, NVS_READONLY, &handle);
    if (err == ESP_ERR_NVS_NOT_FOUND) {
        return UNBOX_CLAIM_KV_NOT_FOUND;
    }
    if (err != ESP_OK) {
        return err;
    }
    err = nvs_get_blob(handle, key, buf, len);
    nvs_close(handle);
    return err == ESP_ERR_NVS_NOT_FOUND ? UNBOX_CLAIM_KV_NOT_FOUND : err;
}

static int kv_set(void *ctx, const char *key, const uint8_t *buf, size_t len)
{
    (void)ctx;
    nvs_handle_t handle;
    esp_err_t err = nvs_open(CONFIG_UNBOX_CLAIM_NVS_NAMESPACE, NVS_READWRITE, &handle);
    if (err != ESP_OK) {
        return err;
    }
    err = nvs_set_blob(handle, key, buf, len);
    if (err == ESP_OK) {
        err = nvs_commit(handle);
    }
    nvs_close(handle);
    return err;
}

static int kv_erase(void *ctx, const char *key)
{
    (void)ctx;
    nvs_handle_t handle;
    esp_err_t err = nvs_open(CONFIG_UNBOX_CLAIM_NVS_NAMESPACE, NVS_READWRITE, &handle);
    if (err != ESP_OK) {
        return err;
    }
    err = nvs_erase_key(handle, key);
    if (err == ESP_OK) {
        err = nvs_commit(handle);
    } else if (err == ESP_ERR_NVS_NOT_FOUND) {
        err = ESP_OK;
    }
    nvs_close(handle);
    return err;
}

static uint64_t now_ms(void *ctx)
{
    (void)ctx;
    return (uint64_t)(esp_timer_get_time() / 1000);
}

static void fill_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    esp_fill_random(buf, len);
}

static int hmac_sha256(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                       uint8_t out[32])
{
    (void)ctx;
    return mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, key_len, msg, msg_len, out);
}

static void log_line(void *ctx, unbox_claim_log_level_t level, const char *message)
{
    (void)ctx;
    switch (level) {
    case UNBOX_CLAIM_LOG_ERROR:
        ESP_LOGE(TAG, "%s", message);
        break;
    case UNBOX_CLAIM_LOG_WARN:
        ESP_LOGW(TAG, "%s", message);
        break;
    case UNBOX_CLAIM_LOG_INFO:
        ESP_LOGI(TAG, "%s", message);
        break;
    default:
        ESP_LOGD(TAG, "%s", message);
        break;
    }
}

/* ---- glue ---- */

/* protocomm calls this from its transport's task; the lock keeps it apart from the redeem task. */
static esp_err_t claim_handler(uint32_t session_id, const uint8_t *inbuf, ssize_t inlen, uint8_t **outbuf,
                               ssize_t *outlen, void *priv_data)
{
    xSemaphoreTake(s_lock, portMAX_DELAY);
    esp_err_t err = unbox_claim_protocomm_handler(session_id, inbuf, inlen, outbuf, outlen, priv_data);
    xSemaphoreGive(s_lock);
    return err;
}

static void on_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
    (void)arg;
    (void)data;
    if (base == WIFI_PROV_EVENT && id == WIFI_PROV_START) {
        /* Custom endpoints are registered once provisioning has started (manager.c's rule). */
        esp_err_t err = wifi_prov_mgr_endpoint_register(UNBOX_CLAIM_ENDPOINT, claim_handler, &s_claim);
        if (err != ESP_OK) {
            ESP_LOGE(TAG, "could not register the unbox-claim endpoint: %s", esp_err_to_name(err));
        }
        return;
    }
    xSemaphoreTake(s_lock, portMAX_DELAY);
    if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) {
        unbox_claim_network_up(&s_claim);
    } else if (base == WIFI_EVENT && id == WIFI_EVENT_STA_DISCONNECTED) {
        unbox_claim_network_down(&s_claim);
    }
    xSemaphoreGive(s_lock);
    xTaskNotifyGive(s_task);
}

static void redeem_task(void *arg)
{
    (void)arg;
    for (;;) {
        xSemaphoreTake(s_lock, portMAX_DELAY);
        uint32_t wait_ms = unbox_claim_poll(&s_claim);
        xSemaphoreGive(s_lock);
        ulTaskNotifyTake(pdTRUE, wait_ms == UINT32_MAX ? portMAX_DELAY : pdMS_TO_TICKS(wait_ms) + 1);
    }
}

esp_err_t unbox_claim_esp_load_credential(char *device_id, size_t device_id_size, uint8_t *secret,
                                          size_t *secret_len)
{
    nvs_handle_t handle;
    esp_err_t err = nvs_open(CONFIG_UNBOX_CLAIM_FACTORY_NAMESPACE, NVS_READONLY, &handle);
    if (err != ESP_OK) {
        return err;
    }
    size_t id_size = device_id_size;
    err = nvs_get_str(handle, "device_id", device_id, &id_size);
    if (err == ESP_OK) {
        err = nvs_get_blob(handle, "device_secret", secret, secret_len);
    }
    nvs_close(handle);
    return err;
}

esp_err_t unbox_claim_esp_init(const unbox_claim_esp_config_t *config)
{
    static const char *const allowed[] = {CONFIG_UNBOX_CLAIM_DEFAULT_BACKEND_URL};
    static const char *capabilities[] = {"claim"};
    char id[UNBOX_CLAIM_DEVICE_ID_MAX + 1] = {0};
    uint8_t secret[UNBOX_CLAIM_SECRET_MAX];
    size_t secret_len = sizeof(secret);
    const char *device_id = config->device_id;
    const uint8_t *device_secret = config->device_secret;
    esp_err_t err = ESP_OK;
    if (device_id == NULL || device_secret == NULL) {
        err = unbox_claim_esp_load_credential(id, sizeof(id), secret, &secret_len);
        device_id = id;
        device_secret = secret;
    } else {
        secret_len = config->device_secret_len;
    }
    if (err == ESP_OK) {
        s_lock = xSemaphoreCreateMutex();
        err = s_lock != NULL ? ESP_OK : ESP_ERR_NO_MEM;
    }
    if (err == ESP_OK) {
        unbox_claim_platform_t platform = {
            .http_post = http_post,
            .kv_get = kv_get,
            .kv_set = kv_set,
            .kv_erase = kv_erase,
            .now_ms = now_ms,
            .random = fill_random,
            .hmac_sha256 = hmac_sha256,
            .log = log_line,
        };
        unbox_claim_config_t claim_config = {
            .device_id = device_id,
            .device_secret = device_secret,
            .device_secret_len = secret_len,
            .default_backend_url = CONFIG_UNBOX_CLAIM_DEFAULT_BACKEND_URL,
            .allowed_backends = allowed,
            .allowed_backend_count = ONLY_DEFAULT_BACKEND,
            .refuse_when_bound = REFUSE_WHEN_BOUND,
            .initial_delay_ms = CONFIG_UNBOX_CLAIM_RETRY_INITIAL_MS,
            .max_delay_ms = CONFIG_UNBOX_CLAIM_RETRY_MAX_MS,
            .give_up_ms = CONFIG_UNBOX_CLAIM_GIVE_UP_S * 1000u,
            .on_result = config->on_result,
            .user = config->user,
        };
        err = unbox_claim_init(&s_claim, &claim_config, &platform);
    }
    unbox_claim_wipe(secret, sizeof(secret));
    if (err == ESP_OK) {
        err = wifi_prov_mgr_set_app_info("unbox", "1", capabilities, 1);
    }
    if (err == ESP_OK) {
        err = wifi_prov_mgr_endpoint_create(UNBOX_CLAIM_ENDPOINT);
    }
    if (err == ESP_OK && xTaskCreate(redeem_task, "unbox_claim", CONFIG_UNBOX_CLAIM_TASK_STACK, NULL,
                                     CONFIG_UNBOX_CLAIM_TASK_PRIORITY, &s_task) != pdPASS) {
        err = ESP_ERR_NO_MEM;
    }
    if (err == ESP_OK) {
        err = esp_event_handler_register(WIFI_PROV_EVENT, WIFI_PROV_START, on_event, NULL);
    }
    if (err == ESP_OK) {
        err = esp_event_handler_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_event, NULL);
    }
    if (err == ESP_OK) {
        err = esp_event_handler_register(WIFI_EVENT, WIFI_EVENT_STA_DISCONNECTED, on_event, NULL);
    }
    if (err != ESP_OK) {
        ESP_LOGE(TAG, "start failed: %s", esp_err_to_name(err));
    }
    return err;
}

bool unbox_claim_esp_is_bound(void)
{
    return unbox_claim_is_bound(&s_claim);
}

esp_err_t unbox_claim_esp_forget_binding(void)
{
    xSemaphoreTake(s_lock, portMAX_DELAY);
    esp_err_t err = unbox_claim_forget_binding(&s_claim) == UNBOX_CLAIM_OK ? ESP_OK : ESP_FAIL;
    xSemaphoreGive(s_lock);
    return err;
}

#endif /* ESP_PLATFORM */
