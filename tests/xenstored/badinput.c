/* Malformed requests over a raw socket: each gets Xen's error, or the
 * connection is closed where Xen closes it; the daemon and a second
 * connection stay healthy throughout. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "testutil.h"




/* Sends type+payload; returns reply type, body in buf (NUL-terminated). */
static int call(int fd, uint32_t type, const void *payload, uint32_t len, char *buf)
{
	struct xsd_sockmsg h = { .type = type, .req_id = 1, .len = len };

	if (write(fd, &h, sizeof(h)) != sizeof(h) || (len && write(fd, payload, len) != len))
		return -1;
	if (read_full(fd, &h, sizeof(h)) < 0 || h.len > XENSTORE_PAYLOAD_MAX ||
	    read_full(fd, buf, h.len) < 0)
		return -1;
	buf[h.len] = '\0';
	return (int)h.type;
}

static void healthy(int fd)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];

	CHECK(call(fd, XS_WRITE, "/ok\0yes", 7, buf) == XS_WRITE && strcmp(buf, "OK") == 0);
	CHECK(call(fd, XS_READ, "/ok", 4, buf) == XS_READ && strcmp(buf, "yes") == 0);
}

static int is_error(int fd, uint32_t type, const void *p, uint32_t len, const char *err)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	int t = call(fd, type, p, len, buf);

	if (t != XS_ERROR || strcmp(buf, err) != 0) {
		fprintf(stderr, "  type %u: got %d '%s', want ERROR '%s'\n", type, t, buf, err);
		return 0;
	}
	return 1;
}

int main(void)
{
	char path[XENSTORE_ABS_PATH_MAX + 8], buf[16];
	int other = dial(), fd = dial();
	struct xsd_sockmsg big = { .type = XS_READ, .req_id = 9, .len = XENSTORE_PAYLOAD_MAX + 1 };

	healthy(other);
	CHECK(is_error(fd, XS_READ, "/ok", 3, "EINVAL"));	   /* missing NUL */
	CHECK(is_error(fd, XS_READ, "/a b", 5, "EINVAL"));	   /* invalid char */
	CHECK(is_error(fd, XS_WRITE, "/a\x01", 4, "EINVAL"));
	CHECK(is_error(fd, XS_READ, "", 0, "EINVAL"));	   /* empty */
	CHECK(is_error(fd, 1234, "x", 2, "ENOSYS"));		   /* unknown type */
	CHECK(is_error(fd, XS_ERROR, "x", 2, "ENOSYS"));
	CHECK(is_error(fd, XS_WATCH, "/a\0t\0x", 7, "EINVAL")); /* three strings */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[2050] = '\0';
	CHECK(is_error(fd, XS_READ, path, 2051, "EINVAL"));	   /* over path-max */
	healthy(fd);
	healthy(other);
	/* Length over 4096: Xen drops the connection. */
	CHECK(write(fd, &big, sizeof(big)) == sizeof(big));
	CHECK(read(fd, buf, sizeof(buf)) <= 0);
	close(fd);
	healthy(other);
	fd = dial();
	healthy(fd);
	close(fd);
	close(other);
	printf("bad input: %d failures\n", failures);
	return failures ? 1 : 0;
}
