/* The primary console backend (xen-guest-abi.md §6.4 "Consoles"), on the
 * event loop: every handler here runs on the loop thread, so the log, the
 * client and the ring's consumer side have one writer and need no lock.
 * vCPU threads only queue output (console_guest_output). */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conlog.h"
#include "domus/log.h"
#include "evloop.h"
#include "fds.h"
#include "outq.h"
#include "vm.h"
#include "xen/xen_abi.h"

struct console {
	struct vm *vm;
	struct evl *loop;
	uint32_t port;  /* event channel, Domain-0 end */
	int kick_fd;    /* eventfd KVM signals on the guest's EVTCHNOP_send */
	int out_fd;     /* mirror to this fd (stdout), -1: none */
	int in_fd;      /* read input from this fd, -1: none */
	int listen_fd;  /* Unix socket for "xl console", -1: none */
	int client_fd;  /* the attached client, -1: none */
	struct evl_src *kick_src, *in_src, *listen_src, *client_src;
	struct evl_src *batch_src; /* the end of a batching window (on_batch) */
	struct evl_src *log_src;   /* the log's rate bound: a note is due (on_log_tick) */
	struct conlog log;         /* fd -1: no log */
	bool log_ticking;          /* log_src is armed */
	bool client_lagged;      /* output to it was dropped (said once) */
	struct outq q;           /* output from vCPU threads */
	uint64_t dropped_told;   /* of q.dropped, already logged */
	struct log_ratelimit rl; /* guest-triggered lines, loop thread only */
};

static struct xencons_interface *ring(struct console *c)
{
	return (struct xencons_interface *)(c->vm->special +
					    (LAYOUT_CONSOLE_PFN - (LAYOUT_SPECIAL_BASE >> 12)) * 4096);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (fd >= 0 && len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void drop_client(struct console *c)
{
	evl_del(c->loop, c->client_src);
	c->client_src = NULL;
	close(c->client_fd);
	c->client_fd = -1;
}

/* Never blocks: a console client that stops reading (a paused terminal)
 * must not stall the loop, which serves everything else.  What the client's
 * socket cannot take is dropped for it; the log keeps it all, as
 * xenconsoled's log does when its client falls behind. */
static void emit_client(struct console *c, const char *buf, size_t len)
{
	ssize_t n = send(c->client_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		drop_client(c);
	} else if ((size_t)(n < 0 ? 0 : n) < len && !c->client_lagged) {
		c->client_lagged = true;
		log_warn(c->vm->name, "console client is not reading: output dropped for it "
			 "(the console log keeps everything)");
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* An episode of drops is told once the log takes output again, even if the
 * guest has fallen silent: the timer asks each period until then. */
static void on_log_tick(void *ctx)
{
	struct console *c = ctx;

	c->log_ticking = conlog_tick(&c->log, now_ms()) > 0 &&
			 evl_timer_set(c->loop, c->log_src, c->log.cfg.period_ms, false) == 0;
}

static void emit_log(struct console *c, const char *buf, size_t len)
{
	if (c->log.fd < 0)
		return;
	conlog_write(&c->log, buf, len, now_ms());
	if (c->log.dropped && !c->log_ticking && c->log_src)
		c->log_ticking = evl_timer_set(c->loop, c->log_src, c->log.cfg.period_ms, false) == 0;
}

static void emit(struct console *c, const char *buf, size_t len)
{
	emit_log(c, buf, len);
	write_all(c->out_fd, buf, len);
	if (c->client_fd >= 0)
		emit_client(c, buf, len);
}

/* Writes out what vCPU threads queued.  Its drops are not the log's
 * (conlog.c): these bytes never reached it, so each is counted once. */
static void flush_queue(struct console *c)
{
	char buf[4096];
	uint64_t dropped = 0;
	size_t n;

	while ((n = outq_pop(&c->q, buf, sizeof(buf), &dropped)) > 0)
		emit(c, buf, n);
	if (dropped != c->dropped_told) {
		log_guest(&c->rl, c->vm->name, "console: %llu bytes of guest output dropped: the guest wrote "
			  "faster than the monitor could log", (unsigned long long)(dropped - c->dropped_told));
		c->dropped_told = dropped;
	}
}

static void flush_call(void *arg)
{
	flush_queue(arg);
}

void console_guest_output(struct vm *vm, const char *buf, size_t len)
{
	struct console *c = vm->console;

	/* One call per batch: later pushes ride on the one queued.  If the
	 * loop's pool is full the bytes wait for the next push or quiesce. */
	if (c && outq_push(&c->q, buf, len) && evl_call(c->loop, flush_call, c) < 0)
		outq_rearm(&c->q);
}

/* Drain the guest's output.  The indices are the guest's to write: read them
 * once and never trust prod - cons beyond the ring's size. */
static int drain_output(struct console *c)
{
	struct xencons_interface *r = ring(c);
	uint32_t cons = __atomic_load_n(&r->out_cons, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
	char buf[sizeof(r->out)];
	size_t n = 0;

	if (prod - cons > sizeof(r->out)) {
		log_guest(&c->rl, c->vm->name, "console: bad ring indexes (prod %u cons %u): resynced", prod, cons);
		__atomic_store_n(&r->out_cons, prod, __ATOMIC_RELEASE);
		return 0;
	}
	while (cons != prod)
		buf[n++] = r->out[MASK_XENCONS_IDX(cons++, r->out)];
	__atomic_store_n(&r->out_cons, cons, __ATOMIC_RELEASE);
	if (n)
		emit(c, buf, n);
	return (int)n;
}

static int feed_input(struct console *c, const char *buf, size_t len)
{
	struct xencons_interface *r = ring(c);
	uint32_t cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
	uint32_t prod = r->in_prod;
	size_t done = 0;

	if (prod - cons > sizeof(r->in))
		return 0;
	while (done < len && prod - cons < sizeof(r->in))
		r->in[MASK_XENCONS_IDX(prod++, r->in)] = buf[done++];
	__atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
	return (int)done;
}

static void on_kick(void *ctx, int fd, uint32_t events);

/* The guest sent on its port: it wrote output or took input.  The first
 * notification is served at once; those that follow within
 * CONSOLE_BATCH_MS are served together when the window ends, with the kick
 * descriptor out of the loop meanwhile.  A guest writing a line at a time
 * notifies per line, and serving each one (a wake-up here and an upcall
 * there) cost more than the line: measured in the lab, 290 KiB took ~60 s
 * one by one.  xenconsoled likewise stops serving a domain that notifies too
 * often until its period ends (RATE_LIMIT_ALLOWANCE in tools/console/daemon/io.c).
 * A guest that waits for room in a full ring waits at most one window. */
static void serve(struct console *c)
{
	uint64_t v;

	(void)!read(c->kick_fd, &v, sizeof(v));
	if (drain_output(c) > 0)
		evtchn_notify_guest(c->vm, c->port);
}

static void on_batch(void *ctx)
{
	struct console *c = ctx;

	serve(c);
	if (!c->kick_src && evl_add_fd(c->loop, c->kick_fd, EPOLLIN, on_kick, c, &c->kick_src) < 0)
		log_err(c->vm->name, "console: cannot watch the guest's notifications again");
}

static void on_kick(void *ctx, int fd, uint32_t events)
{
	struct console *c = ctx;

	serve(c);
	if (c->batch_src) {
		evl_del(c->loop, c->kick_src);
		c->kick_src = NULL;
		evl_timer_set(c->loop, c->batch_src, CONSOLE_BATCH_MS, false);
	}
}

static void on_stdin(void *ctx, int fd, uint32_t events)
{
	struct console *c = ctx;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0 && feed_input(c, buf, (size_t)n) > 0)
		evtchn_notify_guest(c->vm, c->port);
	else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* End of input: stdin is not ours to close. */
		evl_del(c->loop, c->in_src);
		c->in_src = NULL;
		c->in_fd = -1;
	}
}

static void on_client(void *ctx, int fd, uint32_t events)
{
	struct console *c = ctx;
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		drop_client(c);
	else if (feed_input(c, buf, (size_t)n) > 0)
		evtchn_notify_guest(c->vm, c->port);
}

static void on_accept(void *ctx, int lfd, uint32_t events)
{
	static const char busy[] = "domus: the console is in use by another client\r\n";
	struct console *c = ctx;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (c->client_fd >= 0) {
		/* One console client at a time, as xenconsoled. */
		(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	if (evl_add_fd(c->loop, fd, EPOLLIN, on_client, c, &c->client_src) < 0) {
		close(fd);
		return;
	}
	c->client_fd = fd;
	c->client_lagged = false;
}

static int listen_on(struct console *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return -errno;
	unlink(path);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(c->listen_fd, 2) < 0) {
		rc = -errno;
		log_err(c->vm->name, "console socket %s: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

static void console_release(void *inst)
{
	struct console *c = inst;
	int *const fds[] = { &c->kick_fd, &c->listen_fd, &c->client_fd };

	evl_del(c->loop, c->batch_src);
	evl_del(c->loop, c->log_src);
	evl_del(c->loop, c->kick_src);
	evl_del(c->loop, c->in_src);
	evl_del(c->loop, c->listen_src);
	evl_del(c->loop, c->client_src);
	if (c->vm->console == c)
		c->vm->console = NULL;
	close_fds(fds, sizeof(fds) / sizeof(fds[0]));
	conlog_close(&c->log);
	outq_fini(&c->q);
	free(c);
}

int console_create(struct vm *vm, struct evl *loop, const struct console_cfg *cfg, struct console **out)
{
	struct console *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	*c = (struct console){ .vm = vm, .loop = loop, .log.fd = -1, .out_fd = -1, .in_fd = -1, .listen_fd = -1,
			       .client_fd = -1, .rl = LOG_RATELIMIT_INIT(5, 10) };
	rc = outq_init(&c->q, CONSOLE_QUEUE_BYTES);
	c->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rc == 0 && c->kick_fd < 0)
		rc = -errno;
	if (rc == 0 && cfg->log_path) {
		struct conlog_cfg lc = CONLOG_CFG_DEFAULT;

		lc.max_bytes = cfg->log_max;
		rc = conlog_open(&c->log, cfg->log_path, &lc, vm->name, now_ms());
		if (rc < 0)
			log_err(vm->name, "console log %s: %s", cfg->log_path, strerror(-rc));
	}
	if (rc == 0 && cfg->stdio) {
		c->out_fd = STDOUT_FILENO;
		c->in_fd = STDIN_FILENO;
	}
	if (rc == 0 && cfg->socket_path)
		rc = listen_on(c, cfg->socket_path);
	/* The guest finds the ring and port through HVM params (no xenbus). */
	if (rc == 0)
		rc = evtchn_backend_port(vm, HVM_PARAM_CONSOLE_EVTCHN, c->kick_fd, &c->port);
	if (rc < 0) {
		console_release(c);
		return rc;
	}
	vm->hvm_params[HVM_PARAM_CONSOLE_PFN] = LAYOUT_CONSOLE_PFN;
	vm->hvm_params[HVM_PARAM_CONSOLE_EVTCHN] = c->port;
	vm->console = c;
	*out = c;
	return 0;
}

static int console_start(void *inst)
{
	struct console *c = inst;
	int rc = evl_add_fd(c->loop, c->kick_fd, EPOLLIN, on_kick, c, &c->kick_src);

	if (rc == 0)
		rc = evl_add_timer(c->loop, 0, false, on_batch, c, &c->batch_src);
	if (rc == 0 && c->log.fd >= 0)
		rc = evl_add_timer(c->loop, 0, false, on_log_tick, c, &c->log_src);

	if (rc == 0 && c->listen_fd >= 0)
		rc = evl_add_fd(c->loop, c->listen_fd, EPOLLIN, on_accept, c, &c->listen_src);
	/* epoll refuses a regular file or /dev/null: such a stdin has no
	 * input to wait for. */
	if (rc == 0 && c->in_fd >= 0 && evl_add_fd(c->loop, c->in_fd, EPOLLIN, on_stdin, c, &c->in_src) < 0) {
		log_warn(c->vm->name, "console: stdin cannot be polled: no console input from it");
		c->in_fd = -1;
	}
	return rc;
}

/* After the vCPUs have stopped: nothing more comes.  What the guest left in
 * the ring without a notification (or wrote before it knew the port) and
 * what vCPU threads queued is written out now. */
static int console_quiesce(void *inst)
{
	struct console *c = inst;

	evl_del(c->loop, c->batch_src);
	evl_del(c->loop, c->log_src);
	evl_del(c->loop, c->kick_src);
	evl_del(c->loop, c->in_src);
	evl_del(c->loop, c->listen_src);
	c->kick_src = c->in_src = c->listen_src = c->batch_src = c->log_src = NULL;
	c->log_ticking = false;
	flush_queue(c);
	drain_output(c);
	if (c->client_fd >= 0)
		drop_client(c);
	return 0;
}

int console_reopen_log(struct console *c)
{
	return conlog_reopen(&c->log);
}

const struct dev_ops console_dev_ops = {
	.kind = "console",
	.start = console_start,
	.quiesce = console_quiesce,
	.stop = console_release,
};
