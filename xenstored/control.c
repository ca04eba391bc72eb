/* XS_CONTROL, the requests of xenstore-control (Xen 4.17
 * tools/xenstore/xenstored_control.c): check, log, print, quota, quota-soft,
 * live-update (upgrade.c), help; and domus's export-domain and
 * import-domain (domxfer.c, docs/xenstored.md "Export and import"). */
#include "ops.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domus/log.h"

#define CTL_MAX_ARGS 8

struct ctl_cmd {
	const char *name;
	int (*fn)(struct ops_env *env, struct xse_client *c, const char **v, unsigned n,
		  struct ops_reply *out);
	const char *pars;
};

static int ctl_check(struct ops_env *env, struct xse_client *c, const char **v, unsigned n,
		     struct ops_reply *out)
{
	return n ? -EINVAL : ops_reply_str(out, "OK");
}

static int ctl_log(struct ops_env *env, struct xse_client *c, const char **v, unsigned n,
		   struct ops_reply *out)
{
	if (n != 1 || (strcmp(v[0], "on") && strcmp(v[0], "off")))
		return -EINVAL;
	if (env->log_switch)
		env->log_switch(env, strcmp(v[0], "on") == 0);
	return ops_reply_str(out, "OK");
}

static int ctl_print(struct ops_env *env, struct xse_client *c, const char **v, unsigned n,
		     struct ops_reply *out)
{
	if (n != 1)
		return -EINVAL;
	log_info("control", "%s", v[0]);
	return ops_reply_str(out, "OK");
}

/* Appends printf output to the reply; -E2BIG when it no longer fits. */
static int __attribute__((format(printf, 2, 3))) reply_add(struct ops_reply *out, const char *fmt,
							   ...)
{
	size_t room = XENSTORE_PAYLOAD_MAX - out->len;
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(out->body + out->len, room, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= room)
		return -E2BIG;
	out->len += (uint32_t)w;
	return 0;
}

static int quota_domain(struct ops_env *env, uint32_t domid, struct ops_reply *out)
{
	const struct xse_engine *eng = env->eng;
	const struct xse_domain *d;
	unsigned txns = 0;
	int rc;

	if (domid >= XSE_DOMID_COUNT)
		return -ENOENT;
	d = &eng->doms[domid];
	if (!d->introduced && !d->nodes && !d->memory)
		return -ENOENT;
	for (const struct xse_client *c = eng->clients; c; c = c->next)
		if (c->domid == domid)
			txns += c->ntxns;
	/* Layout of xenstored_domain.c domain_get_quota. */
	out->len = 0;
	rc = reply_add(out, "Domain %u:\n", domid);
	if (rc == 0)
		rc = reply_add(out, "%-16s: %8u\n%-16s: %8u\n%-16s: %8u\n%-16s: %8u\n%-16s: %8lld\n",
			       "nodes", d->nodes, "watches", d->watches, "transactions", txns,
			       "outstanding", env->outstanding ? env->outstanding(env, domid) : 0,
			       "memory", (long long)d->memory);
	if (rc == 0)
		out->len++; /* the NUL */
	return rc;
}

static int quota_show(const char *const *names, const int *vals, const char *const *descr,
		      unsigned n, struct ops_reply *out)
{
	int rc;

	out->len = 0;
	rc = reply_add(out, "Quota settings:\n");
	for (unsigned i = 0; rc == 0 && i < n; i++)
		rc = reply_add(out, "%-17s: %8d %s\n", names[i], vals[i], descr[i]);
	if (rc == 0)
		out->len++;
	return rc;
}

static int ctl_quota(struct ops_env *env, struct xse_client *c, const char **v, unsigned n,
		     struct ops_reply *out)
{
	const char *names[XSE_Q_COUNT], *descr[XSE_Q_COUNT];
	int q, val;

	if (n == 0) {
		for (int i = 0; i < XSE_Q_COUNT; i++) {
			names[i] = xse_quota_table[i].name;
			descr[i] = xse_quota_table[i].descr;
		}
		return quota_show(names, env->eng->quota, descr, XSE_Q_COUNT, out);
	}
	if (strcmp(v[0], "set") == 0) {
		if (n != 3)
			return -EINVAL;
		val = atoi(v[2]);
		q = xse_quota_by_name(v[1]);
		if (val < 1 || q < 0)
			return -EINVAL;
		if (q == XSE_Q_PATH_MAX && val > XENSTORE_REL_PATH_MAX)
			val = XENSTORE_REL_PATH_MAX;
		env->eng->quota[q] = val;
		xse_meta_changed(env->eng);
		return ops_reply_str(out, "OK");
	}
	if (n != 1)
		return -EINVAL;
	return quota_domain(env, (uint32_t)atoi(v[0]), out);
}

static int ctl_quota_soft(struct ops_env *env, struct xse_client *c, const char **v,
			  unsigned n, struct ops_reply *out)
{
	static const char *const names[] = { "memory" };
	static const char *const descr[] = { "Total Xenstore memory per domain (warning level)" };

	if (n == 0)
		return quota_show(names, &env->eng->soft_memory, descr, 1, out);
	if (strcmp(v[0], "set") || n != 3 || strcmp(v[1], "memory") || atoi(v[2]) < 1)
		return -EINVAL;
	env->eng->soft_memory = atoi(v[2]);
	return ops_reply_str(out, "OK");
}

static int ctl_help(struct ops_env *env, struct xse_client *c, const char **v, unsigned n,
		    struct ops_reply *out);

/* xenstore-control live-update: -f <binary>, then -s [-t <secs>] [-F]
 * (retried while the reply is "BUSY"), or -a; see upgrade.c. */
static int ctl_live_update(struct ops_env *env, struct xse_client *c, const char **v,
			   unsigned n, struct ops_reply *out)
{
	const char *r = env->live_update ? env->live_update(env, v, n) : NULL;

	return r ? ops_reply_str(out, r) : -EINVAL;
}

/* One domain's state to a file and back (docs/xenstored.md, "Export and
 * import"): the file is the caller's (xenstored runs as root on the host,
 * and only Domain-0 may send XS_CONTROL). */
static int ctl_xfer(struct ops_env *env, struct xse_client *c, const char *cmd, const char **v, unsigned n,
		    struct ops_reply *out)
{
	int rc = env->xfer ? env->xfer(env, c, cmd, v, n) : -ENOSYS;

	return rc < 0 ? rc : ops_reply_str(out, "OK");
}

static int ctl_export(struct ops_env *env, struct xse_client *c, const char **v, unsigned n,
		      struct ops_reply *out)
{
	return ctl_xfer(env, c, "export-domain", v, n, out);
}

static int ctl_import(struct ops_env *env, struct xse_client *c, const char **v, unsigned n,
		      struct ops_reply *out)
{
	return ctl_xfer(env, c, "import-domain", v, n, out);
}

static const struct ctl_cmd cmds[] = {
	{ "check", ctl_check, "" },
	{ "export-domain", ctl_export, "<domid> <file>" },
	{ "import-domain", ctl_import, "<old-domid> <new-domid> <file>" },
	{ "log", ctl_log, "on|off" },
	{ "live-update", ctl_live_update, "[-F] [-t <timeout>] <file>\n    Default timeout is 60 seconds." },
	{ "print", ctl_print, "<string>" },
	{ "quota", ctl_quota, "[set <name> <val>|<domid>]" },
	{ "quota-soft", ctl_quota_soft, "[set <name> <val>]" },
	{ "help", ctl_help, "" },
};

static int ctl_help(struct ops_env *env, struct xse_client *c, const char **v, unsigned n,
		    struct ops_reply *out)
{
	int rc = 0;

	if (n)
		return -EINVAL;
	out->len = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		rc = reply_add(out, "%s\t%s\n", cmds[i].name, cmds[i].pars);
	if (rc == 0)
		out->len++;
	return rc;
}

int ops_control(struct ops_env *env, struct xse_client *c, const char *body, uint32_t len,
		struct ops_reply *out)
{
	const char *v[CTL_MAX_ARGS + 1];
	unsigned n = wire_strings(body, len, v, CTL_MAX_ARGS + 1);

	if (n == 0)
		return -EINVAL;
	if (n > CTL_MAX_ARGS + 1)
		return -E2BIG;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(v[0], cmds[i].name) == 0)
			return cmds[i].fn(env, c, v + 1, n - 1, out);
	return -EINVAL;
}
