/* Guest rings: a domain's struct xenstore_domain_interface (xs_wire.h),
 * mapped from the memfd its monitor hands over (domus/ring_proto.h), served
 * directly.  The guest is hostile: indexes are read once per pass, checked
 * (prod - cons never above the ring size, as Xen's domain.c check_indexes),
 * data is copied out before it is parsed, each pass takes a bounded number of
 * bytes so a busy domain cannot starve the others, and a guest that breaks
 * the protocol only loses its own connection (Xen's ignore_connection). */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persist.h"
#include "domus/ring_proto.h"

/* Bytes taken from one ring per loop pass: two maximal messages. */
#define RING_BUDGET (2 * (XENSTORE_PAYLOAD_MAX + sizeof(struct xsd_sockmsg)))
#define PAGE 4096u

struct ring {
	struct ring *next;
	struct xsd *d;
	uint32_t domid;
	bool attached, pending, broken;
	/* Requests wait in the ring while the connection may not read (a
	 * quota): looked at again every loop round (ring_ready). */
	bool stalled;
	/* Read this round (ring_read): ring_publish looks at it afterwards. */
	bool looked;
	/* The req_cons last written to the page; the connection's req_cons
	 * is where reading goes on (ahead of it within a round). */
	XENSTORE_RING_IDX published;
	int ctl_fd, kick_in, kick_out;
	struct poll_tag ctl_tag, kick_tag;
	void *map;
	struct xenstore_domain_interface *intf;
	struct conn *conn;
	char name[32];
	struct log_ratelimit rl; /* per guest: one cannot mute another */
};

static void notify(struct ring *r)
{
	uint64_t one = 1;

	if (write(r->kick_out, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn(r->name, "notifying the guest: %s", strerror(errno));
}

/* The guest broke the protocol: tell it in the page's error field (Xen's
 * XENSTORE_ERROR_*), drop its watches and transactions, stop serving. */
static void ring_break(struct ring *r, uint32_t err, const char *why)
{
	log_guest(&r->rl, r->name, "%s: connection ignored", why);
	r->broken = true;
	r->pending = false;
	__atomic_store_n(&r->intf->error, err, __ATOMIC_RELEASE);
	if (r->conn) {
		xse_reset_watches(&r->conn->cl);
		persist_watches(r->d->persist, &r->conn->cl);
	}
}

/* A connection imported for the domain (domxfer.c), waiting for its ring. */
static struct conn *imported_conn(struct xsd *d, uint32_t domid)
{
	for (struct conn *c = d->conns; c; c = c->next)
		if (c->kind == CONN_RING && !c->ring && !c->dead && c->cl.eng &&
		    c->cl.domid == domid)
			return c;
	return NULL;
}

/* Where reading goes on when a connection meets its ring: the ring's
 * req_cons, unless what the connection carries (a journal, a snapshot, a
 * detached ring's state, an import) accounts for bytes past it.  That is a
 * daemon killed after its round's journal write but before it published
 * req_cons: those bytes were taken, their effects and replies are in what
 * was restored, and reading them again would apply them twice.  The saved
 * index must lie within [req_cons, req_prod] of the page, read once;
 * anything else (the guest moved its indexes, a stale state) is logged and
 * the ring is served as it says. */
static void ring_resume_cons(struct ring *r)
{
	struct xenstore_domain_interface *i = r->intf;
	struct conn *c = r->conn;
	XENSTORE_RING_IDX cons = __atomic_load_n(&i->req_cons, __ATOMIC_RELAXED);
	XENSTORE_RING_IDX prod = __atomic_load_n(&i->req_prod, __ATOMIC_ACQUIRE);

	if (c->req_cons_known && c->req_cons != cons && !r->broken) {
		uint32_t ahead = c->req_cons - cons;

		if (prod - cons <= XENSTORE_RING_SIZE && ahead <= prod - cons) {
			log_info(r->name, "request ring resumed %u bytes on: taken before the "
					  "restart, already in the saved state", ahead);
			__atomic_store_n(&i->req_cons, c->req_cons, __ATOMIC_SEQ_CST);
			notify(r); /* room in the ring */
			cons = c->req_cons;
		} else {
			log_guest(&r->rl, r->name,
				  "domain %u: saved request index %u outside its ring's [%u, %u]; "
				  "serving the ring as it says", r->domid, c->req_cons, cons, prod);
		}
	}
	c->req_cons = cons;
	c->req_cons_known = true;
	r->published = cons;
}

static void ring_connect(struct ring *r)
{
	struct xsd *d = r->d;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &r->kick_tag };
	bool imported;

	r->conn = imported_conn(d, r->domid);
	imported = r->conn != NULL;
	if (imported) {
		/* It carries its own watches and bytes in flight; the ring
		 * goes on where the guest's page says. */
		r->conn->frozen = false;
		r->conn->importer = NULL;
	} else {
		r->conn = conn_new(d, CONN_RING, -1, r->domid);
		if (!r->conn) {
			log_err(r->name, "out of memory connecting the ring");
			return;
		}
	}
	r->conn->ring = r;
	/* What it carries goes to the journal whole once; then deltas. */
	r->conn->j_full = true;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, r->kick_in, &ev) < 0)
		log_err(r->name, "epoll_ctl: %s", strerror(errno));
	r->pending = true;
	if (!imported && d->persist && persist_restore_ring(d->persist, r->conn) < 0) {
		char why[96];

		/* Refused as the same bytes fresh from the ring would be. */
		snprintf(why, sizeof(why), "restored partial request refused (payload length %u)",
			 r->conn->hdr.len);
		ring_break(r, XENSTORE_ERROR_PROTO, why);
	}
	ring_resume_cons(r);
}

void ring_detach(struct ring *r)
{
	if (!r->conn)
		return;
	epoll_ctl(r->d->ep, EPOLL_CTL_DEL, r->kick_in, NULL);
	r->conn->ring = NULL;
	r->conn->dead = true;
	r->conn = NULL;
}

void ring_free(struct xsd *d, struct ring *r)
{
	struct ring **p;

	for (p = &d->rings; *p && *p != r; p = &(*p)->next)
		;
	if (*p)
		*p = r->next;
	if (r->conn) {
		struct conn *c = r->conn;

		if (c->cl.eng)
			persist_stash_ring(d->persist, c);
		ring_detach(r);
		conn_free(c);
	}
	if (r->map)
		munmap(r->map, PAGE);
	if (r->ctl_fd >= 0)
		close(r->ctl_fd);
	if (r->kick_in >= 0)
		close(r->kick_in);
	if (r->kick_out >= 0)
		close(r->kick_out);
	free(r);
}

int ring_guest_listen(struct xsd *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->guest_tag };
	int rc = sock_listen(d->opts.guest_socket_path, SOCK_SEQPACKET, &d->guest_fd);

	if (rc < 0) {
		log_err("guest", "cannot listen on %s: %s", d->opts.guest_socket_path, strerror(-rc));
		return rc;
	}
	d->guest_tag = (struct poll_tag){ P_GUEST_LISTEN, NULL };
	return epoll_ctl(d->ep, EPOLL_CTL_ADD, d->guest_fd, &ev) < 0 ? -errno : 0;
}

struct ring *ring_alloc(struct xsd *d, int ctl_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ring *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->d = d;
	r->ctl_fd = ctl_fd;
	r->kick_in = r->kick_out = -1;
	r->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10, 20);
	r->ctl_tag = (struct poll_tag){ P_GUEST_CTL, r };
	r->kick_tag = (struct poll_tag){ P_RING_KICK, r };
	snprintf(r->name, sizeof(r->name), "monitor");
	r->next = d->rings;
	d->rings = r;
	ev.data.ptr = &r->ctl_tag;
	if (ctl_fd >= 0 && epoll_ctl(d->ep, EPOLL_CTL_ADD, ctl_fd, &ev) < 0) {
		r->ctl_fd = -1; /* the caller still owns it */
		ring_free(d, r);
		return NULL;
	}
	return r;
}

void ring_guest_accept(struct xsd *d)
{
	for (;;) {
		int fd = accept4(d->guest_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (!ring_alloc(d, fd))
			close(fd);
	}
}

static struct ring *find_attached(struct xsd *d, uint32_t domid, struct ring *except)
{
	for (struct ring *r = d->rings; r; r = r->next)
		if (r != except && r->attached && r->domid == domid)
			return r;
	return NULL;
}

/* Validate an attach request and map the ring. */
int ring_attach(struct ring *r, const struct xsd_ring_attach *a, const int *fds)
{
	struct xsd *d = r->d;
	struct ring *old;
	struct stat st;
	int seals;

	if (a->magic != XSD_RING_MAGIC || a->version != XSD_RING_VERSION)
		return -EPROTO;
	if (a->domid == 0 || a->domid >= XSE_DOMID_SELF || (a->offset % PAGE) != 0)
		return -EINVAL;
	/* A memfd that could shrink under us would turn a ring access into
	 * SIGBUS: require the monitor to have sealed it. */
	seals = fcntl(fds[XSD_RING_FD_MEM], F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EPERM;
	if (fstat(fds[XSD_RING_FD_MEM], &st) < 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size < a->offset + PAGE)
		return -EINVAL;
	r->map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[XSD_RING_FD_MEM],
		      (off_t)a->offset);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return -errno;
	}
	r->intf = r->map;
	r->kick_in = fds[XSD_RING_FD_KICK_IN];
	r->kick_out = fds[XSD_RING_FD_KICK_OUT];
	fcntl(r->kick_in, F_SETFL, O_NONBLOCK);
	fcntl(r->kick_out, F_SETFL, O_NONBLOCK);
	r->domid = a->domid;
	snprintf(r->name, sizeof(r->name), "dom%u", r->domid);
	old = find_attached(d, r->domid, r);
	if (old) {
		log_info(r->name, "ring replaced by a new hand-over");
		ring_free(d, old);
	}
	r->attached = true;
	if (xse_is_introduced(&d->eng, r->domid))
		ring_connect(r);
	log_info(r->name, "ring attached at offset %llu%s", (unsigned long long)a->offset,
		 (a->flags & XSD_RING_RECONNECT) ? " (reconnect)" : "");
	return 0;
}

static void ring_ctl_message(struct ring *r)
{
	struct xsd_ring_attach a;
	struct xsd_ring_reply rep = { 0 };
	char cbuf[CMSG_SPACE(sizeof(int) * XSD_RING_NFDS)];
	struct iovec iov = { &a, sizeof(a) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	int fds[XSD_RING_NFDS] = { -1, -1, -1 }, nfds = 0;
	ssize_t n = recvmsg(r->ctl_fd, &mh, MSG_CMSG_CLOEXEC);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			for (int i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (nfds < XSD_RING_NFDS)
					fds[nfds++] = fd;
				else
					close(fd);
			}
		}
	}
	if (n <= 0 || r->attached) {
		/* EOF, or anything after the attach: the monitor is gone or
		 * confused; the ring goes (the domain stays introduced). */
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		if (r->attached)
			log_info(r->name, "monitor closed the hand-over socket: ring detached");
		ring_free(r->d, r);
		return;
	}
	if ((size_t)n != sizeof(a) || nfds != XSD_RING_NFDS || (mh.msg_flags & MSG_CTRUNC))
		rep.status = -EINVAL;
	else
		rep.status = ring_attach(r, &a, fds);
	if (rep.status < 0) {
		log_warn(r->name, "ring hand-over refused: %s", strerror(-rep.status));
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		r->kick_in = r->kick_out = -1;
	} else {
		close(fds[XSD_RING_FD_MEM]); /* the mapping keeps the memory */
	}
	if (send(r->ctl_fd, &rep, sizeof(rep), MSG_NOSIGNAL) != sizeof(rep) || rep.status < 0)
		ring_free(r->d, r);
}

uint32_t ring_rsp_prod(const struct ring *r)
{
	return r ? __atomic_load_n(&r->intf->rsp_prod, __ATOMIC_ACQUIRE) : 0;
}

void ring_wake(struct ring *r)
{
	if (!r->broken)
		r->pending = true;
}

void ring_guest_ctl(struct xsd *d, void *obj)
{
	ring_ctl_message(obj);
}

void ring_kick_event(struct xsd *d, struct ring *r)
{
	uint64_t v;

	while (read(r->kick_in, &v, sizeof(v)) > 0)
		;
	if (!r->broken)
		r->pending = true;
}

/* XS_INTRODUCE: start serving an attached ring; a repeated introduce
 * resets the connection as Xen's domain_conn_reset does. */
void ring_introduced(struct xsd *d, uint32_t domid)
{
	struct ring *r = find_attached(d, domid, NULL);
	struct xenstore_domain_interface *i;

	if (!r)
		return;
	if (!r->conn) {
		ring_connect(r);
		return;
	}
	i = r->intf;
	xse_reset_watches(&r->conn->cl);
	persist_watches(d->persist, &r->conn->cl);
	r->conn->j_full = true; /* the response index restarts at 0 */
	i->req_cons = i->req_prod = 0;
	i->rsp_cons = i->rsp_prod = 0;
	r->conn->req_cons = r->published = 0;
	r->looked = false;
	if (__atomic_load_n(&i->connection, __ATOMIC_ACQUIRE) == XENSTORE_RECONNECT)
		__atomic_store_n(&i->connection, XENSTORE_CONNECTED, __ATOMIC_RELEASE);
	notify(r);
}

/* Copy n bytes at index idx of the request ring (wrapping). */
static void ring_copy_req(const struct xenstore_domain_interface *i, XENSTORE_RING_IDX idx,
			  void *dst, uint32_t n)
{
	uint32_t off = MASK_XENSTORE_IDX(idx), first = XENSTORE_RING_SIZE - off;

	if (first > n)
		first = n;
	memcpy(dst, i->req + off, first);
	memcpy((char *)dst + first, i->req, n - first);
}

/* Take what the guest wrote into the connection, up to RING_BUDGET.  The
 * bytes stay in the guest's ring (req_cons is not moved) until the round's
 * journal holds what they did: ring_publish. */
static void ring_read(struct ring *r)
{
	struct xenstore_domain_interface *i = r->intf;
	char buf[XENSTORE_RING_SIZE];
	XENSTORE_RING_IDX cons = r->conn->req_cons;
	XENSTORE_RING_IDX prod = __atomic_load_n(&i->req_prod, __ATOMIC_ACQUIRE);
	size_t taken = 0;

	r->looked = true;
	if (prod - cons > XENSTORE_RING_SIZE) {
		ring_break(r, XENSTORE_ERROR_RINGIDX, "request ring indexes out of range");
		return;
	}
	/* Take whatever is there, partial messages included: Linux notifies only
	 * when it finds the ring drained before its write (xb_write in
	 * drivers/xen/xenbus/xenbus_comms.c: "if (prod <= intf->req_cons)"), so
	 * the rest of a message half-read here comes with no kick at all. */
	while (prod != cons && taken < RING_BUDGET && conn_may_read(r->conn)) {
		uint32_t chunk = prod - cons;
		long used;

		ring_copy_req(i, cons, buf, chunk); /* copy, then parse our copy */
		used = conn_feed(r->conn, buf, chunk);
		if (used < 0) {
			char why[64];

			snprintf(why, sizeof(why), "payload length %u over %u", r->conn->hdr.len,
				 XENSTORE_PAYLOAD_MAX);
			ring_break(r, XENSTORE_ERROR_PROTO, why);
			return;
		}
		cons += (XENSTORE_RING_IDX)used;
		taken += (size_t)used;
		r->conn->req_cons = cons;
		if ((uint32_t)used < chunk)
			break;
	}
}

/* The end of ring_read's work, once the journal holds the round: publish
 * req_cons and notify (the guest may wait for room), then look again: what
 * the guest wrote after it last read req_cons came without a kick (see
 * ring_read; the store and the load are both sequentially consistent, the
 * other half of Linux's mb() between its req_prod write and req_cons
 * read).  A connection that may not read (a quota) is stalled until it may
 * (ring_ready). */
static void ring_publish_one(struct ring *r)
{
	struct xenstore_domain_interface *i = r->intf;
	XENSTORE_RING_IDX cons, prod;

	r->looked = false;
	if (!r->conn || r->broken)
		return;
	cons = r->conn->req_cons;
	if (cons != r->published) {
		__atomic_store_n(&i->req_cons, cons, __ATOMIC_SEQ_CST);
		r->published = cons;
		notify(r);
	}
	prod = __atomic_load_n(&i->req_prod, __ATOMIC_SEQ_CST);
	r->pending = prod != cons && conn_may_read(r->conn);
	r->stalled = prod != cons && !r->pending;
}

void ring_publish(struct xsd *d)
{
	for (struct ring *r = d->rings; r; r = r->next)
		if (r->looked)
			ring_publish_one(r);
}

void ring_flush(struct ring *r)
{
	struct xenstore_domain_interface *i;
	XENSTORE_RING_IDX cons, prod;
	bool wrote = false;

	if (!r || r->broken || !r->conn || r->conn->frozen)
		return;
	i = r->intf;
	cons = __atomic_load_n(&i->rsp_cons, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(&i->rsp_prod, __ATOMIC_RELAXED);
	if (prod - cons > XENSTORE_RING_SIZE) {
		ring_break(r, XENSTORE_ERROR_RINGIDX, "response ring indexes out of range");
		return;
	}
	while (r->conn->oq_head && prod - cons < XENSTORE_RING_SIZE) {
		struct iovec v;
		uint32_t off = MASK_XENSTORE_IDX(prod);
		size_t n = XENSTORE_RING_SIZE - (prod - cons);

		conn_iov(r->conn, &v, 1);
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		if (n > v.iov_len)
			n = v.iov_len;
		memcpy(i->rsp + off, v.iov_base, n);
		prod += (XENSTORE_RING_IDX)n;
		conn_consumed(r->conn, n);
		wrote = true;
	}
	if (wrote) {
		__atomic_store_n(&i->rsp_prod, prod, __ATOMIC_RELEASE);
		notify(r);
		r->pending = true; /* replies left: more requests may be taken */
	}
}

/* A ring with requests to take.  A stalled one is ready again as soon as
 * its connection may read: Xen looks at domain_can_read in every loop, so
 * a domain whose memory drops below the hard quota (its nodes removed, the
 * quota raised) is served without a new notification from the guest. */
static bool ring_ready(struct ring *r)
{
	if (!r->conn || r->broken)
		return false;
	return r->pending || (r->stalled && conn_may_read(r->conn));
}

bool ring_pending(struct xsd *d)
{
	for (struct ring *r = d->rings; r; r = r->next)
		if (ring_ready(r))
			return true;
	return false;
}

/* One pass over every ring with work: each gets at most RING_BUDGET. */
void ring_service(struct xsd *d)
{
	for (struct ring *r = d->rings; r; r = r->next)
		if (ring_ready(r))
			ring_read(r);
}
