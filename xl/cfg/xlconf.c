/* /etc/xen/xl.conf, the global defaults of xl (xl.conf(5)), into
 * struct xl_defaults.  Semantics of parse_global_config() in Xen's
 * tools/xl/xl.c; the keys domus does not use are warned about. */
#include "domcfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void xl_defaults_init(struct xl_defaults *x)
{
	memset(x, 0, sizeof(*x));
	x->autoballoon = XL_AUTOBALLOON_AUTO;
	x->run_hotplug_scripts = true;
	x->claim_mode = true;
}

void xl_defaults_dispose(struct xl_defaults *x)
{
	if (!x)
		return;
	free(x->lockfile);
	free(x->vif_script);
	free(x->vif_bridge);
	free(x->vif_gatewaydev);
	free(x->vif_backend);
	free(x->blkdev_start);
	xl_defaults_init(x);
}

static int atom(const struct cfg_entry *e, struct cfg_diag *d, const char **out)
{
	if (e->val.kind == CFG_LIST) {
		cfg_err(d, e->source, e->line, e->key, "expected a single value, not a list");
		return -EINVAL;
	}
	*out = e->val.str;
	return 0;
}

static int set_bool01(const struct cfg_entry *e, struct cfg_diag *d, const char *v, bool *out)
{
	if (!strcmp(v, "0") || !strcmp(v, "1")) {
		*out = v[0] == '1';
		return 0;
	}
	cfg_err(d, e->source, e->line, e->key, "\"%s\" is not 0 or 1", v);
	return -EINVAL;
}

int xl_defaults_from_cfg(struct xl_defaults *x, const struct cfg_file *f, struct cfg_diag *d)
{
	static const char *const ignored[] = {
		"output_format", "remus.default.netbufscript", "colo.default.proxyscript",
		"max_grant_frames", "max_maptrack_frames", "max_grant_version",
	};
	int rc = 0;

	for (size_t i = 0; i < f->n; i++) {
		const struct cfg_entry *e = &f->e[i];
		const char *v;
		int r = 0;

		if (atom(e, d, &v) < 0) {
			rc = -EINVAL;
			continue;
		}
		if (!strcmp(e->key, "autoballoon")) {
			if (!strcmp(v, "on") || !strcmp(v, "1"))
				x->autoballoon = XL_AUTOBALLOON_ON;
			else if (!strcmp(v, "off") || !strcmp(v, "0"))
				x->autoballoon = XL_AUTOBALLOON_OFF;
			else if (!strcmp(v, "auto"))
				x->autoballoon = XL_AUTOBALLOON_AUTO;
			else {
				cfg_err(d, e->source, e->line, e->key,
					"unknown value \"%s\" (expected on, off, auto, 1 or 0)", v);
				r = -EINVAL;
			}
		} else if (!strcmp(e->key, "run_hotplug_scripts")) {
			r = set_bool01(e, d, v, &x->run_hotplug_scripts);
		} else if (!strcmp(e->key, "claim_mode")) {
			r = set_bool01(e, d, v, &x->claim_mode);
		} else if (!strcmp(e->key, "lockfile")) {
			r = cfg_replace_str(&x->lockfile, v);
		} else if (!strcmp(e->key, "vif.default.script") || !strcmp(e->key, "vifscript")) {
			r = cfg_replace_str(&x->vif_script, v);
		} else if (!strcmp(e->key, "vif.default.bridge") || !strcmp(e->key, "defaultbridge")) {
			r = cfg_replace_str(&x->vif_bridge, v);
		} else if (!strcmp(e->key, "vif.default.gatewaydev")) {
			r = cfg_replace_str(&x->vif_gatewaydev, v);
		} else if (!strcmp(e->key, "vif.default.backend")) {
			r = cfg_replace_str(&x->vif_backend, v);
		} else if (!strcmp(e->key, "blkdev_start")) {
			r = cfg_replace_str(&x->blkdev_start, v);
		} else {
			bool known = false;

			for (size_t j = 0; j < sizeof(ignored) / sizeof(ignored[0]); j++)
				known |= !strcmp(e->key, ignored[j]);
			cfg_warn(d, e->source, e->line, e->key, "%s; ignored",
				 known ? "not supported by domus yet" : "unknown key (not in xl.conf(5))");
		}
		if (!strcmp(e->key, "vifscript") || !strcmp(e->key, "defaultbridge"))
			cfg_warn(d, e->source, e->line, e->key, "deprecated; use %s",
				 e->key[0] == 'v' ? "vif.default.script" : "vif.default.bridge");
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			rc = r;
	}
	if (!x->lockfile && cfg_replace_str(&x->lockfile, "/var/lock/xl") < 0)
		return -ENOMEM;
	return rc;
}
