/* Arduino-ESP32 entry header of the UnboxClaim library: the portable core and the ESP-IDF port
 * (Arduino-ESP32 runs on ESP-IDF). See examples/ClaimOnProvisioning. */
#ifndef UNBOX_CLAIM_ARDUINO_H
#define UNBOX_CLAIM_ARDUINO_H

#include "unbox_claim.h"
#include "unbox_claim_esp.h"

#endif
