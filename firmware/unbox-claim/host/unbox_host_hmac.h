/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the host port: the tests and the simulator
 * need no crypto library. Checked against FIPS 180-4 and RFC 4231 vectors in tests/. */
#ifndef UNBOX_HOST_HMAC_H
#define UNBOX_HOST_HMAC_H

#include <stddef.h>
#include <stdint.h>

/** SHA-256 of `len` bytes at `data` into `out`. */
void unbox_host_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

/** HMAC-SHA256 of `msg` keyed with `key` into `out`. Always returns 0. */
int unbox_host_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                           uint8_t out[32]);

#endif
