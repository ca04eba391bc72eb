/* The event loop: one epoll over the listening sockets, client sockets,
 * guest ring kicks and signals.  Each round handles what is ready, makes
 * changes durable (journal), and only then sends replies and events. */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "persist.h"

static void env_introduced(struct ops_env *env, uint32_t domid)
{
	xfer_claimed(env->daemon, domid);
	ring_introduced(env->daemon, domid);
}

static void env_log_switch(struct ops_env *env, bool on)
{
	struct xsd *d = env->daemon;

	d->opts.trace = on;
}

static unsigned env_outstanding(struct ops_env *env, uint32_t domid)
{
	struct xsd *d = env->daemon;
	unsigned n = 0;

	for (struct conn *c = d->conns; c; c = c->next)
		if (c->cl.domid == domid && c->kind == CONN_RING)
			n += c->outstanding;
	return n;
}

static const char *env_live_update(struct ops_env *env, const char **v, unsigned n)
{
	return upgrade_control(env->daemon, v, n);
}

static int env_xfer(struct ops_env *env, struct xse_client *c, const char *cmd, const char **v, unsigned n)
{
	struct conn *by = c ? (struct conn *)((char *)c - offsetof(struct conn, cl)) : NULL;

	return xfer_command(env->daemon, by, cmd, v, n);
}

static void env_resumed(struct ops_env *env, uint32_t domid)
{
	xfer_freeze(env->daemon, domid, false);
}

static void eng_domain_gone(struct xse_engine *eng, uint32_t domid, void *opaque)
{
	conn_drop_domain(opaque, domid);
}

static int add_fd(struct xsd *d, int fd, struct poll_tag *tag, enum poll_kind kind, void *obj)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	tag->kind = kind;
	tag->obj = obj;
	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The engine, the ops' services and epoll: everything but the sockets and
 * signals (the ring fuzzer runs on this alone). */
int xsd_init_core(struct xsd *d, const struct xsd_opts *o)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->opts = *o;
	d->spin_s = o->busy_poll_us / 1e6;
	d->listen_fd = d->guest_fd = d->sig_fd = d->ep = -1;
	rc = xse_init(&d->eng);
	if (rc < 0)
		return rc;
	for (int i = 0; i < XSE_Q_COUNT; i++)
		if (o->quota[i] > 0)
			d->eng.quota[i] = o->quota[i];
	d->eng.keep_orphans = o->keep_orphans;
	d->eng.domain_gone = eng_domain_gone;
	d->eng.hook_opaque = d;
	d->env = (struct ops_env){ .eng = &d->eng, .introduced = env_introduced,
				   .log_switch = env_log_switch,
				   .outstanding = env_outstanding,
				   .live_update = env_live_update, .xfer = env_xfer,
				   .resumed = env_resumed, .daemon = d };
	if (o->state_dir) {
		char err[512];

		rc = persist_open(d, o->state_dir, &d->persist, err, sizeof(err));
		if (rc < 0) {
			log_err("state", "cannot load state from %s: %s", o->state_dir,
				err[0] ? err : rc == -EBUSY ? "in use by another xenstored"
							     : strerror(-rc));
			return rc;
		}
		if (err[0])
			log_warn("state", "%s", err);
	}
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	return d->ep < 0 ? -errno : 0;
}

int xsd_init(struct xsd *d, const struct xsd_opts *o)
{
	sigset_t set;
	int rc = xsd_init_core(d, o);

	if (rc < 0)
		return rc;
	if (o->inherit) {
		char err[512];

		rc = upgrade_restore(d, o->inherit, err, sizeof(err));
		if (rc < 0) {
			log_err("upgrade", "%s", err);
			return rc;
		}
		if (err[0])
			log_warn("upgrade", "%s", err);
	} else {
		rc = sock_listen(o->socket_path, SOCK_STREAM, &d->listen_fd);
	}
	if (rc < 0) {
		log_err("socket", "cannot listen on %s: %s", o->socket_path, strerror(-rc));
		return rc;
	}
	rc = add_fd(d, d->listen_fd, &d->listen_tag, P_LISTEN, NULL);
	if (rc == 0 && o->guest_socket_path)
		rc = ring_guest_listen(d);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (rc == 0 && d->sig_fd < 0)
		rc = -errno;
	if (rc == 0)
		rc = add_fd(d, d->sig_fd, &d->sig_tag, P_SIGNAL, NULL);
	return rc;
}

/* Seconds the upgrade waits for client transactions to end. */
#define UPGRADE_WAIT 5.0

double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void dispatch_event(struct xsd *d, struct poll_tag *tag, uint32_t events)
{
	switch (tag->kind) {
	case P_LISTEN:
		sock_accept(d);
		break;
	case P_CONN:
		sock_event(d, tag->obj, events);
		break;
	case P_RING_KICK:
		ring_kick_event(d, tag->obj);
		break;
	case P_GUEST_LISTEN:
		ring_guest_accept(d);
		break;
	case P_GUEST_CTL:
		ring_guest_ctl(d, tag->obj);
		break;
	case P_SIGNAL: {
		struct signalfd_siginfo si;

		while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo != SIGUSR2) {
				d->stop = true;
			} else {
				upgrade_request(d, UPGRADE_WAIT);
			}
		}
		break;
	}
	}
}

/* Send what is queued, close what died. */
static void flush_all(struct xsd *d)
{
	struct conn *c, *next;

	for (c = d->conns; c; c = next) {
		next = c->next;
		if (c->kind == CONN_SOCKET && !c->dead && c->oq_head &&
		    conn_flush_socket(c) < 0)
			c->dead = true;
		if (c->kind == CONN_SOCKET && !c->dead)
			sock_consume(c);
		if (c->kind == CONN_RING && c->ring && !c->dead)
			ring_flush(c->ring);
		if (c->dead) {
			conn_free(c);
			continue;
		}
		if (c->kind == CONN_SOCKET)
			sock_update_poll(d, c);
	}
}

/* The end of every loop round: guests' requests, the journal, then the
 * guests' request rings told what was taken, then the replies and events.
 * A request leaves its guest's ring only once the journal holds what it did
 * (its effect and reply, or the part of it read so far): a kill -9 before
 * the journal write leaves it in the ring for the next daemon to read, one
 * after it leaves a journal that says how far the ring was read
 * (ring.c ring_resume_cons).  A failed journal write has dropped the
 * round's records, so holding req_cons back would not make the journal
 * agree with the ring; the guest is served on. */
void xsd_round(struct xsd *d)
{
	ring_service(d);
	if (d->persist && persist_flush(d->persist) < 0)
		log_err("state", "journal write failed; changes may be lost on a crash");
	ring_publish(d);
	flush_all(d);
}

/* Busy polling: after a round that did work the loop polls epoll without
 * sleeping for a while before it blocks.  Why: a client that gets its
 * reply usually sends its next request within microseconds, and waking a
 * daemon that went to sleep costs far more than that where idle CPUs halt
 * (a VM: tens of microseconds for the wake-up IPI; see docs/xenstored.md
 * for the measurements).  The spin only follows work, so an idle daemon
 * uses no CPU.  Its length adapts by KVM's rule for halt polling
 * (virt/kvm/kvm_main.c kvm_vcpu_halt: grow_halt_poll_ns,
 * shrink_halt_poll_ns), applied to the gap between two rounds with work:
 * a gap the spin covered changes nothing; a gap longer than the spin but
 * short enough that a longer spin would have covered it (below twice the
 * maximum: a sleeping daemon's gap includes its own wake-up) doubles the
 * spin, from SPIN_START up to --busy-poll; a longer gap halves it, down to
 * nothing.  A steady stream of requests keeps the spin; requests too sparse
 * for it to pay take it away. */
#define SPIN_START 10e-6

static int loop_timeout(struct xsd *d, bool *spinning)
{
	*spinning = false;
	if (ring_pending(d))
		return 0;
	if (d->spin_s > 0 && now_s() < d->last_work + d->spin_s) {
		*spinning = true;
		return 0;
	}
	return d->upgrade_deadline ? 100 : -1;
}

/* After a round that did work: adapt the spin; it starts now. */
static void spin_after_work(struct xsd *d)
{
	double max = d->opts.busy_poll_us / 1e6, now, gap;

	if (max <= 0)
		return;
	now = now_s();
	gap = d->last_work > 0 ? now - d->last_work : 0;
	if (gap > 2 * max) {
		d->spin_s /= 2;
		if (d->spin_s < SPIN_START)
			d->spin_s = 0;
	} else if (gap > d->spin_s) {
		d->spin_s = d->spin_s > 0 ? d->spin_s * 2 : SPIN_START;
		if (d->spin_s > max)
			d->spin_s = max;
	}
	d->last_work = now;
}

int xsd_run(struct xsd *d)
{
	struct epoll_event evs[64];

	d->upgrade = false;
	while (!d->stop) {
		bool spinning;
		int timeout = loop_timeout(d, &spinning);
		int n = epoll_wait(d->ep, evs, 64, timeout);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0 && spinning)
			continue; /* nothing came in: no round to run */
		bool for_sockets = false;

		for (int i = 0; i < n; i++) {
			struct poll_tag *tag = evs[i].data.ptr;

			for_sockets |= tag->kind == P_CONN;
			dispatch_event(d, tag, evs[i].events);
		}
		xsd_round(d);
		/* Only socket clients (domain 0's tools) make the daemon spin:
		 * a guest could otherwise keep a host CPU busy by sending a
		 * request every few tens of microseconds. */
		if (for_sockets)
			spin_after_work(d);
		if (d->upgrade_deadline && (upgrade_ready(d) || now_s() > d->upgrade_deadline)) {
			d->upgrade_deadline = 0;
			d->upgrade = true;
			return 0;
		}
	}
	if (d->persist && persist_snapshot(d->persist) < 0)
		log_err("state", "final snapshot failed");
	return 0;
}

void xsd_dispose(struct xsd *d)
{
	/* A daemon that ends keeps what it journalled: an import not yet
	 * claimed survives a restart untied (docs/xenstored.md). */
	for (struct conn *c = d->conns; c; c = c->next)
		c->importer = NULL;
	while (d->conns)
		conn_free(d->conns);
	while (d->rings)
		ring_free(d, d->rings);
	persist_close(d->persist);
	xse_dispose(&d->eng);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->opts.socket_path);
	}
	if (d->guest_fd >= 0) {
		close(d->guest_fd);
		unlink(d->opts.guest_socket_path);
	}
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->ep >= 0)
		close(d->ep);
}
