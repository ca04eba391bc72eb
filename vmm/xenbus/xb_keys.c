/* Keys and saved words the xenbus back ends share (xb_keys.h). */
#include "xb_keys.h"

#include <errno.h>
#include <stdio.h>

int xb_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

int xb_read_u32(const struct xb_reader *r, const char *key, uint32_t max, uint32_t dflt, uint32_t *out,
		bool *present, char *why, size_t wl)
{
	char v[32];
	int rc = r->read(r->ctx, key, v, sizeof(v));

	if (present)
		*present = rc != -ENOENT;
	if (rc == -ENOENT && present) {
		*out = dflt;
		return 0;
	}
	if (rc == 0)
		rc = xb_parse_u32(v, max, out);
	if (rc < 0)
		snprintf(why, wl, "reading %s", key);
	return rc < 0 ? -EINVAL : 0;
}

int xb_put_u(const struct xb_writer *be, const char *key, unsigned long long v)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", v);
	return be->write(be->ctx, key, s);
}

void xb_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t xb_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void xb_put64(uint8_t *p, uint64_t v)
{
	xb_put32(p, (uint32_t)v);
	xb_put32(p + 4, (uint32_t)(v >> 32));
}

uint64_t xb_get64(const uint8_t *p)
{
	return xb_get32(p) | (uint64_t)xb_get32(p + 4) << 32;
}
