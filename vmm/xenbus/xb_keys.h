/* What the xenbus back ends (vbd.c, vif.c) and their binding share about
 * keys and saved bytes: the frontend's numeric keys, read once and checked
 * (the frontend is hostile), the backend's numeric keys written, and the
 * little-endian words of the saved records (xb_core.c, xb_xs.c, a
 * device's part). */
#ifndef DOMUS_VMM_XENBUS_XB_KEYS_H
#define DOMUS_VMM_XENBUS_XB_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xb_core.h"

/* Strict decimal, no sign, no leading zero, up to max: 0, -EINVAL or
 * -ERANGE. */
int xb_parse_u32(const char *s, uint32_t max, uint32_t *out);

/* key through r, read once.  present NULL: the key must be there.
 * present given: whether it is; absent sets *out to dflt and is no
 * error.  A value that is unreadable or not a number up to max is -EINVAL
 * with why naming the key. */
int xb_read_u32(const struct xb_reader *r, const char *key, uint32_t max, uint32_t dflt, uint32_t *out,
		bool *present, char *why, size_t wl);

/* key = v in decimal through be: 0 or its write's -errno. */
int xb_put_u(const struct xb_writer *be, const char *key, unsigned long long v);

/* Little-endian words of the saved records. */
void xb_put32(uint8_t *p, uint32_t v);
uint32_t xb_get32(const uint8_t *p);
void xb_put64(uint8_t *p, uint64_t v);
uint64_t xb_get64(const uint8_t *p);

#endif
