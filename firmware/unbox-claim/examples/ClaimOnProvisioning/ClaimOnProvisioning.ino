// UnboxClaim with Arduino-ESP32's provisioning: the device joins Wi-Fi through ESP-IDF's unified
// provisioning (BLE, security 2) and binds itself to the account of the phone that set it up.
//
// unbox_claim_esp_init() must run between wifi_prov_mgr_init() and
// wifi_prov_mgr_start_provisioning(), and WiFiProv.beginProvision() does both in one call, so
// this sketch makes those two calls itself (Arduino-ESP32 ships ESP-IDF's wifi_provisioning) and
// uses WiFiProv for the rest: the events and the QR code.
#include <WiFi.h>
#include <WiFiProv.h>
#include <nvs_flash.h>
#include <wifi_provisioning/scheme_ble.h>

#include <UnboxClaim.h>

// From the factory partition (see docs/firmware-guide.md §2): salt and verifier made at the
// factory, never on the device.
extern const char sec2_salt[16];
extern const char sec2_verifier[384];
static const char *SERVICE_NAME = "PROV_1A2B3C";

static void onClaimResult(const unbox_claim_result_t *result, void *user) {
  switch (result->outcome) {
    case UNBOX_CLAIM_BOUND:
      Serial.println("Bound to the owner's account");
      break;
    case UNBOX_CLAIM_EXPIRED:
      Serial.println("The claim expired: set the device up again from the app");
      break;
    case UNBOX_CLAIM_REFUSED:
      Serial.printf("The backend refused the claim (%s)\n", result->detail);
      break;
  }
}

static void onProvisioningEvent(arduino_event_t *event) {
  if (event->event_id == ARDUINO_EVENT_PROV_START) {
    WiFiProv.printQR(SERVICE_NAME, "abcd1234", "ble");
  } else if (event->event_id == ARDUINO_EVENT_PROV_CRED_SUCCESS) {
    Serial.println("Wi-Fi credentials accepted");
  }
}

void setup() {
  Serial.begin(115200);
  nvs_flash_init();
  WiFi.onEvent(onProvisioningEvent);
  WiFi.begin();  // starts the Wi-Fi driver and the default event loop

  wifi_prov_mgr_config_t config = {
      .scheme = wifi_prov_scheme_ble,
      .scheme_event_handler = WIFI_PROV_SCHEME_BLE_EVENT_HANDLER_FREE_BTDM,
  };
  ESP_ERROR_CHECK(wifi_prov_mgr_init(config));

  unbox_claim_esp_config_t claim = {};  // the credential comes from the factory NVS namespace
  claim.on_result = onClaimResult;
  ESP_ERROR_CHECK(unbox_claim_esp_init(&claim));

  static wifi_prov_security2_params_t sec2 = {sec2_salt, sizeof(sec2_salt), sec2_verifier, sizeof(sec2_verifier)};
  ESP_ERROR_CHECK(wifi_prov_mgr_start_provisioning(WIFI_PROV_SECURITY_2, &sec2, SERVICE_NAME, NULL));
}

void loop() {
  delay(1000);
}
