/* Dispatch of xenstore requests to the engine (see ops.h). */
#include "ops.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F_PRIV 1u  /* privileged callers only (EACCES otherwise) */
#define F_NOTID 2u /* transaction id ignored */
#define F_ONE 4u   /* exactly one argument, the NUL is the last byte */

struct op_ctx {
	struct ops_env *env;
	struct xse_client *c;
	const struct xsd_sockmsg *hdr;
	const char *body;
	uint32_t len;
	const char *arg[3]; /* first strings of the body */
	unsigned nargs;	    /* count of all NUL-terminated strings */
	struct ops_reply *out;
};

typedef int (*op_fn)(struct op_ctx *o);

struct op_desc {
	op_fn fn;
	unsigned flags;
	unsigned min_args, max_args; /* on the string count; max 0: any */
};

int ops_reply_str(struct ops_reply *out, const char *s)
{
	size_t n = strlen(s) + 1;

	/* Xen's send_reply: a reply too big for one message is E2BIG. */
	if (n > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	memcpy(out->body, s, n);
	out->len = (uint32_t)n;
	return 0;
}

static int reply_bytes(struct ops_reply *out, const void *p, uint32_t n)
{
	if (n > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	if (n)
		memcpy(out->body, p, n);
	out->len = n;
	return 0;
}

static int ack(struct op_ctx *o)
{
	return ops_reply_str(o->out, "OK");
}

static int ack_if_ok(struct op_ctx *o, int rc)
{
	return rc < 0 ? rc : ack(o);
}

static int op_read(struct op_ctx *o)
{
	const char *v;
	uint32_t n;
	int rc = xse_read(o->c, o->hdr->tx_id, o->arg[0], &v, &n);

	return rc < 0 ? rc : reply_bytes(o->out, v, n);
}

static int op_write(struct op_ctx *o)
{
	size_t off = strlen(o->body) + 1;

	return ack_if_ok(o, xse_write(o->c, o->hdr->tx_id, o->body, o->body + off,
				      o->len - (uint32_t)off));
}

static int op_mkdir(struct op_ctx *o)
{
	return ack_if_ok(o, xse_mkdir(o->c, o->hdr->tx_id, o->arg[0]));
}

static int op_rm(struct op_ctx *o)
{
	return ack_if_ok(o, xse_rm(o->c, o->hdr->tx_id, o->arg[0]));
}

static int op_directory(struct op_ctx *o)
{
	const char *k;
	uint32_t n;
	int rc = xse_directory(o->c, o->hdr->tx_id, o->arg[0], &k, &n, NULL);

	return rc < 0 ? rc : reply_bytes(o->out, k, n);
}

/* xenstored_core.c send_directory_part: "<generation>\0" then as many
 * whole child names from byte offset `off` as fit; an extra "\0" marks the
 * end of the list. */
static int op_directory_part(struct op_ctx *o)
{
	const char *k;
	uint32_t n, off, len = 0, maxlen;
	uint64_t gen;
	int genlen, rc;

	rc = xse_directory(o->c, o->hdr->tx_id, o->arg[0], &k, &n, &gen);
	if (rc < 0)
		return rc;
	off = (uint32_t)atoi(o->arg[1]);
	genlen = snprintf(o->out->body, 24, "%" PRIu64, gen) + 1;
	if (off >= n) {
		o->out->body[genlen] = '\0';
		o->out->len = (uint32_t)genlen + 1;
		return 0;
	}
	maxlen = XENSTORE_PAYLOAD_MAX - (uint32_t)genlen - 1;
	while (len + strlen(k + off + len) < maxlen) {
		len += (uint32_t)strlen(k + off + len) + 1;
		if (off + len == n)
			break;
	}
	memcpy(o->out->body + genlen, k + off, len);
	if (off + len == n)
		o->out->body[genlen + len++] = '\0';
	o->out->len = (uint32_t)genlen + len;
	return 0;
}

static int op_get_perms(struct op_ctx *o)
{
	const struct xse_perm *p;
	static const char letter[4] = { 'n', 'r', 'w', 'b' };
	uint32_t np, used = 0;
	int rc = xse_get_perms(o->c, o->hdr->tx_id, o->arg[0], &p, &np);

	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < np; i++) {
		int w = snprintf(o->out->body + used, sizeof(o->out->body) - used, "%c%i",
				 letter[p[i].perms & 3], (int)p[i].id);

		if (w < 0 || used + (uint32_t)w + 1 > XENSTORE_PAYLOAD_MAX)
			return -E2BIG;
		used += (uint32_t)w + 1;
	}
	o->out->len = used;
	return 0;
}

/* Xen's xs_strings_to_perms: r/w/b/n then a domid strtol(.., 0) parses. */
static int parse_perms(const char *s, unsigned n, struct xse_perm *p)
{
	for (unsigned i = 0; i < n; i++) {
		char *end;

		switch (*s) {
		case 'r': p[i].perms = XSE_PERM_READ; break;
		case 'w': p[i].perms = XSE_PERM_WRITE; break;
		case 'b': p[i].perms = XSE_PERM_READ | XSE_PERM_WRITE; break;
		case 'n': p[i].perms = XSE_PERM_NONE; break;
		default: return -EINVAL;
		}
		s++;
		p[i].id = (uint32_t)strtol(s, &end, 0) & (XSE_DOMID_COUNT - 1);
		if (*end || !*s)
			return -EINVAL;
		s = end + 1;
	}
	return 0;
}

static int op_set_perms(struct op_ctx *o)
{
	unsigned n = o->nargs - 1;
	struct xse_perm *p;
	int rc;

	if (!xse_privileged(o->c) && n > (unsigned)o->env->eng->quota[XSE_Q_PERMISSIONS])
		return -ENOSPC;
	p = calloc(n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = parse_perms(o->body + strlen(o->body) + 1, n, p);
	if (rc == 0)
		rc = xse_set_perms(o->c, o->hdr->tx_id, o->body, p, n);
	free(p);
	return ack_if_ok(o, rc);
}

static int op_watch(struct op_ctx *o)
{
	int rc = xse_watch(o->c, o->arg[0], o->arg[1]);

	if (rc == 0)
		o->out->watch_added = true;
	return ack_if_ok(o, rc);
}

static int op_unwatch(struct op_ctx *o)
{
	return ack_if_ok(o, xse_unwatch(o->c, o->arg[0], o->arg[1]));
}

static int op_txn_start(struct op_ctx *o)
{
	char id[16];
	uint32_t t;
	int rc = xse_txn_start(o->c, o->hdr->tx_id, &t);

	if (rc < 0)
		return rc;
	snprintf(id, sizeof(id), "%u", t);
	return ops_reply_str(o->out, id);
}

static int op_txn_end(struct op_ctx *o)
{
	const char *a = o->arg[0];

	if (strcmp(a, "T") != 0 && strcmp(a, "F") != 0)
		return -EINVAL;
	return ack_if_ok(o, xse_txn_end(o->c, o->hdr->tx_id, a[0] == 'T'));
}

/* INTRODUCE <domid> <gfn> <port>: Xen ignores the gfn; here the ring comes
 * from the domain's monitor (docs/xenstored.md), the port is checked only. */
static int op_introduce(struct op_ctx *o)
{
	unsigned domid = (unsigned)atoi(o->arg[0]);
	int rc;

	if (atoi(o->arg[2]) <= 0)
		return -EINVAL;
	rc = xse_introduce(o->env->eng, domid);
	if (rc == 0 && o->env->introduced)
		o->env->introduced(o->env, domid);
	return ack_if_ok(o, rc);
}

static int op_release(struct op_ctx *o)
{
	unsigned d = (unsigned)atoi(o->arg[0]);

	return ack_if_ok(o, d ? xse_release(o->env->eng, d) : -EINVAL);
}

static int op_resume(struct op_ctx *o)
{
	unsigned d = (unsigned)atoi(o->arg[0]);
	int rc = d ? xse_resume(o->env->eng, d) : -EINVAL;

	/* libxl resumes a domain whose save failed (libxl__domain_resume):
	 * a domain frozen by its export is served again. */
	if (rc == 0 && o->env->resumed)
		o->env->resumed(o->env, d);
	return ack_if_ok(o, rc);
}

static int op_get_domain_path(struct op_ctx *o)
{
	char p[40];

	snprintf(p, sizeof(p), "/local/domain/%u", (unsigned)atoi(o->arg[0]));
	return ops_reply_str(o->out, p);
}

static int op_is_introduced(struct op_ctx *o)
{
	bool yes = xse_is_introduced(o->env->eng, (uint32_t)atoi(o->arg[0]));

	return ops_reply_str(o->out, yes ? "T" : "F");
}

static int op_set_target(struct op_ctx *o)
{
	return ack_if_ok(o, xse_set_target(o->env->eng, (uint32_t)atoi(o->arg[0]),
					   (uint32_t)atoi(o->arg[1])));
}

static int op_reset_watches(struct op_ctx *o)
{
	xse_reset_watches(o->c);
	return ack(o);
}

static int op_control(struct op_ctx *o)
{
	return ops_control(o->env, o->c, o->body, o->len, o->out);
}

/* Argument rules and privilege as Xen 4.17 (xenstored_core.c wire_funcs[]
 * and each do_* function's argument parsing). */
static const struct op_desc ops[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { op_control, F_PRIV, 1, 0 },
	[XS_DIRECTORY] = { op_directory, F_ONE, 1, 1 },
	[XS_READ] = { op_read, F_ONE, 1, 1 },
	[XS_GET_PERMS] = { op_get_perms, F_ONE, 1, 1 },
	[XS_WATCH] = { op_watch, F_NOTID, 2, 2 },
	[XS_UNWATCH] = { op_unwatch, F_NOTID, 2, 2 },
	[XS_TRANSACTION_START] = { op_txn_start, 0, 0, 0 },
	[XS_TRANSACTION_END] = { op_txn_end, F_ONE, 1, 1 },
	[XS_INTRODUCE] = { op_introduce, F_PRIV, 3, 0 },
	[XS_RELEASE] = { op_release, F_PRIV | F_ONE, 1, 1 },
	[XS_GET_DOMAIN_PATH] = { op_get_domain_path, F_ONE, 1, 1 },
	[XS_WRITE] = { op_write, 0, 1, 0 },
	[XS_MKDIR] = { op_mkdir, F_ONE, 1, 1 },
	[XS_RM] = { op_rm, F_ONE, 1, 1 },
	[XS_SET_PERMS] = { op_set_perms, 0, 2, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { op_is_introduced, F_PRIV | F_ONE, 1, 1 },
	[XS_RESUME] = { op_resume, F_PRIV | F_ONE, 1, 1 },
	[XS_SET_TARGET] = { op_set_target, F_PRIV, 2, 0 },
	[XS_RESET_WATCHES] = { op_reset_watches, 0, 0, 0 },
	[XS_DIRECTORY_PART] = { op_directory_part, 0, 2, 2 },
};

static int dispatch(struct op_ctx *o)
{
	const struct op_desc *d;

	if (o->hdr->type >= XS_TYPE_COUNT || !ops[o->hdr->type].fn)
		return -ENOSYS;
	d = &ops[o->hdr->type];
	if ((d->flags & F_PRIV) && !xse_privileged(o->c))
		return -EACCES;
	if (!(d->flags & F_NOTID) && xse_txn_check(o->c, o->hdr->tx_id) < 0)
		return -ENOENT;
	o->nargs = wire_strings(o->body, o->len, o->arg, 3);
	if ((d->flags & F_ONE) && !wire_onearg(o->body, o->len))
		return -EINVAL;
	if (o->nargs < d->min_args || (d->max_args && o->nargs > d->max_args))
		return -EINVAL;
	return d->fn(o);
}

void ops_process(struct ops_env *env, struct xse_client *c, const struct xsd_sockmsg *hdr,
		 const char *body, struct ops_reply *out)
{
	struct op_ctx o = { .env = env, .c = c, .hdr = hdr, .body = body, .len = hdr->len,
			    .out = out };
	int rc;

	out->type = hdr->type;
	out->len = 0;
	out->watch_added = false;
	rc = dispatch(&o);
	if (rc < 0) {
		out->type = XS_ERROR;
		out->watch_added = false;
		ops_reply_str(out, wire_errname(-rc));
	}
}
