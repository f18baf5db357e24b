#pragma once
#include <stdint.h>
#include <sys/types.h>
#include "esp_err.h"
typedef esp_err_t (*protocomm_req_handler_t)(uint32_t session_id, const uint8_t *inbuf, ssize_t inlen, uint8_t **outbuf, ssize_t *outlen, void *priv_data);
