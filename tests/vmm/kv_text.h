/* The frontend's xenstore keys as the xenbus tests write them: one
 * "key=value" a line.  kv_text_lookup() is the fake key reader both
 * test_xenbus_core.c and xb_fake_xs.c hand to the code under test. */
#ifndef DOMUS_TESTS_KV_TEXT_H
#define DOMUS_TESTS_KV_TEXT_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* The value of key in text into buf: 0, -ENOENT or -E2BIG. */
static inline int kv_text_lookup(const char *text, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n'), *e = nl ? nl : p + strlen(p);

		if ((size_t)(e - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = (size_t)(e - p) - kl - 1;
			if (vl >= len)
				return -E2BIG;
			memcpy(buf, p + kl + 1, vl);
			buf[vl] = '\0';
			return 0;
		}
		p = nl ? nl + 1 : e;
	}
	return -ENOENT;
}

#endif
