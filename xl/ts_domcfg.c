/* The configuration xl keeps for a running domain (its run directory's
 * `config`): what `xl save` writes into the save file and `xl restore`
 * builds the monitor's --disk arguments from.  As libxl updates the
 * domain's stored configuration on libxl_device_disk_add and on removal
 * (libxl_device.c device_add_domain_config, libxl__device_remove_common),
 * hot-plug adds the disk or vif to it and takes it out again, so that a
 * save after block-attach or network-attach restores with the device and
 * one after the detach without.
 *
 * The text is parsed with the xl.cfg grammar (cfg/syntax.h) and written
 * back whole: every setting once, in its order, the disk or vif list
 * changed.
 * Comments do not survive (libxl keeps JSON, which has none either). */
#include "ts.h"
#include "xl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_string(FILE *f, const char *s)
{
	fputc('\'', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\' || *p == '\'')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

static void put_value(FILE *f, const struct cfg_value *v)
{
	switch (v->kind) {
	case CFG_NUMBER:
		fputs(v->str, f);
		break;
	case CFG_STRING:
		put_string(f, v->str);
		break;
	case CFG_LIST:
		fputc('[', f);
		for (size_t i = 0; i < v->n; i++) {
			fputs(i ? ", " : " ", f);
			put_value(f, &v->items[i]);
		}
		fputs(v->n ? " ]" : "]", f);
		break;
	}
}

static void put_list(FILE *f, const char *key, char *const *items, size_t n)
{
	fprintf(f, "%s = [", key);
	for (size_t j = 0; j < n; j++) {
		fputs(j ? ", " : " ", f);
		put_string(f, items[j]);
	}
	fputs(n ? " ]\n" : "]\n", f);
}

/* The settings of cf with key= (disk or vif) replaced by items[0 .. n)
 * (n 0: none). */
static int render(const struct cfg_file *cf, const char *key, char *const *items, size_t n, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	bool done = false;

	if (!f)
		return -ENOMEM;
	fputs("# kept by xl for this domain (hot-plug changes its disks and vifs)\n", f);
	for (size_t i = 0; i < cf->n; i++) {
		const struct cfg_entry *e = &cf->e[i];

		if (strcmp(e->key, key) == 0) {
			if (!done)
				put_list(f, key, items, n);
			done = true;
			continue;
		}
		fprintf(f, "%s = ", e->key);
		put_value(f, &e->val);
		fputc('\n', f);
	}
	if (!done && n)
		put_list(f, key, items, n);
	return fclose(f) == 0 ? 0 : -ENOMEM;
}

static int config_path(uint32_t domid, char *buf, size_t len)
{
	char dir[256];
	int rc = ts_dom_dir(domid, dir, sizeof(dir));

	if (rc < 0)
		return rc;
	return (size_t)snprintf(buf, len, "%s/config", dir) < len ? 0 : -ENAMETOOLONG;
}

static int write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[512];
	FILE *f;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (fwrite(text, 1, len, f) != len)
		rc = -EIO;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = rc ? rc : -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* The key= (disk or vif) items of the kept text (strings, as the
 * configuration gave them), and the rest of it parsed. */
static int load(uint32_t domid, char *path, size_t plen, struct cfg_file *cf, const char *key, char ***items,
		size_t *n)
{
	struct cfg_diag d;
	const struct cfg_entry *e;
	char *text = NULL;
	size_t len = 0;
	int rc = config_path(domid, path, plen);

	*items = NULL;
	*n = 0;
	if (rc == 0)
		rc = xl_read_file(path, &text, &len);
	if (rc < 0)
		return rc;
	xl_diag_init(&d);
	d.emit = NULL; /* the kept text was checked when it was kept */
	rc = cfg_parse(cf, path, text, len, &d);
	free(text);
	if (rc < 0)
		return rc;
	e = cfg_find(cf, key);
	if (e && e->val.kind != CFG_LIST)
		return -EINVAL;
	/* one slot more, for a device added */
	*items = calloc((e ? e->val.n : 0) + 1, sizeof(**items));
	if (!*items)
		return -ENOMEM;
	for (size_t i = 0; e && i < e->val.n; i++) {
		if (e->val.items[i].kind != CFG_STRING)
			return -EINVAL;
		(*items)[(*n)++] = e->val.items[i].str;
	}
	return 0;
}

static int store(const char *path, const struct cfg_file *cf, const char *key, char *const *items, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	int rc = render(cf, key, items, n, &text, &len);

	if (rc == 0)
		rc = write_atomic(path, text, len);
	free(text);
	return rc;
}

int ts_domcfg_add_disk(uint32_t domid, const char *spec)
{
	struct cfg_file cf;
	char path[512] = "", **disks = NULL;
	size_t n = 0;
	int rc;

	cfg_file_init(&cf);
	rc = load(domid, path, sizeof(path), &cf, "disk", &disks, &n);
	if (rc == 0) {
		disks[n++] = (char *)spec; /* load left a slot */
		rc = store(path, &cf, "disk", disks, n);
	}
	if (rc < 0)
		fprintf(stderr, "xl: warning: the kept configuration of domain %u (%s) does not have the new disk: %s; "
				"xl save will not carry it\n", domid, path, strerror(-rc));
	free(disks);
	cfg_file_dispose(&cf);
	return rc;
}

static int devid_of(const char *spec)
{
	struct cfg_diag d;
	struct dom_disk k;
	const char *const specs[] = { spec };
	int devid = -1;

	xl_diag_init(&d);
	d.emit = NULL;
	dom_disk_init(&k);
	if (dom_disk_parse(&k, specs, 1, &d, "kept configuration", 0, "disk") == 0)
		devid = k.devid;
	dom_disk_dispose(&k);
	return devid;
}

int ts_domcfg_remove_disk(uint32_t domid, int devid)
{
	struct cfg_file cf;
	char path[512] = "", **disks = NULL;
	size_t n = 0, kept = 0;
	int rc;

	cfg_file_init(&cf);
	rc = load(domid, path, sizeof(path), &cf, "disk", &disks, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (devid_of(disks[i]) != devid)
			disks[kept++] = disks[i];
	if (rc == 0 && kept != n)
		rc = store(path, &cf, "disk", disks, kept);
	if (rc < 0)
		fprintf(stderr, "xl: warning: the kept configuration of domain %u (%s) still has the disk: %s; "
				"a restore of an xl save would plug it again\n", domid, path, strerror(-rc));
	free(disks);
	cfg_file_dispose(&cf);
	return rc;
}

/* ---- vifs ----
 * xl numbers a vif= entry by its position unless it says devid=
 * (xl_parse.c), and libxl's stored configuration has every vif's devid:
 * so every entry written back names its devid, and taking one out does
 * not renumber those after it. */

static bool has_devid(const char *spec)
{
	for (const char *p = spec; *p;) {
		size_t len = strcspn(p, ",");
		const char *t = p;

		while (*t == ' ' || *t == '\t')
			t++;
		if (strncmp(t, "devid=", 6) == 0 && t < p + len)
			return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

/* The vif= items with their devids named (pinned[i] when one was added,
 * to be freed), and each item's devid in ids. */
static int pin_vifs(char **vifs, size_t n, char **pinned, int *ids)
{
	for (size_t i = 0; i < n; i++) {
		struct cfg_diag d;
		struct dom_nic k;

		xl_diag_init(&d);
		d.emit = NULL;
		dom_nic_init(&k);
		k.devid = (int)i;
		if (dom_nic_parse(&k, vifs[i], &d, "kept configuration", 0, "vif") < 0) {
			dom_nic_dispose(&k);
			return -EINVAL;
		}
		ids[i] = k.devid;
		dom_nic_dispose(&k);
		if (!has_devid(vifs[i])) {
			if (asprintf(&pinned[i], "%s%sdevid=%d", vifs[i], vifs[i][0] ? "," : "", ids[i]) < 0) {
				pinned[i] = NULL;
				return -ENOMEM;
			}
			vifs[i] = pinned[i];
		}
	}
	return 0;
}

/* The kept configuration with its vifs changed: spec added (NULL: none),
 * the vif of devid drop taken out (-1: none). */
static int change_vifs(uint32_t domid, const char *spec, int drop, char *path, size_t plen)
{
	struct cfg_file cf;
	char **vifs = NULL, **pinned = NULL;
	int *ids = NULL;
	size_t n = 0, kept = 0;
	int rc;

	cfg_file_init(&cf);
	rc = load(domid, path, plen, &cf, "vif", &vifs, &n);
	if (rc == 0) {
		pinned = calloc(n + 1, sizeof(*pinned));
		ids = calloc(n + 1, sizeof(*ids));
		rc = pinned && ids ? pin_vifs(vifs, n, pinned, ids) : -ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (ids[i] != drop)
			vifs[kept++] = vifs[i];
	if (rc == 0 && spec)
		vifs[kept++] = (char *)spec; /* load left a slot */
	if (rc == 0)
		rc = store(path, &cf, "vif", vifs, kept);
	for (size_t i = 0; pinned && i < n; i++)
		free(pinned[i]);
	free(pinned);
	free(ids);
	free(vifs);
	cfg_file_dispose(&cf);
	return rc;
}

int ts_domcfg_add_vif(uint32_t domid, const char *spec)
{
	char path[512] = "";
	int rc = change_vifs(domid, spec, -1, path, sizeof(path));

	if (rc < 0)
		fprintf(stderr, "xl: warning: the kept configuration of domain %u (%s) does not have the new vif: %s; "
				"xl save will not carry it\n", domid, path, strerror(-rc));
	return rc;
}

int ts_domcfg_remove_vif(uint32_t domid, int devid)
{
	char path[512] = "";
	int rc = change_vifs(domid, NULL, devid, path, sizeof(path));

	if (rc < 0)
		fprintf(stderr, "xl: warning: the kept configuration of domain %u (%s) still has the vif: %s; "
				"a restore of an xl save would plug it again\n", domid, path, strerror(-rc));
	return rc;
}

/* Quietly: the text was checked, and warned about, when the domain was
 * created; a hot-plug need not say it again. */
int ts_domcfg_read(struct xl_ctx *x, uint32_t domid, struct domain_config *c)
{
	static const uint8_t no_uuid[16];
	struct cfg_diag d;
	struct cfg_file cf;
	char path[512], *text = NULL;
	size_t len = 0;
	int rc = config_path(domid, path, sizeof(path));

	cfg_file_init(&cf);
	xl_diag_init(&d);
	d.emit = NULL;
	if (rc == 0)
		rc = xl_read_file(path, &text, &len);
	if (rc == 0)
		rc = cfg_parse(&cf, path, text, len, &d);
	if (rc == 0)
		rc = domcfg_from_cfg(c, &cf, &x->defaults, no_uuid, &d);
	cfg_file_dispose(&cf);
	free(text);
	return rc;
}
