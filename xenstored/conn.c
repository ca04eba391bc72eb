/* A client connection, whatever carries it (socket or guest ring): message
 * assembly, dispatch to ops, and the output queue of replies and watch
 * events (Xen 4.17 xenstored_core.c handle_input, send_reply, send_event). */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "persist.h"

/* Queued messages searched for a duplicate event (see queue_msg). */
#define DEDUP_MAX 64
/* Replies up to this size are queued whatever the memory quota says (Xen's
 * DEFAULT_BUFFER_SIZE, xenstored_core.c send_reply): every error name
 * fits, so an error can always be told. */
#define SMALL_REPLY 16

/* Queued output is charged to the connection's domain (Xen: send_reply,
 * send_event, free_buffered_data) while its client is attached; the
 * charge of what is still queued goes back before it detaches
 * (conn_uncharge_queue), so a disposed client is never charged. */
static int oq_charge(struct conn *c, int64_t bytes, bool check)
{
	return c->cl.eng ? xse_mem_add(c->cl.eng, c->cl.domid, bytes, check) : 0;
}

static void conn_uncharge_queue(struct conn *c)
{
	for (struct outmsg *m = c->oq_head; m; m = m->next)
		oq_charge(c, -(int64_t)m->len, false);
}

/* Queue one message; with `check`, -ENOMEM and nothing queued if its bytes
 * would take the domain to its hard memory quota. */
static int queue_msg(struct conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		     const void *p1, uint32_t n1, const void *p2, uint32_t n2, bool event,
		     bool check)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = n1 + n2 };
	struct outmsg *m;

	if (event && ((const char *)p1)[0] != '@' && c->oq_count <= DEDUP_MAX) {
		/* Xen drops an event identical to one still queued (send_event);
		 * @-events are never merged.  Only short queues are searched: a
		 * guest that lets thousands of events pile up must not make every
		 * event cost thousands of comparisons (the memory quota bounds
		 * the queue instead). */
		for (m = c->oq_head; m; m = m->next) {
			if (m->event && m->len == sizeof(h) + h.len &&
			    memcmp(m->data + sizeof(h), p1, n1) == 0 &&
			    memcmp(m->data + sizeof(h) + n1, p2, n2) == 0)
				return 0;
		}
	}
	if (oq_charge(c, (int64_t)sizeof(h) + h.len, check) < 0)
		return -ENOMEM;
	m = malloc(sizeof(*m) + sizeof(h) + h.len);
	if (!m) {
		oq_charge(c, -((int64_t)sizeof(h) + h.len), false);
		log_err(c->name, "out of memory queueing a reply; closing");
		c->dead = true;
		return 0;
	}
	m->next = NULL;
	m->len = (uint32_t)sizeof(h) + h.len;
	m->event = event;
	m->reply = !event;
	m->partial = false;
	memcpy(m->data, &h, sizeof(h));
	memcpy(m->data + sizeof(h), p1, n1);
	if (n2)
		memcpy(m->data + sizeof(h) + n1, p2, n2);
	if (c->oq_tail)
		c->oq_tail->next = m;
	else
		c->oq_head = m;
	c->oq_tail = m;
	if (!c->j_next)
		c->j_next = m;
	c->oq_bytes += m->len;
	c->out_queued += m->len;
	c->oq_count++;
	if (m->reply)
		c->outstanding++;
	return 0;
}

/* Output carried over a restart: charged without a check, as Xen's
 * read_state_buffered_data. */
void conn_queue_raw(struct conn *c, const void *p, uint32_t n)
{
	struct outmsg *m = malloc(sizeof(*m) + n);

	if (!m) {
		c->dead = true;
		return;
	}
	oq_charge(c, n, false);
	m->next = NULL;
	m->len = n;
	m->event = m->reply = m->partial = false;
	memcpy(m->data, p, n);
	if (c->oq_tail)
		c->oq_tail->next = m;
	else
		c->oq_head = m;
	c->oq_tail = m;
	if (!c->j_next)
		c->j_next = m;
	c->oq_bytes += n;
	c->out_queued += n;
	c->oq_count++;
}

static void conn_event(struct xse_client *cl, const char *path, const char *token)
{
	struct conn *c = cl->opaque;
	uint32_t n1 = (uint32_t)strlen(path) + 1, n2 = (uint32_t)strlen(token) + 1;

	/* Over-long events are not sent (xenstored_core.c send_event). */
	if (n1 + n2 > XENSTORE_PAYLOAD_MAX || c->dead)
		return;
	/* A guest that does not read its events must not grow our memory:
	 * an event that would take its domain to the memory quota is dropped,
	 * as Xen's send_event drops it when domain_memory_add_chk() fails. */
	queue_msg(c, XS_WATCH_EVENT, 0, 0, path, n1, token, n2, true, true);
}

/* The engine's notices of a domain crossing a memory quota: Xen's syslog
 * lines (xenstored_domain.c domain_chk_quota), through the rate limit of
 * the domain's ring connection when it has one. */
static void conn_mem_notice(struct xse_engine *eng, uint32_t domid, enum xse_mem_note what,
			    int64_t bytes, void *opaque)
{
	static const char *const say[] = {
		[XSE_MEM_HARD_HIT] = "exceeds hard memory quota",
		[XSE_MEM_HARD_CLEAR] = "below hard memory quota again",
		[XSE_MEM_SOFT_HIT] = "exceeds soft memory quota",
		[XSE_MEM_SOFT_CLEAR] = "below soft memory quota again",
	};
	const char *tail = what == XSE_MEM_HARD_HIT ? ", Xenstore interface to domain stalled" : "";
	struct xsd *d = opaque;
	long long mem = (long long)bytes;
	int quota = (what == XSE_MEM_HARD_HIT || what == XSE_MEM_HARD_CLEAR)
			    ? eng->quota[XSE_Q_MEMORY] : eng->soft_memory;
	char ctx[32];

	for (struct conn *c = d->conns; c; c = c->next) {
		if (c->kind == CONN_RING && c->cl.domid == domid && !c->dead) {
			log_guest(&c->rl, c->name, "domain %u %s (%lld of %d bytes)%s", domid,
				  say[what], mem, quota, tail);
			return;
		}
	}
	/* No connection to name: what a domain without one can make happen
	 * is bounded by Xen's own pace (one message per 10 s, domain.c). */
	snprintf(ctx, sizeof(ctx), "dom%u", domid);
	log_msg(what == XSE_MEM_HARD_HIT ? LOG_ERR : LOG_WARN, ctx,
		"domain %u %s (%lld of %d bytes)%s", domid, say[what], mem, quota, tail);
}

struct conn *conn_new(struct xsd *d, enum conn_kind kind, int fd, uint32_t domid)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->d = d;
	c->kind = kind;
	c->fd = fd;
	c->tag.kind = P_CONN;
	c->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10, 20);
	c->tag.obj = c;
	if (kind == CONN_SOCKET)
		snprintf(c->name, sizeof(c->name), "sock%u", ++d->conn_serial);
	else
		snprintf(c->name, sizeof(c->name), "dom%u", domid);
	/* The engine reports memory quota crossings here, where connections
	 * and their log rate limits are known. */
	d->eng.mem_notice = conn_mem_notice;
	xse_client_init(&d->eng, &c->cl, domid, conn_event, c);
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	d->nconns++;
	return c;
}

void conn_free(struct conn *c)
{
	struct xsd *d;

	if (!c)
		return;
	d = c->d;
	if (c->kind == CONN_SOCKET)
		xfer_importer_gone(d, c);
	if (c->ring)
		ring_detach(c->ring); /* the ring forgets this connection */
	conn_uncharge_queue(c);
	xse_client_dispose(&c->cl);
	while (c->oq_head) {
		struct outmsg *m = c->oq_head;

		c->oq_head = m->next;
		free(m);
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->nconns--;
	free(c);
}

/* Guests wait while they have `outstanding` replies unread, or while their
 * domain is at its hard memory quota (Xen's domain_can_read); privileged
 * sockets are not limited. */
bool conn_may_read(const struct conn *c)
{
	if (c->dead || c->frozen)
		return false;
	if (c->kind == CONN_RING && c->cl.domid != 0 &&
	    (c->outstanding >= (unsigned)c->d->eng.quota[XSE_Q_OUTSTANDING] ||
	     xse_mem_over_hard(&c->d->eng, c->cl.domid)))
		return false;
	return true;
}

static bool is_bad_input(const char *err)
{
	static const char *const bad[] = { "EINVAL", "ENOSYS", "E2BIG", "ENOSPC" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strcmp(err, bad[i]) == 0)
			return true;
	return false;
}

static void process(struct conn *c)
{
	struct xsd *d = c->d;
	struct ops_reply *r = &d->reply;

	c->body[c->hdr.len] = '\0';
	if (d->opts.trace)
		log_info(c->name, "IN %s len %u tx %u", wire_typename(c->hdr.type) ?: "?",
			 c->hdr.len, c->hdr.tx_id);
	ops_process(&d->env, &c->cl, &c->hdr, c->body, r);
	/* Malformed or over-quota requests get one (rate-limited) line naming
	 * the connection; ordinary misses (ENOENT, EACCES, EAGAIN) do not. */
	if (r->type == XS_ERROR && is_bad_input(r->body))
		log_guest(&c->rl, c->name, "%s request (type %u, %u bytes) refused: %s",
			  wire_typename(c->hdr.type) ?: "unknown", c->hdr.type, c->hdr.len,
			  r->body);
	/* Make the change durable before anyone can see the reply. */
	persist_note_request(d->persist, c, &c->hdr, c->body, r->type);
	/* A reply too big for the memory quota becomes ENOMEM (send_reply);
	 * the request's effect stays, as in Xen. */
	if (queue_msg(c, r->type, c->hdr.req_id, c->hdr.tx_id, r->body, r->len, NULL, 0, false,
		      r->len > SMALL_REPLY) < 0)
		queue_msg(c, XS_ERROR, c->hdr.req_id, c->hdr.tx_id, "ENOMEM", sizeof("ENOMEM"),
			  NULL, 0, false, false);
	if (r->watch_added)
		xse_watch_initial(&c->cl);
}

/* The one place input bytes enter a connection, fresh from its transport or
 * restored from a file (snapshot, journal, upgrade hand-over, import):
 * header first, checked as soon as it is whole, then the payload, up to the
 * end of one message.  The header is checked again on every call, so a
 * connection holding one Xen would reject never takes a payload byte (a
 * payload over XENSTORE_PAYLOAD_MAX would overflow c->body).  Returns the
 * bytes used, or -EPROTO. */
static long assemble(struct conn *c, const char *p, size_t n)
{
	size_t used = 0, want, take;

	if (n)
		c->in_dirty = true; /* for the journal: even bytes refused below */
	if (c->in_used < sizeof(c->hdr)) {
		want = sizeof(c->hdr) - c->in_used;
		take = want < n ? want : n;
		memcpy((char *)&c->hdr + c->in_used, p, take);
		c->in_used += (uint32_t)take;
		used = take;
		if (c->in_used < sizeof(c->hdr))
			return (long)used;
	}
	if (!wire_header_ok(&c->hdr))
		return -EPROTO; /* the transport logs and closes */
	want = sizeof(c->hdr) + c->hdr.len - c->in_used;
	take = want < n - used ? want : n - used;
	memcpy(c->body + (c->in_used - sizeof(c->hdr)), p + used, take);
	c->in_used += (uint32_t)take;
	return (long)(used + take);
}

static bool msg_whole(const struct conn *c)
{
	return c->in_used >= sizeof(c->hdr) && c->in_used == sizeof(c->hdr) + c->hdr.len;
}

long conn_feed(struct conn *c, const char *p, size_t n)
{
	size_t used = 0;

	while (used < n && conn_may_read(c)) {
		long k = assemble(c, p + used, n - used);

		if (k < 0)
			return k;
		used += (size_t)k;
		if (msg_whole(c)) {
			c->in_used = 0;
			process(c);
		}
	}
	return (long)used;
}

int conn_restore_input(struct conn *c, const char *p, size_t n)
{
	long k;

	if (n == 0)
		return 0;
	if (c->in_used)
		return -EBUSY;
	k = assemble(c, p, n);
	if (k < 0)
		return (int)k;
	/* What is kept is a request not yet whole: a whole one, or more bytes
	 * than the header announces, was never written by a daemon. */
	if ((size_t)k != n || msg_whole(c))
		return -EPROTO;
	return 0;
}

int conn_iov(const struct conn *c, struct iovec *iov, int max)
{
	int n = 0;
	size_t off = c->head_off;

	for (struct outmsg *m = c->oq_head; m && n < max; m = m->next, off = 0) {
		iov[n].iov_base = m->data + off;
		iov[n].iov_len = m->len - off;
		n++;
	}
	return n;
}

void conn_consumed(struct conn *c, size_t n)
{
	c->oq_bytes -= n;
	c->out_consumed += n;
	while (n && c->oq_head) {
		struct outmsg *m = c->oq_head;
		size_t left = m->len - c->head_off;

		if (n < left) {
			c->head_off += n;
			return;
		}
		n -= left;
		c->head_off = 0;
		c->oq_head = m->next;
		if (!c->oq_head)
			c->oq_tail = NULL;
		c->oq_count--;
		if (c->j_next == m)
			c->j_next = m->next;
		if (m->reply)
			c->outstanding--;
		oq_charge(c, -(int64_t)m->len, false);
		free(m);
	}
}

/* Close the connections of a released domain (before its nodes go). */
void conn_drop_domain(struct xsd *d, uint32_t domid)
{
	struct conn *c, *next;

	for (c = d->conns; c; c = next) {
		next = c->next;
		if (c->kind == CONN_RING && c->cl.domid == domid) {
			conn_uncharge_queue(c);
			xse_client_dispose(&c->cl);
			c->dead = true;
		}
	}
	persist_forget_domain(d->persist, domid);
}
