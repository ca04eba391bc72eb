/* xsnull: a xenstore daemon that does nothing - every request gets the
 * fixed reply xsbench expects (a read "value", a directory ten names, a
 * transaction id 1, anything else "OK").  Run with xsbench it is the limit
 * of this host for libxenstore clients: the client's own system calls and
 * context switches with no daemon work at all.  It reads and wakes the way
 * domus's xenstored does (MSG_PEEK until the reply is out, busy polling
 * after work), so the gap between the two is the daemon's own cost.
 *   xsnull <socket path> [busy-poll microseconds, default 50] */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

struct nconn {
	int fd;
	uint32_t used;		 /* bytes of the current message assembled */
	size_t peeked;		 /* bytes to take off the socket after replying */
	struct xsd_sockmsg hdr;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void reply(struct nconn *c)
{
	static const char dir[] = "c0\0c1\0c2\0c3\0c4\0c5\0c6\0c7\0c8\0c9";
	struct xsd_sockmsg h = c->hdr;
	const char *body = "OK";
	uint32_t len = 3;
	char out[sizeof(h) + sizeof(dir)];

	switch (h.type) {
	case XS_READ: body = "value", len = 5; break;
	case XS_DIRECTORY: body = dir, len = sizeof(dir); break;
	case XS_TRANSACTION_START: body = "1", len = 2; break;
	default: break;
	}
	h.len = len;
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), body, len);
	if (write(c->fd, out, sizeof(h) + len) < 0)
		c->peeked = 0;
}

/* Returns false when the connection is gone. */
static bool input(struct nconn *c)
{
	char buf[16384];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	c->peeked = (size_t)n;
	for (ssize_t i = 0; i < n;) {
		if (c->used < sizeof(c->hdr)) {
			size_t take = sizeof(c->hdr) - c->used;

			if (take > (size_t)(n - i))
				take = (size_t)(n - i);
			memcpy((char *)&c->hdr + c->used, buf + i, take);
			c->used += (uint32_t)take, i += (ssize_t)take;
			if (c->used < sizeof(c->hdr))
				break;
			if (c->hdr.len > XENSTORE_PAYLOAD_MAX)
				return false;
		}
		size_t left = sizeof(c->hdr) + c->hdr.len - c->used;

		if (left > (size_t)(n - i))
			left = (size_t)(n - i);
		c->used += (uint32_t)left, i += (ssize_t)left;
		if (c->used == sizeof(c->hdr) + c->hdr.len) {
			reply(c);
			c->used = 0;
		}
	}
	while (c->peeked) {
		ssize_t r = recv(c->fd, buf, c->peeked, MSG_DONTWAIT);

		if (r <= 0)
			return false;
		c->peeked -= (size_t)r;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	double spin_s = (argc > 2 ? atof(argv[2]) : 50) / 1e6, until = 0;
	int lfd, ep;

	if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: xsnull <socket path> [busy-poll us]\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ep = epoll_create1(0);
	if (lfd < 0 || ep < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 128) < 0) {
		perror("xsnull");
		return 1;
	}
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int timeout = until > 0 && now() < until ? 0 : -1;
		int n = epoll_wait(ep, evs, 64, timeout);

		if (n < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			struct nconn *c = evs[i].data.ptr;

			if (!c) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

				if (fd < 0 || !(c = calloc(1, sizeof(*c)))) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				c->fd = fd;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			} else if (!input(c)) {
				close(c->fd);
				free(c);
			}
		}
		if (n > 0 && spin_s > 0)
			until = now() + spin_s;
	}
}
