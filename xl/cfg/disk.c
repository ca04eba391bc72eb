/* Disk specifications, xl-disk-configuration(5), and vdev numbering.
 *
 * The grammar is that of Xen's tools/libs/util/libxlu_disk_l.l:
 *   - a spec is comma-separated parameters; whitespace before one is ignored;
 *   - KEY=VALUE parameters (format, vdev, access, devtype, backendtype,
 *     backend, script, ...) may come anywhere; "target=" eats the rest of
 *     the spec, commas included;
 *   - the others are positional: target, format, vdev, access, in that order;
 *   - a deprecated prefix on a positional (file:, phy:, tap:, aio:, raw:,
 *     qcow:, qcow2:, vhd:, ...) is stripped; after one, the format
 *     positional is skipped, so "file:/img,sda,w" is target, vdev, access;
 *   - with an empty target, a "vdev:cdrom" in the format position is the
 *     vdev of an empty cdrom drive (",,hdc:cdrom,r").
 * Defaults as libxlu_disk.c: read-write, format raw; a cdrom is removable
 * and read-only, and "empty" when it has no target. */
#include "domcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dom_disk_init(struct dom_disk *k)
{
	memset(k, 0, sizeof(*k));
	k->readwrite = true;
	k->discard = -1;
	k->devid = -1;
}

void dom_disk_dispose(struct dom_disk *k)
{
	if (!k)
		return;
	free(k->pdev_path);
	free(k->vdev);
	free(k->script);
	free(k->backend_domname);
	dom_disk_init(k);
}

/* ---- vdev numbering (tools/libs/light/libxl_device.c) ---- */

/* Parses "<prefix><letters>[<partition>]": the letters are a bijective
 * base-26 number (a=0, z=25, aa=26, ...); the partition has no leading 0. */
static int vdev_letters(const char *v, const char *prefix, int max_disk, int max_part,
			int *disk, int *part)
{
	size_t pl = strlen(prefix);
	const char *p = v + pl;
	long idx = -1, pn = 0;

	if (strncmp(v, prefix, pl))
		return -EINVAL;
	while (*p >= 'a' && *p <= 'z') {
		idx = (idx + 1) * 26 + (*p - 'a');
		if (idx > max_disk)
			return -EINVAL;
		p++;
	}
	if (idx < 0)
		return -EINVAL;
	if (*p) {
		if (*p == '0')
			return -EINVAL;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			pn = pn * 10 + (*p - '0');
			if (pn > max_part)
				return -EINVAL;
		}
	}
	*disk = (int)idx;
	*part = (int)pn;
	return 0;
}

/* Strict decimal without sign or leading zeros (except "0"). */
static int dec(const char **pp, long max, long *out)
{
	const char *p = *pp;
	long v = 0;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	*pp = p;
	return 0;
}

static int xvd_number(int disk, int part)
{
	/* Disks 0-15 with partitions 0-15 use major 202's minor space; others
	 * the extended scheme of Xen's docs/misc/vbd-interface.txt. */
	if (disk <= 15 && part <= 15)
		return (202 << 8) | (disk << 4) | part;
	return (1 << 28) | (disk << 8) | part;
}

int dom_vdev_to_devid(const char *vdev, int *pdisk, int *ppart)
{
	int disk, part;

	if (vdev[0] == 'd') {
		const char *p = vdev + 1;
		long dn, pn = 0;

		if (dec(&p, (1 << 20) - 1, &dn) < 0)
			return -EINVAL;
		/* libxl requires "dNpN"; domus also takes "dN" as partition 0. */
		if (*p == 'p') {
			p++;
			if (dec(&p, 255, &pn) < 0)
				return -EINVAL;
		}
		if (*p)
			return -EINVAL;
		disk = (int)dn;
		part = (int)pn;
		goto xvd;
	}
	if (!vdev_letters(vdev, "xvd", (1 << 20) - 1, 255, &disk, &part))
		goto xvd;
	if (!vdev_letters(vdev, "hd", 3, 63, &disk, &part)) {
		if (pdisk)
			*pdisk = disk;
		if (ppart)
			*ppart = part;
		/* IDE: hda/hdb on major 3, hdc/hdd on major 22, 64 minors each. */
		return ((disk < 2 ? 3 : 22) << 8) | ((disk & 1) << 6) | part;
	}
	if (!vdev_letters(vdev, "sd", 15, 15, &disk, &part)) {
		if (pdisk)
			*pdisk = disk;
		if (ppart)
			*ppart = part;
		return (8 << 8) | (disk << 4) | part;
	}
	return -EINVAL;
xvd:
	if (pdisk)
		*pdisk = disk;
	if (ppart)
		*ppart = part;
	return xvd_number(disk, part);
}

/* ---- spec parsing ---- */

struct dpc {
	struct dom_disk *k;
	struct cfg_diag *d;
	const char *source, *field, *spec;
	unsigned line;
	bool had_prefix, access_set;
	int err;
};

static void dpc_err(struct dpc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dpc_err(struct dpc *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg_err(c->d, c->source, c->line, c->field, "%s in \"%s\"", msg, c->spec);
	c->err = -EINVAL;
}

static const char *const format_names[] = {
	[DISK_FORMAT_UNKNOWN] = "unknown", [DISK_FORMAT_QCOW] = "qcow",
	[DISK_FORMAT_QCOW2] = "qcow2", [DISK_FORMAT_VHD] = "vhd", [DISK_FORMAT_RAW] = "raw",
	[DISK_FORMAT_EMPTY] = "empty", [DISK_FORMAT_QED] = "qed",
};
static const char *const backend_names[] = {
	[DISK_BACKEND_UNKNOWN] = "unknown", [DISK_BACKEND_PHY] = "phy",
	[DISK_BACKEND_TAP] = "tap", [DISK_BACKEND_QDISK] = "qdisk",
	[DISK_BACKEND_STANDALONE] = "standalone",
};

const char *disk_format_name(enum disk_format f)
{
	return (unsigned)f < sizeof(format_names) / sizeof(format_names[0]) ? format_names[f] : "?";
}

const char *disk_backend_name(enum disk_backend b)
{
	return (unsigned)b < sizeof(backend_names) / sizeof(backend_names[0]) ? backend_names[b]
										: "?";
}

static void set_format(struct dpc *c, const char *s)
{
	enum disk_format f = DISK_FORMAT_UNKNOWN;

	if (!*s)
		f = DISK_FORMAT_RAW;
	for (size_t i = 1; i < sizeof(format_names) / sizeof(format_names[0]) && !f; i++)
		if (!strcmp(s, format_names[i]))
			f = (enum disk_format)i;
	if (!f) {
		dpc_err(c, "unknown format \"%s\" (expected raw, qcow2 or vhd)", s);
		return;
	}
	if (c->k->format && c->k->format != f) {
		dpc_err(c, "format given twice (%s, then %s)", disk_format_name(c->k->format), s);
		return;
	}
	c->k->format = f;
}

static void set_backendtype(struct dpc *c, const char *s)
{
	for (size_t i = 1; i < sizeof(backend_names) / sizeof(backend_names[0]); i++) {
		if (strcmp(s, backend_names[i]))
			continue;
		if (c->k->backend && c->k->backend != (enum disk_backend)i)
			dpc_err(c, "backendtype given twice");
		c->k->backend = (enum disk_backend)i;
		return;
	}
	dpc_err(c, "unknown backendtype \"%s\" (expected phy, qdisk, tap or standalone)", s);
}

static void set_access(struct dpc *c, const char *s)
{
	if (!strcmp(s, "r") || !strcmp(s, "ro"))
		c->k->readwrite = false;
	else if (!strcmp(s, "w") || !strcmp(s, "rw") || !*s)
		c->k->readwrite = true;
	else
		dpc_err(c, "unknown access \"%s\" (expected r, ro, w or rw)", s);
}

static void set_string(struct dpc *c, const char *what, char **slot, const char *val)
{
	/* As libxlu: an empty earlier value may be overwritten silently. */
	if (*slot && **slot) {
		dpc_err(c, "%s given twice", what);
		return;
	}
	free(*slot);
	*slot = strdup(val);
	if (!*slot)
		c->err = -ENOMEM;
}

static void set_devtype(struct dpc *c, const char *s)
{
	if (!strcmp(s, "cdrom"))
		c->k->is_cdrom = true;
	else if (!strcmp(s, "disk"))
		c->k->is_cdrom = false;
	else
		dpc_err(c, "unknown devtype \"%s\" (expected disk or cdrom)", s);
}

/* "vdev:cdrom" / "vdev:disk", the deprecated way to give devtype. */
static bool vdev_and_devtype(struct dpc *c, char *tok)
{
	char *colon = strrchr(tok, ':');

	if (!colon)
		return false;
	*colon = 0;
	set_string(c, "vdev", &c->k->vdev, tok);
	set_devtype(c, colon + 1);
	return true;
}

static void positional(struct dpc *c, char *tok)
{
	if (c->err) {
		/* one error per spec is enough */
	} else if (!c->k->pdev_path) {
		set_string(c, "target", &c->k->pdev_path, tok);
	} else if (!c->had_prefix && c->k->format == DISK_FORMAT_UNKNOWN) {
		if (!*c->k->pdev_path && vdev_and_devtype(c, tok))
			c->k->format = DISK_FORMAT_EMPTY;
		else
			set_format(c, tok);
	} else if (!c->k->vdev) {
		if (!vdev_and_devtype(c, tok))
			set_string(c, "vdev", &c->k->vdev, tok);
	} else if (!c->access_set) {
		/* only the positional counts: access= may still be followed by
		 * one (libxlu_disk_l.l) */
		c->access_set = true;
		set_access(c, tok);
	} else {
		dpc_err(c, "too many positional parameters at \"%s\" (target, format, vdev, access)", tok);
	}
}

/* Deprecated "prefix:" in front of a positional; returns its length or 0. */
static size_t depr_prefix(struct dpc *c, const char *p)
{
	static const char *const plain[] = { "tapdisk:", "tap2:", "tap:", "aio:", "ioemu:",
					     "file:", "phy:" };
	static const char *const fmts[] = { "raw:", "qcow2:", "qcow:", "vhd:" };
	static const char *const scripts[] = { "iscsi:", "enbd:", "nbd:", "drbd:" };
	size_t n;

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (!strncmp(p, plain[i], n = strlen(plain[i])))
			return n;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if (!strncmp(p, fmts[i], n = strlen(fmts[i]))) {
			char f[8];

			snprintf(f, sizeof(f), "%.*s", (int)(n - 1), p);
			set_format(c, f);
			return n;
		}
	}
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		if (!strncmp(p, scripts[i], n = strlen(scripts[i]))) {
			char s[16];

			snprintf(s, sizeof(s), "block-%.*s", (int)(n - 1), p);
			set_string(c, "script", &c->k->script, s);
			return n;
		}
	}
	/* "[a-z][a-z0-9]*:" followed by nothing or a non-alphanumeric */
	n = 0;
	if (p[0] >= 'a' && p[0] <= 'z') {
		n = 1;
		while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9'))
			n++;
		if (p[n] == ':' && !((p[n + 1] >= 'a' && p[n + 1] <= 'z') ||
				     (p[n + 1] >= '0' && p[n + 1] <= '9'))) {
			dpc_err(c, "unknown prefix \"%.*s:\" (known: file:, phy:, tap:, aio:, raw:, qcow2:, vhd:)",
				(int)n, p);
			return n + 1;
		}
	}
	return 0;
}

/* Parameters that xl knows but domus does not implement. */
static const char *const unsupported_params[] = {
	"specification=", "colo-host=", "colo-port=", "colo-export=", "active-disk=",
	"hidden-disk=", "colo", "no-colo", "grant_usage=",
};

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static void parse_one(struct dpc *c, char *s)
{
	char *p = s;

	while (*p && !c->err) {
		char *end, *tok;
		size_t n;
		bool is_kv;

		p += strspn(p, " \t\n");
		if (!*p)
			break;
		if (has_prefix(p, "target=")) {
			size_t l = strlen(p);

			/* eats the rest, commas included; one trailing comma is dropped */
			if (l > 7 && p[l - 1] == ',')
				p[l - 1] = 0;
			set_string(c, "target", &c->k->pdev_path, p + 7);
			break;
		}
		/* A deprecated prefix is a parameter of its own: what follows it
		 * starts a new one ("file:/x", "tap:aio:/x", even "file:cdrom"). */
		n = depr_prefix(c, p);
		if (n) {
			c->had_prefix = true;
			p += n;
			continue;
		}
		if (c->err)
			break;
		end = strchr(p, ',');
		if (end)
			*end = 0;
		tok = p;
		p = end ? end + 1 : p + strlen(p);
		is_kv = strchr(tok, '=') != NULL;
		if (is_kv) {
			const char *v = strchr(tok, '=') + 1;

			if (has_prefix(tok, "format="))
				set_format(c, v);
			else if (has_prefix(tok, "vdev="))
				set_string(c, "vdev", &c->k->vdev, v);
			else if (has_prefix(tok, "access="))
				set_access(c, v);
			else if (has_prefix(tok, "devtype="))
				set_devtype(c, v);
			else if (has_prefix(tok, "backendtype="))
				set_backendtype(c, v);
			else if (has_prefix(tok, "backend="))
				set_string(c, "backend", &c->k->backend_domname, v);
			else if (has_prefix(tok, "script="))
				set_string(c, "script", &c->k->script, v);
			else
				goto unknown;
			continue;
		}
		if (!strcmp(tok, "cdrom")) {
			c->k->is_cdrom = true;
			continue;
		}
		if (!strcmp(tok, "direct-io-safe")) {
			c->k->direct_io_safe = true;
			continue;
		}
		if (!strcmp(tok, "discard") || !strcmp(tok, "no-discard")) {
			c->k->discard = tok[0] == 'd';
			continue;
		}
		for (size_t i = 0; i < sizeof(unsupported_params) / sizeof(unsupported_params[0]); i++)
			if (!strcmp(tok, unsupported_params[i]))
				goto unknown;
		positional(c, tok);
		continue;
unknown:
		for (size_t i = 0; i < sizeof(unsupported_params) / sizeof(unsupported_params[0]); i++) {
			if (has_prefix(tok, unsupported_params[i]) &&
			    (strchr(unsupported_params[i], '=') || !strcmp(tok, unsupported_params[i]))) {
				dpc_err(c, "parameter \"%s\" is not supported by domus", tok);
				goto next;
			}
		}
		dpc_err(c, "unknown parameter \"%s\" (known: target, format, vdev, access, devtype, backendtype, backend, script)",
			tok);
next:;
	}
}

int dom_disk_parse(struct dom_disk *k, const char *const *specs, size_t nspecs,
		   struct cfg_diag *d, const char *source, unsigned line, const char *field)
{
	struct dpc c = { .k = k, .d = d, .source = source, .field = field, .line = line };
	int devid;

	k->line = line;
	for (size_t i = 0; i < nspecs && !c.err; i++) {
		char *s = strdup(specs[i]);

		if (!s)
			return -ENOMEM;
		c.spec = specs[i];
		parse_one(&c, s);
		free(s);
	}
	if (c.err)
		return c.err;
	c.spec = nspecs == 1 ? specs[0] : "(command line)";
	if (k->format == DISK_FORMAT_UNKNOWN)
		k->format = DISK_FORMAT_RAW;
	if (k->is_cdrom) {
		k->removable = true;
		k->readwrite = false;
		if (!k->pdev_path || !*k->pdev_path)
			k->format = DISK_FORMAT_EMPTY;
	}
	if (!k->vdev || !*k->vdev) {
		dpc_err(&c, "no vdev (give one, e.g. \"...,xvda,w\" or vdev=xvda)");
		return c.err;
	}
	if (!k->pdev_path && !k->removable) {
		dpc_err(&c, "no target (a disk needs a file or device; only a cdrom may be empty)");
		return c.err;
	}
	devid = dom_vdev_to_devid(k->vdev, NULL, NULL);
	if (devid < 0) {
		cfg_err(d, source, line, field, "unknown vdev \"%s\" (expected xvdN, sdN, hdN or dN[pN])",
			k->vdev);
		return -EINVAL;
	}
	k->devid = devid;
	/* What the domus vbd backend reads; libxl also knows qcow and qed. */
	if (k->format == DISK_FORMAT_QCOW || k->format == DISK_FORMAT_QED) {
		cfg_err(d, source, line, field, "format %s is not supported by domus (expected raw, qcow2 or vhd)",
			disk_format_name(k->format));
		return -EINVAL;
	}
	if (k->backend_domname && strcmp(k->backend_domname, "0") &&
	    strcmp(k->backend_domname, "Domain-0")) {
		cfg_err(d, source, line, field,
			"backend=%s: driver domains are not supported by domus (backends run in Domain-0)",
			k->backend_domname);
		return -EINVAL;
	}
	return 0;
}
