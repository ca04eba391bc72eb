/* libFuzzer target: xenstored's restore path, with the files it reads as
 * input (issue 12).  The first byte selects what the rest is:
 *   0  the snapshot (xenstored.state)
 *   1  the journal (xenstored.journal)
 *   2  both: a u16 (little-endian) snapshot length, the snapshot, the journal
 *   3  the upgrade hand-over file (xenstored.handover)
 * Whatever the bytes, the restore must either load a consistent state or
 * refuse with an error line naming the file and an offset; never crash,
 * leak or trip a sanitizer.  "Consistent": the tree is whole (every child
 * listed exists, every node is listed by its parent, paths well formed),
 * the saved watches are ones a WATCH could have made, a guest ring handed
 * over afterwards either resumes its partial request or is ignored (never
 * overflows), and the snapshot written after the load loads again to the
 * same state.  Hand-over descriptors: the listening socket must be at
 * FD_LISTEN and clients at FD_CLIENT.. (the seeds from test_restore.c). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "domus/ring_proto.h"
#include "engine_int.h"
#include "persist.h"
#include "persist_int.h"

#define FD_LISTEN 100
#define FD_CLIENT 101
#define NCLIENTS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void rm_dir(const char *dir)
{
	static const char *const names[] = { "xenstored.state", "xenstored.state.tmp",
					     "xenstored.journal", "xenstored.handover", "sock" };
	char path[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void mk_dir(char *dir, size_t sz)
{
	snprintf(dir, sz, "%s/xsfuzz.XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		abort();
}

/* A refusal must say where. */
static void check_error(const char *err, const char *file)
{
	if (!strstr(err, file) || !strstr(err, "offset")) {
		fprintf(stderr, "error line without file or offset: %s\n", err);
		abort();
	}
}

static bool lists_child(const struct xse_node *parent, const char *name)
{
	for (uint32_t off = 0; off < parent->clen; off += (uint32_t)strlen(parent->children + off) + 1)
		if (strcmp(parent->children + off, name) == 0)
			return true;
	return false;
}

static void check_tree_whole(struct xse_engine *eng)
{
	size_t i;

	if (!xse_lookup(eng, "/"))
		abort();
	for (struct htab_ent *e = htab_first(&eng->nodes, &i); e; e = htab_next(&eng->nodes, e, &i)) {
		struct xse_node *n = (struct xse_node *)e, *parent;
		char pp[XENSTORE_PAYLOAD_MAX + 64], cp[2 * XENSTORE_PAYLOAD_MAX + 64];

		if (!xse_path_shape_ok(e->key) || n->nperms == 0)
			abort();
		for (uint32_t off = 0; off < n->clen; off += (uint32_t)strlen(n->children + off) + 1) {
			snprintf(cp, sizeof(cp), "%s/%s", strcmp(e->key, "/") ? e->key : "",
				 n->children + off);
			if (!xse_lookup(eng, cp))
				abort(); /* a listed child is missing */
		}
		if (strcmp(e->key, "/") == 0)
			continue;
		if (parent_path(e->key, pp, sizeof(pp)) < 0 || !(parent = xse_lookup(eng, pp)) ||
		    !lists_child(parent, strrchr(e->key, '/') + 1))
			abort(); /* a node its parent does not list */
	}
}

static void check_saved(struct persist *p)
{
	for (struct saved_watch *w = p->saved; w; w = w->next)
		if (xse_watch_check(w->domid, w->path, w->token, w->rel))
			abort();
	for (struct saved_io *io = p->saved_io; io; io = io->next)
		if (io->inlen > sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX ||
		    io->outlen > SAVED_OUT_MAX)
			abort();
}

static void same_store(struct xse_engine *x, struct xse_engine *y)
{
	size_t i;

	if (xse_node_count(x) != xse_node_count(y))
		abort();
	for (struct htab_ent *e = htab_first(&x->nodes, &i); e; e = htab_next(&x->nodes, e, &i)) {
		struct xse_node *n = (struct xse_node *)e, *m = xse_lookup(y, e->key);

		if (!m || n->vlen != m->vlen || memcmp(n->value, m->value, n->vlen) ||
		    n->nperms != m->nperms ||
		    memcmp(n->perms, m->perms, n->nperms * sizeof(*n->perms)) || n->clen != m->clen ||
		    (n->clen && memcmp(n->children, m->children, n->clen)))
			abort();
	}
	for (uint32_t d = 0; d < XSE_DOMID_COUNT; d++)
		if (x->doms[d].introduced != y->doms[d].introduced ||
		    x->doms[d].nodes != y->doms[d].nodes || x->doms[d].memory != y->doms[d].memory)
			abort();
	if (memcmp(x->quota, y->quota, sizeof(x->quota)) || x->soft_memory != y->soft_memory)
		abort();
}

static void same_saved(struct persist *p, struct persist *q)
{
	struct saved_watch *a = p->saved, *b;

	/* Per domain, the same watches in the same order. */
	for (; a; a = a->next) {
		unsigned ka = 0, kb = 0;

		for (struct saved_watch *x = p->saved; x != a; x = x->next)
			ka += x->domid == a->domid;
		for (b = q->saved; b; b = b->next)
			if (b->domid == a->domid && kb++ == ka)
				break;
		if (!b || b->rel != a->rel || strcmp(b->path, a->path) || strcmp(b->token, a->token))
			abort();
	}
	for (struct saved_io *io = p->saved_io; io; io = io->next) {
		struct saved_io *jo = q->saved_io;

		if (!io->inlen && !io->outlen && !io->has_cons)
			continue; /* "nothing in flight": not written */

		while (jo && jo->domid != io->domid)
			jo = jo->next;
		if (!jo || jo->rsp_prod != io->rsp_prod || jo->inlen != io->inlen ||
		    jo->has_cons != io->has_cons || (io->has_cons && jo->req_cons != io->req_cons) ||
		    jo->outlen != io->outlen || (io->inlen && memcmp(jo->in, io->in, io->inlen)) ||
		    (io->outlen && memcmp(jo->out + jo->outoff, io->out + io->outoff, io->outlen)))
			abort();
	}
	for (struct saved_txid *t = p->saved_txid; t; t = t->next) {
		struct saved_txid *u = q->saved_txid;

		while (u && u->domid != t->domid)
			u = u->next;
		if (!u || u->next_txid != t->next_txid)
			abort();
	}
}

/* The snapshot written after the load loads again to the same state. */
static void round_trip(struct xsd *d, const char *dir)
{
	char dir2[64], path[256], err[512];
	struct xsd_opts o = { 0 };
	struct xsd e;
	size_t n;
	char *buf;
	FILE *f;

	struct stat st;

	snprintf(path, sizeof(path), "%s/xenstored.state", dir);
	f = fopen(path, "r");
	if (!f || fstat(fileno(f), &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)))
		abort();
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	mk_dir(dir2, sizeof(dir2));
	put_file(dir2, "xenstored.state", buf, n);
	free(buf);
	if (xsd_init_core(&e, &o) < 0)
		abort();
	if (persist_open(&e, dir2, &e.persist, err, sizeof(err)) < 0 || err[0]) {
		fprintf(stderr, "own snapshot refused: %s\n", err);
		abort();
	}
	same_store(&d->eng, &e.eng);
	same_saved(d->persist, e.persist);
	xsd_dispose(&e);
	rm_dir(dir2);
}

/* A guest's ring handed over after the load: its restored partial request
 * resumes or the ring is ignored; either way the next bytes are safe. */
static void hand_ring_over(struct xsd *d)
{
	const struct saved_io *io = d->persist->saved_io;
	uint32_t domid = io ? io->domid : 5;
	struct xsd_ring_attach a = { XSD_RING_MAGIC, XSD_RING_VERSION, domid, 0, 0 };
	struct xenstore_domain_interface *i;
	/* A page the saved request index fits, if it can: the ring resumes
	 * there (ring.c ring_resume_cons); one it does not fit: as it says. */
	uint32_t saved = io && io->has_cons ? io->req_cons : 0, want;
	struct ring *r;
	int fds[3];

	if (domid == 0 || domid >= XSE_DOMID_SELF)
		return;
	fds[0] = memfd_create("ring", MFD_ALLOW_SEALING);
	fds[1] = eventfd(0, EFD_NONBLOCK);
	fds[2] = eventfd(0, EFD_NONBLOCK);
	if (fds[0] < 0 || ftruncate(fds[0], 4096) || fcntl(fds[0], F_ADD_SEALS, F_SEAL_SHRINK))
		abort();
	i = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (i == MAP_FAILED)
		abort();
	memset(i->req, 'y', sizeof(i->req));
	i->req_prod = saved <= XENSTORE_RING_SIZE ? saved : 0;
	want = saved <= XENSTORE_RING_SIZE ? saved : 0;
	if (!xse_is_introduced(&d->eng, domid))
		xse_introduce(&d->eng, domid);
	r = ring_alloc(d, -1);
	if (!r || ring_attach(r, &a, fds) < 0)
		abort();
	close(fds[0]);
	if (i->req_cons != want && !i->error)
		abort(); /* resumed elsewhere than the saved index, or than the page says */
	xsd_round(d);
	/* 2 KiB of payload: past the 4097-byte body only if a header over
	 * XENSTORE_PAYLOAD_MAX were resumed with most of a body in. */
	for (int k = 0; k < 3; k++) {
		memset(i->req, 'x', sizeof(i->req));
		i->req_prod = i->req_cons + 1000;
		ring_kick_event(d, r);
		xsd_round(d);
	}
	for (struct conn *c = d->conns; c; c = c->next)
		if (c->kind == CONN_RING && c->in_used >= sizeof(c->hdr) &&
		    (!wire_header_ok(&c->hdr) ? !i->error : c->in_used > sizeof(c->hdr) + c->hdr.len))
			abort(); /* a bad header kept without the ring ignored */
	munmap(i, 4096);
}

static void fuzz_persist(const uint8_t *st, size_t ns, const uint8_t *jn, size_t nj, bool has_st,
			 bool has_jn)
{
	struct xsd_opts o = { 0 };
	char dir[64], err[512];
	struct xsd d;
	int rc;

	mk_dir(dir, sizeof(dir));
	if (has_st)
		put_file(dir, "xenstored.state", st, ns);
	if (has_jn)
		put_file(dir, "xenstored.journal", jn, nj);
	if (xsd_init_core(&d, &o) < 0)
		abort();
	rc = persist_open(&d, dir, &d.persist, err, sizeof(err));
	if (rc < 0) {
		check_error(err, "xenstored.");
		xsd_dispose(&d);
		rm_dir(dir);
		return;
	}
	if (err[0])
		check_error(err, "xenstored.journal");
	check_tree_whole(&d.eng);
	check_saved(d.persist);
	round_trip(&d, dir);
	hand_ring_over(&d);
	xsd_dispose(&d);
	rm_dir(dir);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void fuzz_handover(const uint8_t *data, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xsd_opts o = { 0 };
	char dir[64], file[128], err[512];
	int lfd, peer[NCLIENTS], rc;
	struct xsd d;

	mk_dir(dir, sizeof(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	o.socket_path = sa.sun_path;
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4) ||
	    dup2(lfd, FD_LISTEN) != FD_LISTEN)
		abort();
	close(lfd);
	for (int k = 0; k < NCLIENTS; k++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
		    dup2(sv[0], FD_CLIENT + k) != FD_CLIENT + k)
			abort();
		close(sv[0]);
		peer[k] = sv[1];
	}
	snprintf(file, sizeof(file), "%s/xenstored.handover", dir);
	put_file(dir, "xenstored.handover", data, n);
	if (xsd_init_core(&d, &o) < 0)
		abort();
	rc = upgrade_restore(&d, file, err, sizeof(err));
	if (rc < 0 || err[0])
		check_error(err, file);
	if (rc < 0 && d.listen_fd >= 0)
		abort(); /* refused, yet the listening socket was taken */
	for (struct conn *c = d.conns; c; c = c->next) {
		if (c->fd < FD_CLIENT || c->fd >= FD_CLIENT + NCLIENTS)
			abort(); /* not one of our client sockets */
		for (struct conn *x = c->next; x; x = x->next)
			if (x->fd == c->fd)
				abort();
		if (c->in_used >= sizeof(c->hdr) &&
		    (!wire_header_ok(&c->hdr) || c->in_used >= sizeof(c->hdr) + c->hdr.len))
			abort();
		for (struct xse_watch *w = c->cl.watches; w; w = w->next)
			if (xse_watch_check(0, w->path, w->token, w->rel_skip))
				abort();
	}
	/* The clients send more; the daemon answers what completes. */
	for (int k = 0; k < NCLIENTS; k++)
		if (send(peer[k], "/x\0", 3, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			continue;
	for (struct conn *c = d.conns; c; c = c->next)
		sock_event(&d, c, EPOLLIN);
	xsd_round(&d);
	xsd_dispose(&d);
	for (int k = 0; k < NCLIENTS; k++) {
		if (fd_open(FD_CLIENT + k))
			close(FD_CLIENT + k);
		close(peer[k]);
	}
	if (fd_open(FD_LISTEN))
		close(FD_LISTEN);
	rm_dir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_init("fuzz", LOG_ERR, NULL);
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_persist(data + 1, size - 1, NULL, 0, true, false);
		break;
	case 1:
		fuzz_persist(NULL, 0, data + 1, size - 1, false, true);
		break;
	case 2: {
		size_t ns;

		if (size < 3)
			return 0;
		ns = (size_t)(data[1] | data[2] << 8);
		if (ns > size - 3)
			ns = size - 3;
		fuzz_persist(data + 3, ns, data + 3 + ns, size - 3 - ns, true, true);
		break;
	}
	default:
		fuzz_handover(data + 1, size - 1);
		break;
	}
	return 0;
}
