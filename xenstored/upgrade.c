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
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon.h"
#include "persist.h"

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

static int save(struct xsd *d, const char *file)
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
		rc = save(d, file);
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

struct rdr {
	FILE *f;
	bool bad;
};

static uint32_t r32(struct rdr *r)
{
	uint32_t v = 0;

	if (fread(&v, sizeof(v), 1, r->f) != 1)
		r->bad = true;
	return v;
}

static char *rstr(struct rdr *r)
{
	uint32_t n = r32(r);
	char *s = (!r->bad && n < 65536) ? malloc(n + 1) : NULL;

	if (!s || fread(s, 1, n, r->f) != n) {
		free(s);
		r->bad = true;
		return NULL;
	}
	s[n] = '\0';
	return s;
}

static int restore_conn(struct xsd *d, struct rdr *r, int version)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char in[sizeof(struct xsd_sockmsg) + WIRE_BODY_MAX];
	uint32_t fd = r32(r), inlen = r32(r), nw;
	struct conn *c;
	char *out;

	if (r->bad || inlen > sizeof(in) || fread(in, 1, inlen, r->f) != inlen)
		return -EINVAL;
	c = conn_new(d, CONN_SOCKET, (int)fd, 0);
	if (!c)
		return -ENOMEM;
	set_cloexec(c->fd, true);
	ev.data.ptr = &c->tag;
	c->pollmask = EPOLLIN;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -errno;
	nw = r32(r);
	for (uint32_t i = 0; i < nw && !r->bad; i++) {
		uint32_t rel = r32(r);
		char *path = rstr(r), *token = rstr(r);

		if (path && token)
			xse_add_watch_raw(&c->cl, path, token, rel);
		free(path);
		free(token);
	}
	if (inlen && conn_feed(c, in, inlen) < 0)
		c->dead = true;
	inlen = r32(r);
	if (r->bad || inlen > (64u << 20))
		return -EINVAL;
	out = malloc(inlen ? inlen : 1);
	if (!out)
		return -ENOMEM;
	if (fread(out, 1, inlen, r->f) == inlen && inlen)
		conn_queue_raw(c, out, inlen);
	free(out);
	if (version >= 2) {
		c->cl.next_txid = r32(r);
		c->cl.lost_txid_below = c->cl.next_txid;
	}
	return 0;
}

int upgrade_restore(struct xsd *d, const char *file)
{
	struct rdr r = { fopen(file, "re"), false };
	char magic[4];
	uint32_t n;
	int rc = 0, version;

	if (!r.f)
		return -errno;
	/* DXU1 (no transaction ids) still comes from an older binary. */
	if (fread(magic, 1, 4, r.f) != 4 || memcmp(magic, "DXU", 3) != 0 ||
	    (magic[3] != '1' && magic[3] != '2')) {
		fclose(r.f);
		return -EINVAL;
	}
	version = magic[3] - '0';
	d->listen_fd = (int)r32(&r);
	set_cloexec(d->listen_fd, true);
	n = r32(&r);
	for (uint32_t i = 0; i < n && rc == 0 && !r.bad; i++)
		rc = restore_conn(d, &r, version);
	fclose(r.f);
	unlink(file);
	if (rc == 0 && r.bad)
		rc = -EINVAL;
	log_info(NULL, "upgraded: %u client connection%s taken over", n, n == 1 ? "" : "s");
	return rc;
}
