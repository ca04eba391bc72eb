/* A fake xenstore for the xenbus device tests (xb_fake_xs.h). */
#include "xb_fake_xs.h"

#include <stdio.h>
#include <string.h>

#include "kv_text.h"

int xb_fake_xs_read_fe(void *ctx, const char *key, char *buf, size_t len)
{
	return kv_text_lookup(((struct xb_fake_xs *)ctx)->fe, key, buf, len);
}

int xb_fake_xs_read_be(void *ctx, const char *key, char *buf, size_t len)
{
	return kv_text_lookup(((struct xb_fake_xs *)ctx)->be, key, buf, len);
}

static void append(struct xb_fake_xs *f, const char *s)
{
	size_t n = strlen(f->log);

	snprintf(f->log + n, sizeof(f->log) - n, "%s%s", n ? " " : "", s);
}

static int f_write(void *ctx, const char *key, const char *value)
{
	char s[256];

	snprintf(s, sizeof(s), "%s=%s", key, value);
	append(ctx, s);
	return 0;
}

static int f_state(void *ctx, enum xenbus_state st)
{
	char s[16];

	snprintf(s, sizeof(s), "state=%d", (int)st);
	append(ctx, s);
	return 0;
}

static int f_error(void *ctx, const char *msg)
{
	char s[300];

	snprintf(s, sizeof(s), "error=\"%s\"", msg);
	append(ctx, s);
	return 0;
}

void xb_fake_xs_io(struct xb_fake_xs *f, struct xb_io *io)
{
	*io = (struct xb_io){ .ctx = f, .set_state = f_state, .set_error = f_error,
			      .fe_keys = { f, xb_fake_xs_read_fe }, .be_keys = { f, f_write },
			      .be_read = { f, xb_fake_xs_read_be } };
}
