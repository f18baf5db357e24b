#pragma once
#include "esp_err.h"
#include "esp_event.h"
ESP_EVENT_DECLARE_BASE(IP_EVENT);
typedef enum { IP_EVENT_STA_GOT_IP, IP_EVENT_STA_LOST_IP, IP_EVENT_AP_STAIPASSIGNED, IP_EVENT_GOT_IP6, IP_EVENT_ETH_GOT_IP, IP_EVENT_ETH_LOST_IP, IP_EVENT_PPP_GOT_IP, IP_EVENT_PPP_LOST_IP } ip_event_t;
typedef struct esp_netif_obj esp_netif_t;
esp_err_t esp_netif_init(void);
esp_netif_t *esp_netif_create_default_wifi_sta(void);
esp_netif_t *esp_netif_create_default_wifi_ap(void);
