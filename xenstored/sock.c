/* The Unix socket transport that libxenstore clients use.  Connections on
 * it act for domain 0, as in Xen 4.17 (no read-only socket). */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A listening Unix socket at path, mode 0600 (only root's tools).  It is
 * bound under a temporary name and renamed into place once it listens:
 * clients (and xl starting the daemon) take the path's appearance as
 * "ready", and a connect between bind() and listen() would be refused. */
int sock_listen(const char *path, int type, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1, r, rc = 0;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%d", path, (int)getpid()) >=
	    (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r == 0)
		r = chmod(sa.sun_path, 0600);
	if (r == 0)
		r = listen(fd, 128);
	if (r == 0)
		r = rename(sa.sun_path, path);
	if (r < 0) {
		rc = -errno;
		unlink(sa.sun_path);
		close(fd);
		return rc;
	}
	*ret_fd = fd;
	return 0;
}

void sock_update_poll(struct xsd *d, struct conn *c)
{
	/* Stop reading from a client that does not read its replies. */
	uint32_t want = (c->oq_bytes < (1u << 20) ? EPOLLIN : 0) | (c->oq_head ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.ptr = &c->tag };

	if (want != c->pollmask && epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->pollmask = want;
}

void sock_accept(struct xsd *d)
{
	for (;;) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("socket", "accept: %s", strerror(errno));
			return;
		}
		c = conn_new(d, CONN_SOCKET, fd, 0);
		if (!c) {
			close(fd);
			log_err("socket", "out of memory accepting a connection");
			continue;
		}
		ev.data.ptr = &c->tag;
		c->pollmask = EPOLLIN;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_err(c->name, "epoll_ctl: %s", strerror(errno));
			conn_free(c);
		}
	}
}

int conn_flush_socket(struct conn *c)
{
	struct iovec iov[64];

	while (c->oq_head) {
		int n = conn_iov(c, iov, 64);
		ssize_t w = writev(c->fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		conn_consumed(c, (size_t)w);
	}
	return 0;
}

/* Requests are read with MSG_PEEK and taken off the socket only after the
 * replies are written (sock_consume, from the end of the loop round).  Why:
 * freeing a request's buffer calls unix_write_space() on the client's
 * socket, which wakes every task sleeping on it - and a libxenstore client
 * is by then asleep in read() waiting for the reply, so it would wake, find
 * nothing and sleep again (net/unix/af_unix.c unix_write_space; the read
 * side waits on the same queue in unix_stream_data_wait).  On a host whose
 * idle CPUs halt, that spurious wake-up costs about as much as the real one
 * (measured with perf in bench/xenstore, see docs/xenstored.md). */
void sock_event(struct xsd *d, struct conn *c, uint32_t events)
{
	char buf[16384];

	if (events & EPOLLIN) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			c->dead = true;
			return;
		}
		if (n < 0)
			return;
		c->unconsumed = (size_t)n;
		if (conn_feed(c, buf, (size_t)n) < 0) {
			log_guest(&c->rl, c->name, "payload length %u over %u: closing",
				  c->hdr.len, XENSTORE_PAYLOAD_MAX);
			c->dead = true;
		}
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		c->dead = true;
	}
}

void sock_consume(struct conn *c)
{
	char buf[4096];

	while (c->unconsumed) {
		size_t want = c->unconsumed < sizeof(buf) ? c->unconsumed : sizeof(buf);
		ssize_t n = recv(c->fd, buf, want, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The bytes were there when peeked: only a broken
			 * socket loses them. */
			c->dead = true;
			return;
		}
		c->unconsumed -= (size_t)n;
	}
}
