/*
 * unbox-claim on ESP-IDF (and Arduino-ESP32, which runs on ESP-IDF): one call wires the component
 * into wifi_provisioning. Call unbox_claim_esp_init() after wifi_prov_mgr_init() and before
 * wifi_prov_mgr_start_provisioning(); it creates the `unbox-claim` endpoint, registers its handler
 * once provisioning has started (WIFI_PROV_START), announces {"unbox":{"ver":"1","cap":["claim"]}}
 * in proto-ver, redeems the claim when the station gets an IP (IP_EVENT_STA_GOT_IP) from its own
 * task, and calls `on_result` from that task.
 */
#ifndef UNBOX_CLAIM_ESP_H
#define UNBOX_CLAIM_ESP_H

#include <esp_err.h>

#include "unbox_claim.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What unbox_claim_esp_init() needs; the rest comes from Kconfig (menuconfig → Unbox claim). */
typedef struct {
    /** The factory device id, or NULL to read it from NVS (see unbox_claim_esp_load_credential). */
    const char *device_id;
    /** The factory device secret, or NULL to read it from NVS. Copied; wipe your copy after. */
    const uint8_t *device_secret;
    size_t device_secret_len;
    /** Outcome callback (runs in the component's task) and its argument. */
    unbox_claim_callback_t on_result;
    void *user;
} unbox_claim_esp_config_t;

/**
 * Starts the component (see the file comment). Needs nvs_flash_init(), the default event loop and
 * wifi_prov_mgr_init() done. Returns ESP_OK, ESP_ERR_INVALID_ARG for a bad credential,
 * ESP_ERR_NOT_FOUND when no credential is in NVS, ESP_ERR_NO_MEM, or wifi_prov_mgr's error.
 */
esp_err_t unbox_claim_esp_init(const unbox_claim_esp_config_t *config);

/**
 * Reads the factory credential from NVS: namespace CONFIG_UNBOX_CLAIM_FACTORY_NAMESPACE, string
 * key "device_id" and blob key "device_secret" (what the factory's NVS partition CSV writes).
 */
esp_err_t unbox_claim_esp_load_credential(char *device_id, size_t device_id_size, uint8_t *secret,
                                          size_t *secret_len);

/** Whether this device has redeemed a claim (kept across reboots). */
bool unbox_claim_esp_is_bound(void);

/** Factory reset of the binding: forgets the bound flag and any pending claim. */
esp_err_t unbox_claim_esp_forget_binding(void);

#ifdef __cplusplus
}
#endif

#endif
