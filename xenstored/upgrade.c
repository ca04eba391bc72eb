/* Upgrade in place (docs/xenstored.md, "Restart"): on SIGUSR2 the daemon
 * re-executes its binary - the file at the path it was started from, so a
 * new version installed there takes over - and hands over the listening
 * socket and every client socket with its watches, half-read request and
 * unsent replies.  The store goes through the normal snapshot; guest rings
 * come back through their monitors (their hand-over sockets close on exec).
 * Open transactions cannot move: the upgrade waits up to UPGRADE_WAIT
 * seconds for them to end, then drops them; a client that still uses one
 * gets it back as a lost transaction (txn.c: its commit fails with EAGAIN).
 *
 * Hand-over file "<state dir>/xenstored.handover", all u32 unless noted:
 * "DXU2", listen fd, connection count; per connection: fd, input length,
 * input bytes (header and partial payload), watch count, per watch: relative
 * prefix length, path length, path, token length, token; output length,
 * output bytes; next transaction id (not in "DXU1", which is still read). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "persist.h"

/* Output kept for one client, at most. */
#define SAVED_OUT_LIMIT (64u << 20)

static void w32(FILE *f, uint32_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

static void wblob(FILE *f, const void *p, uint32_t n)
{
	w32(f, n);
	fwrite(p, 1, n, f);
}

static int set_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -errno;
	return fcntl(fd, F_SETFD, on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC)) < 0 ? -errno : 0;
}

bool upgrade_ready(const struct xsd *d)
{
	for (const struct conn *c = d->conns; c; c = c->next)
		if (c->kind == CONN_SOCKET && !c->dead && c->cl.ntxns)
			return false;
	return true;
}

int upgrade_save(struct xsd *d, const char *file)
{
	uint32_t n = 0;
	FILE *f = fopen(file, "we");
	int rc;

	if (!f)
		return -errno;
	for (struct conn *c = d->conns; c; c = c->next)
		n += c->kind == CONN_SOCKET && !c->dead;
	fwrite("DXU2", 1, 4, f);
	w32(f, (uint32_t)d->listen_fd);
	w32(f, n);
	for (struct conn *c = d->conns; c; c = c->next) {
		uint32_t out;

		if (c->kind != CONN_SOCKET || c->dead)
			continue;
		w32(f, (uint32_t)c->fd);
		w32(f, c->in_used);
		fwrite(&c->hdr, 1, c->in_used < sizeof(c->hdr) ? c->in_used : sizeof(c->hdr), f);
		if (c->in_used > sizeof(c->hdr))
			fwrite(c->body, 1, c->in_used - sizeof(c->hdr), f);
		w32(f, c->cl.nwatches);
		for (struct xse_watch *w = c->cl.watches; w; w = w->next) {
			w32(f, (uint32_t)w->rel_skip);
			wblob(f, w->path, (uint32_t)strlen(w->path));
			wblob(f, w->token, (uint32_t)strlen(w->token));
		}
		/* Unsent output: what the client has not taken yet. */
		out = (uint32_t)c->oq_bytes;
		w32(f, out);
		for (struct outmsg *m = c->oq_head; m; m = m->next) {
			size_t skip = m == c->oq_head ? c->head_off : 0;

			fwrite(m->data + skip, 1, m->len - skip, f);
		}
		/* DXU2: its open transactions come back as lost ones (txn.c). */
		w32(f, c->cl.next_txid);
		rc = set_cloexec(c->fd, false);
		if (rc < 0)
			log_warn(c->name, "cannot keep the connection over the upgrade");
	}
	rc = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0)
		rc = set_cloexec(d->listen_fd, false);
	return rc;
}

void upgrade_request(struct xsd *d, double wait_s)
{
	if (d->upgrade_deadline)
		return;
	log_info(NULL, "upgrade requested");
	d->upgrade_deadline = now_s() + wait_s;
}

/* xenstored_control.c do_control_lu, for the daemon case: "-f <binary>"
 * names the new binary, "-s" starts (answering "BUSY" while clients have
 * transactions open, unless "-F"), "-a" forgets the request.  "OK" comes
 * before the exec; the new process serves the client's next request. */
const char *upgrade_control(struct xsd *d, const char **v, unsigned n)
{
	bool force = false;

	if (n == 0)
		return NULL;
	if (strcmp(v[0], "-f") == 0 && n == 2) {
		if (access(v[1], X_OK) != 0)
			return "Binary not found or not executable.";
		snprintf(d->upgrade_binary, sizeof(d->upgrade_binary), "%s", v[1]);
		return "OK";
	}
	if (strcmp(v[0], "-a") == 0 && n == 1) {
		d->upgrade_binary[0] = '\0';
		d->upgrade_deadline = 0;
		return "OK";
	}
	if (strcmp(v[0], "-c") == 0)
		return "Changing the command line is not supported.";
	if (strcmp(v[0], "-s") != 0)
		return NULL;
	for (unsigned i = 1; i < n; i++) {
		if (strcmp(v[i], "-F") == 0)
			force = true;
		else if (strcmp(v[i], "-t") == 0 && i + 1 < n)
			i++;
		else
			return NULL;
	}
	if (!d->upgrade_binary[0])
		return "No binary given (live-update -f).";
	if (!force && !upgrade_ready(d))
		return "BUSY";
	upgrade_request(d, 0);
	return "OK";
}

/* Returns only if the exec failed (the daemon then keeps running). */
int upgrade_exec(struct xsd *d, char **argv)
{
	char file[4200], *args[64];
	int n = 0, rc;

	const char *bin = d->upgrade_binary[0] ? d->upgrade_binary : d->opts.self_path;

	if (!d->opts.state_dir || !bin)
		return -ENOTSUP;
	snprintf(file, sizeof(file), "%s/xenstored.handover", d->opts.state_dir);
	rc = persist_snapshot(d->persist);
	if (rc == 0)
		rc = upgrade_save(d, file);
	if (rc < 0)
		return rc;
	for (int i = 0; argv[i] && n < 60; i++) {
		if (strcmp(argv[i], "--inherit") == 0 && argv[i + 1]) {
			i++;
			continue;
		}
		args[n++] = argv[i];
	}
	args[n++] = "--inherit";
	args[n++] = file;
	args[n] = NULL;
	log_info(NULL, "upgrading: exec %s", bin);
	execv(bin, args);
	rc = -errno;
	set_cloexec(d->listen_fd, true);
	for (struct conn *c = d->conns; c; c = c->next)
		if (c->kind == CONN_SOCKET)
			set_cloexec(c->fd, true);
	unlink(file);
	return rc;
}

/* ---- reading the hand-over file: every field checked, as a file is
 * input like any other (fuzz_restore.c) ---- */

#define HANDOVER_MAX (256u << 20)

struct hrd {
	const char *p;
	size_t off, len;
	const char *why; /* set: the rest cannot be read */
};

static uint32_t h32(struct hrd *r)
{
	uint32_t v = 0;

	if (r->why)
		return 0;
	if (r->len - r->off < 4) {
		r->why = "truncated";
		return 0;
	}
	memcpy(&v, r->p + r->off, 4);
	r->off += 4;
	return v;
}

static const char *hbytes(struct hrd *r, uint32_t n)
{
	const char *p = r->p + r->off;

	if (r->why)
		return NULL;
	if (r->len - r->off < n) {
		r->why = "truncated";
		return NULL;
	}
	r->off += n;
	return p;
}

/* A string field: no NUL inside (the file holds its length). */
static const char *hstr(struct hrd *r, uint32_t *n)
{
	const char *s;

	*n = h32(r);
	if (!r->why && *n >= XENSTORE_PAYLOAD_MAX)
		r->why = "string longer than a message";
	s = hbytes(r, *n);
	if (s && memchr(s, 0, *n)) {
		r->why = "NUL inside a string";
		return NULL;
	}
	return s;
}

static int sockopt(int fd, int opt)
{
	int v = -1;
	socklen_t l = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0 ? -1 : v;
}

/* The descriptor names an AF_UNIX stream socket the old daemon handed
 * over: the listening one, or a client's (an inherited descriptor is only
 * trusted that far).  Handed over means inherited across exec with
 * FD_CLOEXEC cleared (upgrade_save clears it); every descriptor this
 * process opened itself is close-on-exec, so a hand-over file naming one of
 * those (the journal, epoll, a socket's peer) is refused rather than
 * adopted.  Standard streams are never a connection. */
static bool is_our_socket(uint32_t fd, bool listening)
{
	struct stat st;
	int fl;

	if (fd > INT32_MAX || fd <= STDERR_FILENO || fstat((int)fd, &st) < 0 ||
	    !S_ISSOCK(st.st_mode))
		return false;
	fl = fcntl((int)fd, F_GETFD);
	if (fl < 0 || (fl & FD_CLOEXEC))
		return false;
	return sockopt((int)fd, SO_DOMAIN) == AF_UNIX && sockopt((int)fd, SO_TYPE) == SOCK_STREAM &&
	       sockopt((int)fd, SO_ACCEPTCONN) == (listening ? 1 : 0);
}

static bool fd_taken(const struct xsd *d, int fd)
{
	if (fd == d->listen_fd)
		return true;
	for (const struct conn *c = d->conns; c; c = c->next)
		if (c->kind == CONN_SOCKET && c->fd == fd)
			return true;
	return false;
}

struct hconn {
	uint32_t fd, inlen, nw, outlen, next_txid;
	const char *in, *watches, *out;
};

/* Read one connection's fields (framing only); the watches are kept as
 * bytes and read again when the connection is made. */
static void read_conn(struct hrd *r, int version, struct hconn *h)
{
	h->fd = h32(r);
	h->inlen = h32(r);
	if (!r->why && h->inlen > sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)
		r->why = "partial request longer than a message";
	h->in = hbytes(r, h->inlen);
	h->nw = h32(r);
	h->watches = r->p + r->off;
	for (uint32_t i = 0; i < h->nw && !r->why; i++) {
		uint32_t n;

		h32(r);
		hstr(r, &n);
		hstr(r, &n);
	}
	h->outlen = h32(r);
	if (!r->why && h->outlen > SAVED_OUT_LIMIT)
		r->why = "more output than a client can have queued";
	h->out = hbytes(r, h->outlen);
	h->next_txid = version >= 2 ? h32(r) : 0;
}

/* Make the connection; NULL and *why if it is refused (its descriptor is
 * then closed if it was ours to close). */
static const char *make_conn(struct xsd *d, const struct hconn *h, int version)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct hrd w = { h->watches, 0, SIZE_MAX, NULL };
	const char *why = NULL;
	struct conn *c;

	if (!is_our_socket(h->fd, false))
		return "descriptor is not a client socket";
	if (fd_taken(d, (int)h->fd))
		return "descriptor named twice";
	c = conn_new(d, CONN_SOCKET, (int)h->fd, 0);
	if (!c) {
		close((int)h->fd);
		return "out of memory";
	}
	set_cloexec(c->fd, true);
	/* The same checks as bytes fresh from the socket (conn.c). */
	if (conn_restore_input(c, h->in, h->inlen) < 0)
		why = "partial request refused";
	for (uint32_t i = 0; i < h->nw && !why; i++) {
		uint32_t rel = h32(&w), pn, tn;
		const char *ps = hstr(&w, &pn), *ts = hstr(&w, &tn);
		char path[XENSTORE_PAYLOAD_MAX + 1], token[XENSTORE_PAYLOAD_MAX + 1];

		memcpy(path, ps, pn);
		path[pn] = '\0';
		memcpy(token, ts, tn);
		token[tn] = '\0';
		why = xse_watch_check(0, path, token, rel);
		for (const struct xse_watch *x = c->cl.watches; x && !why; x = x->next)
			if (!strcmp(x->path, path) && !strcmp(x->token, token))
				why = "watch set twice";
		if (!why && xse_add_watch_raw(&c->cl, path, token, rel) < 0)
			why = "out of memory";
	}
	if (!why && h->outlen)
		conn_queue_raw(c, h->out, h->outlen);
	ev.data.ptr = &c->tag;
	c->pollmask = EPOLLIN;
	if (!why && epoll_ctl(d->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		why = "epoll_ctl failed";
	if (why || c->dead) {
		conn_free(c); /* closes the socket: the client sees it end */
		return why ? why : "out of memory";
	}
	if (version >= 2) {
		c->cl.next_txid = h->next_txid;
		c->cl.lost_txid_below = h->next_txid;
	}
	return NULL;
}

int upgrade_restore(struct xsd *d, const char *file, char *err, size_t errsz)
{
	struct hrd r = { NULL, 0, 0, NULL };
	struct stat st;
	char *data = NULL;
	uint32_t n, listen_fd, taken = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC), rc = 0, version;

	err[0] = '\0';
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > HANDOVER_MAX ||
	    !(data = malloc((size_t)st.st_size + 1)) ||
	    read(fd, data, (size_t)st.st_size) != st.st_size) {
		rc = fd < 0 ? -errno : -EIO;
		snprintf(err, errsz, "%s: cannot read it: %s", file, strerror(-rc));
		goto out;
	}
	r = (struct hrd){ data, 0, (size_t)st.st_size, NULL };
	/* DXU1 (no transaction ids) still comes from an older binary. */
	if (r.len < 4 || memcmp(data, "DXU", 3) != 0 || (data[3] != '1' && data[3] != '2')) {
		rc = -EINVAL;
		snprintf(err, errsz, "%s: at offset 0: not a hand-over file", file);
		goto out;
	}
	version = data[3] - '0';
	r.off = 4;
	listen_fd = h32(&r);
	n = h32(&r);
	if (r.why || !is_our_socket(listen_fd, true)) {
		rc = -EINVAL;
		snprintf(err, errsz, "%s: at offset 4: %s", file,
			 r.why ? r.why : "the listening descriptor is not a listening socket");
		goto out;
	}
	d->listen_fd = (int)listen_fd;
	set_cloexec(d->listen_fd, true);
	for (uint32_t i = 0; i < n; i++) {
		size_t at = r.off;
		struct hconn h;
		const char *why;

		read_conn(&r, version, &h);
		if (r.why) {
			/* Lengths cannot be trusted from here on. */
			if (!err[0])
				snprintf(err, errsz, "%s: connection %u at offset %zu: %s; it and the "
					 "%u after it not taken over", file, i, at, r.why, n - i - 1);
			break;
		}
		why = make_conn(d, &h, version);
		if (why && !err[0])
			snprintf(err, errsz, "%s: connection %u at offset %zu: %s; connection refused", file, i,
				 at, why);
		taken += !why;
	}
	if (!r.why && r.off != r.len && !err[0])
		snprintf(err, errsz, "%s: at offset %zu: bytes after the last connection", file,
			 r.off);
	log_info(NULL, "upgraded: %u client connection%s taken over", taken, taken == 1 ? "" : "s");
out:
	free(data);
	if (fd >= 0)
		close(fd);
	unlink(file);
	return rc;
}
