#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "esp_err.h"
#include "esp_event.h"
#include "protocomm.h"
ESP_EVENT_DECLARE_BASE(WIFI_PROV_EVENT);
typedef enum { WIFI_PROV_INIT, WIFI_PROV_START, WIFI_PROV_CRED_RECV, WIFI_PROV_CRED_FAIL, WIFI_PROV_CRED_SUCCESS, WIFI_PROV_END, WIFI_PROV_DEINIT } wifi_prov_cb_event_t;
typedef enum { WIFI_PROV_SECURITY_0 = 0, WIFI_PROV_SECURITY_1, WIFI_PROV_SECURITY_2 } wifi_prov_security_t;
typedef struct { const char *salt; size_t salt_len; const char *verifier; size_t verifier_len; } wifi_prov_security2_params_t;
typedef void (*wifi_prov_cb_func_t)(void *user_data, wifi_prov_cb_event_t event, void *event_data);
typedef struct { wifi_prov_cb_func_t event_cb; void *user_data; } wifi_prov_event_handler_t;
typedef struct wifi_prov_scheme wifi_prov_scheme_t;
struct wifi_prov_scheme { void *opaque[6]; int wifi_mode; };
extern const wifi_prov_scheme_t wifi_prov_scheme_ble;
extern const wifi_prov_scheme_t wifi_prov_scheme_softap;
#define WIFI_PROV_EVENT_HANDLER_NONE { .event_cb = NULL, .user_data = NULL }
typedef struct {
    wifi_prov_scheme_t scheme;
    wifi_prov_event_handler_t scheme_event_handler;
    wifi_prov_event_handler_t app_event_handler;
} wifi_prov_mgr_config_t;
esp_err_t wifi_prov_mgr_init(wifi_prov_mgr_config_t config);
esp_err_t wifi_prov_mgr_is_provisioned(bool *provisioned);
esp_err_t wifi_prov_mgr_start_provisioning(wifi_prov_security_t security, const void *wifi_prov_sec_params, const char *service_name, const char *service_key);
esp_err_t wifi_prov_mgr_set_app_info(const char *label, const char *version, const char **capabilities, size_t total_capabilities);
esp_err_t wifi_prov_mgr_endpoint_create(const char *ep_name);
esp_err_t wifi_prov_mgr_endpoint_register(const char *ep_name, protocomm_req_handler_t handler, void *user_ctx);
void wifi_prov_mgr_deinit(void);
