/* Durable state: a snapshot file plus an append-only journal in the state
 * directory (docs/xenstored.md, "Restart").
 *
 * A snapshot's records set state ("node P has this value, these
 * permissions and these children", "these are the domains", "domain D's
 * ring has these watches"); the journal's change it by what one request
 * changed ("node P now has this value and these permissions", joining its
 * parent's child list if new; "node P is gone", leaving it; "domain D
 * added this watch"), so that a request's journal bytes are bounded by the
 * request, not by the directory or the client it touches.  The journal is a file of fixed size mapped
 * shared: appending is a memcpy into the page cache, no system call, and
 * survives the process being killed (not a power loss: no fsync).  Each
 * event-loop round appends its records before the round's replies are sent,
 * writing the first record's type word last, so a round cut short by
 * kill -9 leaves a zero type where replay stops.  Replay also stops at a
 * torn record.  At start-up the state
 * is loaded, checked (every child listed exists, every node is listed by its
 * parent), written back as a fresh snapshot and the journal restarted.
 *
 * Record: u32 type, u32 payload length, payload.  Files start with
 * "DXS3" and a u64 generation: a journal is replayed only over the snapshot
 * of its generation, so that a snapshot cut short after its rename, beside
 * the journal it replaced, is not replayed over (persist_snapshot).  "DXS2"
 * and "DXS1" files (without a generation; version 1's journal names a
 * node's children in its own record) load too; persist_int.h. */
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "engine_int.h"
#include "persist_int.h"

/* ---- hooks and API ---- */

static void hook_node(struct xse_engine *eng, const char *path, const struct xse_node *n,
		      void *opaque)
{
	struct xsd *d = opaque;

	enc_node_journal(&d->persist->jbuf, path, n);
}

static void hook_meta(struct xse_engine *eng, void *opaque)
{
	struct xsd *d = opaque;

	enc_meta(&d->persist->jbuf, eng);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int step(struct persist *p, enum persist_step s)
{
	return p->seam && p->seam->after(p->seam->opaque, s) ? -EINTR : 0;
}

void persist_set_seam(struct persist *p, const struct persist_seam *seam)
{
	p->seam = seam;
}

/* A rename is durable once its directory is synced (fsync(2): "an
 * explicit fsync() on a file descriptor for the directory is also
 * needed"). */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Start the journal of p->gen over the old one, in place (the lock is on
 * its descriptor, so it is not replaced): zeros first, which end a replay,
 * then the generation, then the magic, so that a journal cut anywhere in
 * here replays nothing. */
static int journal_restart(struct persist *p)
{
	int rc;

	if (ftruncate(p->jfd, 0) < 0 || ftruncate(p->jfd, JOURNAL_MAX) < 0) {
		rc = -errno;
		/* Records appended to the old generation's journal would be
		 * ignored at load: the next round snapshots again instead. */
		p->jend = JOURNAL_MAX;
		return rc;
	}
	rc = step(p, PS_JOURNAL_EMPTIED);
	if (rc < 0)
		return rc;
	memcpy(p->jmap + 4, &p->gen, sizeof(p->gen));
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(p->jmap, MAGIC, 4);
	p->jend = HDR_LEN;
	return step(p, PS_JOURNAL_STARTED);
}

/* Generation N+1 replaces N (docs/xenstored.md, "Restart"):
 *   1. the snapshot is written to a temporary name and synced: a kill
 *      leaves snapshot N and journal N, the state before;
 *   2. renamed over snapshot N: from here a load finds snapshot N+1 and
 *      ignores journal N (everything in it was in the live state the
 *      snapshot was written from): the state after;
 *   3. the directory is synced, so that no power cut can undo the rename
 *      once journal N is gone;
 *   4. journal N's records are zeroed, then its header names N+1. */
int persist_snapshot(struct persist *p)
{
	struct xse_engine *eng;
	struct buf b = { 0 };
	/* Domains already written; past 64 a domain may be written twice,
	 * which is harmless: the later record replaces the earlier. */
	uint32_t done_dom[64];
	unsigned ndone = 0;
	uint64_t gen;
	size_t i;
	int fd, rc;

	if (!p)
		return 0;
	eng = &p->d->eng;
	gen = p->gen + 1; /* a wrap is harmless: generations are only compared equal */
	put(&b, MAGIC, 4);
	put(&b, &gen, sizeof(gen));
	enc_meta(&b, eng);
	for (struct htab_ent *e = htab_first(&eng->nodes, &i); e; e = htab_next(&eng->nodes, e, &i))
		enc_node(&b, e->key, (struct xse_node *)e);
	for (struct conn *c = p->d->conns; c; c = c->next)
		if (c->kind == CONN_RING && c->cl.eng && !c->dead) {
			enc_watches(&b, c->cl.domid, c->cl.watches, p->saved);
			if (c->cl.next_txid)
				enc_txid(&b, c->cl.domid, c->cl.next_txid);
			if (c->ring)
				enc_ringio(&b, c);
			if (ndone < 64)
				done_dom[ndone++] = c->cl.domid;
		}
	for (struct saved_watch *s = p->saved; s; s = s->next) {
		bool done = false;

		for (unsigned k = 0; k < ndone; k++)
			done |= done_dom[k] == s->domid;
		if (!done) {
			enc_watches(&b, s->domid, NULL, p->saved);
			if (ndone < 64)
				done_dom[ndone++] = s->domid;
		}
	}
	for (struct saved_txid *t = p->saved_txid; t; t = t->next)
		enc_txid(&b, t->domid, t->next_txid); /* of rings not back yet */
	/* Likewise; an empty one without a request index says only "nothing
	 * in flight" (a released domain's), which no record at all says too. */
	for (struct saved_io *io = p->saved_io; io; io = io->next)
		if (io->inlen || io->outlen || io->has_cons)
			enc_ringio_saved(&b, io);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	fd = open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	rc = fd < 0 ? -errno : write_all(fd, b.p, b.len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	free(b.p);
	if (rc == 0)
		rc = step(p, PS_TMP_SYNCED);
	if (rc == 0 && rename(p->tmp, p->state) < 0)
		rc = -errno;
	p->jbuf.len = 0;
	if (rc < 0)
		return rc;
	/* Snapshot N+1 is the state: what journal N and the buffered records
	 * say is in it, and what the rings had in flight is in it whole. */
	p->gen = gen;
	p->has_gen = true;
	for (struct conn *c = p->d->conns; c; c = c->next)
		if (c->kind == CONN_RING && c->ring && !c->dead)
			journal_synced(c);
	rc = step(p, PS_RENAMED);
	if (rc < 0)
		return rc;
	rc = sync_dir(p->dir);
	if (rc < 0) /* a kill is still covered, a power cut may not be */
		log_warn("state", "%s: cannot sync the directory: %s", p->dir, strerror(-rc));
	rc = step(p, PS_DIR_SYNCED);
	return rc < 0 ? rc : journal_restart(p);
}

int persist_open(struct xsd *d, const char *dir, struct persist **ret, char *err, size_t errsz)
{
	struct persist *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->d = d;
	p->jfd = -1;
	p->saved_tail = &p->saved;
	err[0] = '\0';
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	snprintf(p->state, sizeof(p->state), "%s/xenstored.state", dir);
	snprintf(p->tmp, sizeof(p->tmp), "%s.tmp", p->state);
	snprintf(p->journal, sizeof(p->journal), "%s/xenstored.journal", dir);
	mkdir(dir, 0700);
	/* One daemon per state directory: a second one would write the same
	 * journal.  The lock goes with the descriptor (also over an exec). */
	p->jfd = open(p->journal, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (p->jfd < 0) {
		rc = -errno;
		goto fail;
	}
	if (flock(p->jfd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	rc = load_file(p, p->state, false, err, errsz);
	if (rc == 0)
		rc = load_file(p, p->journal, true, err, errsz);
	if (rc < 0)
		goto fail;
	check_tree(&d->eng);
	if (ftruncate(p->jfd, JOURNAL_MAX) < 0) {
		rc = -errno;
		snprintf(err, errsz, "%s: %s", p->journal, strerror(-rc));
		goto fail;
	}
	p->jmap = mmap(NULL, JOURNAL_MAX, PROT_READ | PROT_WRITE, MAP_SHARED, p->jfd, 0);
	if (p->jmap == MAP_FAILED) {
		p->jmap = NULL;
		rc = -errno;
		goto fail;
	}
	d->persist = p;
	rc = persist_snapshot(p);
	if (rc < 0) {
		snprintf(err, errsz, "%s: cannot write the snapshot: %s", p->state, strerror(-rc));
		goto fail;
	}
	d->eng.node_changed = hook_node;
	d->eng.meta_changed = hook_meta;
	*ret = p;
	return 0;
fail:
	d->persist = NULL;
	persist_close(p);
	return rc;
}

void persist_close(struct persist *p)
{
	if (!p)
		return;
	if (p->jmap)
		munmap(p->jmap, JOURNAL_MAX);
	if (p->jfd >= 0)
		close(p->jfd);
	while (p->saved)
		drop_saved(p, p->saved->domid);
	while (p->saved_io)
		drop_io(p, p->saved_io->domid);
	while (p->saved_txid)
		drop_txid(p, p->saved_txid->domid);
	free(p->jbuf.p);
	free(p);
}

void persist_watches(struct persist *p, const struct xse_client *c)
{
	if (p)
		enc_watches(&p->jbuf, c->domid, c->watches, NULL);
}

void persist_conn(struct persist *p, const struct xse_client *c)
{
	if (!p)
		return;
	enc_watches(&p->jbuf, c->domid, c->watches, NULL);
	enc_txid(&p->jbuf, c->domid, c->next_txid);
}

/* One watch added or removed: one record of that watch, whatever else the
 * guest watches (issue 12). */
static void note_watch(struct persist *p, struct conn *c, const struct xsd_sockmsg *hdr,
		       const char *body)
{
	const char *v[2];
	char path[XENSTORE_ABS_PATH_MAX + 64];
	const struct xse_watch *w = c->cl.watches;

	if (hdr->type == XS_WATCH) {
		/* xse_watch appends: the newest is the last. */
		while (w && w->next)
			w = w->next;
		/* As given (an old id kept, see enc_watches); the UNWATCH
		 * below names it the same way. */
		if (w && xse_watch_given(c->cl.domid, w, path, sizeof(path)) == 0)
			enc_watch_one(&p->jbuf, R_WATCH_ADD, c->cl.domid, (uint32_t)w->rel_skip,
				      path, w->token);
		return;
	}
	/* UNWATCH: its arguments as the engine matched them. */
	if (wire_strings(body, hdr->len, v, 2) != 2 ||
	    xse_canonicalize(&c->cl, v[0], path, sizeof(path)) < 0) {
		persist_watches(p, &c->cl); /* cannot happen: it succeeded */
		return;
	}
	enc_watch_one(&p->jbuf, R_WATCH_DEL, c->cl.domid, 0, path, v[1]);
}

void persist_note_request(struct persist *p, struct conn *c, const struct xsd_sockmsg *hdr,
			  const char *body, uint32_t reply_type)
{
	/* Node and domain changes arrive through the engine hooks. */
	if (!p || c->kind != CONN_RING || reply_type != hdr->type)
		return;
	if (hdr->type == XS_WATCH || hdr->type == XS_UNWATCH)
		note_watch(p, c, hdr, body);
	if (hdr->type == XS_RESET_WATCHES)
		persist_watches(p, &c->cl); /* none left: a short record */
	if (hdr->type == XS_TRANSACTION_START)
		enc_txid(&p->jbuf, c->cl.domid, c->cl.next_txid);
}

int persist_restore_ring(struct persist *p, struct conn *c)
{
	uint32_t domid = c->cl.domid;
	int rc = 0;

	if (!p)
		return 0;
	for (struct saved_watch *s = p->saved; s; s = s->next)
		if (s->domid == domid && s->path && s->token)
			xse_add_watch_raw(&c->cl, s->path, s->token, s->rel);
	drop_saved(p, domid);
	for (struct saved_txid *t = p->saved_txid; t; t = t->next)
		if (t->domid == domid) {
			if (t->next_txid > c->cl.next_txid)
				c->cl.next_txid = t->next_txid;
			c->cl.lost_txid_below = t->next_txid;
			break;
		}
	drop_txid(p, domid);
	for (struct saved_io *io = p->saved_io; io; io = io->next) {
		uint32_t sent;

		if (io->domid != domid)
			continue;
		/* Part of the replies may have reached the ring after the
		 * record was written: skip what did. */
		sent = ring_rsp_prod(c->ring) - io->rsp_prod;
		if (sent > io->outlen) {
			if (io->outlen)
				log_warn(c->name, "ring state does not match the saved replies; "
						  "dropping them");
			sent = io->outlen;
		}
		/* The same checks as bytes fresh from the ring (issue 12). */
		rc = conn_restore_input(c, io->in, io->inlen);
		/* How far the ring was read: ring.c ring_resume_cons. */
		c->req_cons = io->req_cons;
		c->req_cons_known = io->has_cons;
		if (io->outlen > sent)
			conn_queue_raw(c, io->out + io->outoff + sent, io->outlen - sent);
		break;
	}
	drop_io(p, domid);
	return rc;
}

/* A ring went away but its domain lives on (monitor restart): keep its
 * watches and bytes in flight for when the ring comes back. */
void persist_stash_ring(struct persist *p, struct conn *conn)
{
	const struct xse_client *c = &conn->cl;

	if (!p)
		return;
	if (conn->ring) {
		struct buf b = { 0 };
		struct rd r;

		enc_ringio(&b, conn);
		r = (struct rd){ b.p + 8, b.len - 8, false, NULL };
		if (!b.oom)
			apply_ringio(p, &r);
		free(b.p);
	}
	drop_saved(p, c->domid);
	save_txid(p, c->domid, c->next_txid);
	for (const struct xse_watch *w = c->watches; w; w = w->next) {
		struct saved_watch *s = calloc(1, sizeof(*s));
		char given[XENSTORE_ABS_PATH_MAX + 64];

		if (!s)
			return;
		s->domid = c->domid;
		s->rel = (uint32_t)w->rel_skip;
		s->path = strdup(xse_watch_given(c->domid, w, given, sizeof(given)) == 0 ? given
											: w->path);
		s->token = strdup(w->token);
		*p->saved_tail = s;
		p->saved_tail = &s->next;
	}
}

void persist_forget_domain(struct persist *p, uint32_t domid)
{
	struct saved_io none = { .domid = domid };

	if (!p)
		return;
	drop_saved(p, domid);
	drop_io(p, domid);
	drop_txid(p, domid);
	enc_watches(&p->jbuf, domid, NULL, NULL);
	enc_txid(&p->jbuf, domid, 0);
	enc_ringio_saved(&p->jbuf, &none);
}

int persist_flush(struct persist *p)
{
	int rc;

	if (!p)
		return 0;
	/* What changed in the guests' bytes in flight this round. */
	for (struct conn *c = p->d->conns; c; c = c->next)
		if (c->kind == CONN_RING && c->ring && !c->dead)
			enc_ring_deltas(&p->jbuf, c);
	if (p->jbuf.len == 0)
		return 0;
	if (p->jbuf.oom) {
		/* Lost records: only a snapshot makes the state whole again. */
		p->jbuf.oom = false;
		return persist_snapshot(p);
	}
	if (p->jend + p->jbuf.len + 4 > JOURNAL_MAX)
		return persist_snapshot(p); /* it holds everything the records say */
	/* Everything but the first type word, then that word: a round is in
	 * the journal whole or not at all. */
	memcpy(p->jmap + p->jend + 4, p->jbuf.p + 4, p->jbuf.len - 4);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(p->jmap + p->jend, p->jbuf.p, 4);
	p->jend += p->jbuf.len;
	p->jbuf.len = 0;
	rc = 0;
	return rc;
}
