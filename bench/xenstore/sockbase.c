/* sockbase: the ceiling for a xenstore daemon on this host - a bare
 * request/reply over a Unix socket between two processes, with the sizes of
 * the xsbench operations (header + path out, header + reply back; a
 * transaction is three round trips), served by one epoll loop like a daemon.
 *   sockbase <read|write|directory|txn> <clients> <seconds>  -> "<ops/s>" */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "clients.h"

static char sock_path[108];

/* Answers every request with a reply whose length is in its req_id. */
static void serve(int lfd)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd }, evs[32];
	char buf[8192], rep[256] = { 0 };

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 32, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct xsd_sockmsg *h = (void *)buf;
			ssize_t r;

			if (fd == lfd) {
				ev.data.fd = accept(lfd, NULL, NULL);
				epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r <= 0) {
				close(fd);
				continue;
			}
			memcpy(rep, h, sizeof(*h));
			((struct xsd_sockmsg *)rep)->len = h->req_id;
			if (write(fd, rep, sizeof(*h) + h->req_id) < 0)
				close(fd);
		}
	}
}

struct client {
	int fd;
	const char *op;
};

static void *prepare(int i, void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->op = arg;
	strcpy(sa.sun_path, sock_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return NULL;
	return c;
}

static int rtt(struct client *c, uint32_t reqlen, uint32_t replen)
{
	char buf[512] = { 0 };
	struct xsd_sockmsg *h = (void *)buf;
	size_t want = sizeof(*h) + replen, got = 0;

	h->req_id = replen;
	h->len = reqlen;
	if (write(c->fd, buf, sizeof(*h) + reqlen) < 0)
		return -1;
	while (got < want) {
		ssize_t r = read(c->fd, buf, want - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int step(void *arg)
{
	struct client *c = arg;

	switch (c->op[0]) {
	case 'r': return rtt(c, 16, 5);		/* "/bench/0/key\0" -> "value" */
	case 'w': return rtt(c, 22, 3);		/* path + "value" -> "OK\0" */
	case 'd': return rtt(c, 16, 30);	/* 10 names "cN\0" */
	default:
		return rtt(c, 1, 2) | rtt(c, 23, 3) | rtt(c, 2, 3);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t server;
	double r;
	int lfd;

	if (argc != 4 || !strchr("rwdt", argv[1][0])) {
		fprintf(stderr, "usage: sockbase <read|write|directory|txn> <clients> <seconds>\n");
		return 2;
	}
	snprintf(sock_path, sizeof(sock_path), "/tmp/sockbase.%d", (int)getpid());
	strcpy(sa.sun_path, sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0) {
		perror("sockbase: listen");
		return 1;
	}
	server = fork();
	if (server == 0) {
		serve(lfd);
		_exit(0);
	}
	close(lfd);
	r = bench_run(atoi(argv[2]), atof(argv[3]), prepare, step, argv[1]);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	unlink(sock_path);
	if (r < 0)
		return 1;
	printf("%.0f\n", r);
	return 0;
}
