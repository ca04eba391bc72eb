/* The semantic layer: xl.cfg entries to struct domain_config.
 *
 * One table maps each key of xl.cfg(5) to a handler (or marks it as not
 * supported by domus, warned about or refused).  Handlers validate their own
 * value at once and report FILE:LINE: KEY: message; checks that involve
 * several keys run after all handlers (finalize()).  Defaults follow
 * xl_parse.c: parse_config_data() in Xen 4.17 so that the JSON matches. */
#include "domcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/hvm/hvm_info_table.h>

struct kctx {
	struct domain_config *c;
	const struct xl_defaults *xd;
	const struct cfg_file *f;
	struct cfg_diag *d;
	const char *cmdline, *root, *extra;	/* combined in finalize() */
	const struct cfg_entry *cpus;		/* needs max_vcpus: finalize() */
	const struct cfg_entry *type_entry;
	int nomem;
};

typedef int (*key_fn)(struct kctx *k, const struct cfg_entry *e);

void domcfg_init(struct domain_config *c)
{
	memset(c, 0, sizeof(*c));
	c->type = DOM_TYPE_PV;
	c->run_hotplug_scripts = true;
	c->claim_mode = true;
	c->numa_placement = -1;
	c->max_memkb = MEMKB_DEFAULT;
	c->target_memkb = MEMKB_DEFAULT;
	c->sched_weight = -1;
	c->sched_cap = -1;
	c->on_poweroff = DOM_ACTION_DESTROY;
	c->on_reboot = DOM_ACTION_RESTART;
	c->on_watchdog = DOM_ACTION_DESTROY;
	c->on_crash = DOM_ACTION_DESTROY;
	c->on_soft_reset = DOM_ACTION_SOFT_RESET;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void domcfg_dispose(struct domain_config *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->vcpu_hard_affinity);
	free(c->kernel);
	free(c->cmdline);
	free(c->ramdisk);
	free(c->bootloader);
	free_strv(c->bootloader_args, c->n_bootloader_args);
	free_strv(c->serial, c->n_serial);
	for (size_t i = 0; i < c->n_disks; i++)
		dom_disk_dispose(&c->disks[i]);
	free(c->disks);
	for (size_t i = 0; i < c->n_nics; i++)
		dom_nic_dispose(&c->nics[i]);
	free(c->nics);
	domcfg_init(c);
}

/* ---- value helpers ---- */

static int want_atom(struct kctx *k, const struct cfg_entry *e, const char **out)
{
	if (e->val.kind == CFG_LIST) {
		cfg_err(k->d, e->source, e->line, e->key, "expected a single value, not a list");
		return -EINVAL;
	}
	*out = e->val.str;
	return 0;
}

/* A number as xl reads one (strtol base 0: 0x hex, leading-0 octal),
 * quoted or not; out of [min, max] is an error naming the range. */
static int want_long(struct kctx *k, const struct cfg_entry *e, long long min, long long max,
		     const char *unit, long long *out)
{
	const char *s;
	char *end;
	long long v;

	if (want_atom(k, e, &s) < 0)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (!*s || *end || errno) {
		cfg_err(k->d, e->source, e->line, e->key, "\"%s\" is not a number (expected %s, %lld..%lld)",
			s, unit, min, max);
		return -EINVAL;
	}
	if (v < min || v > max) {
		cfg_err(k->d, e->source, e->line, e->key, "%s %lld is out of range (expected %s, %lld..%lld)",
			v < 0 ? "negative value" : "value", v, unit, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int dup_into(struct kctx *k, char **slot, const char *s)
{
	int rc = cfg_replace_str(slot, s);

	if (rc < 0)
		k->nomem = 1;
	return rc;
}

static int want_string_into(struct kctx *k, const struct cfg_entry *e, char **slot)
{
	const char *s;

	if (want_atom(k, e, &s) < 0)
		return -EINVAL;
	return dup_into(k, slot, s);
}

/* A list of strings, or (for compatibility, as xl allows for serial= and,
 * deprecated, bootloader_args=) one string.  split: split a lone string at
 * blanks. */
static int want_strv(struct kctx *k, const struct cfg_entry *e, bool split, char ***out,
		     size_t *n)
{
	const struct cfg_value *v = &e->val;
	char **vec = NULL;
	size_t cnt = 0;

	if (v->kind != CFG_LIST) {
		char *copy = strdup(v->str), *save = NULL;

		if (!copy)
			goto nomem;
		for (char *t = split ? strtok_r(copy, " \t\n", &save) : copy; t;
		     t = split ? strtok_r(NULL, " \t\n", &save) : NULL) {
			char **nv = realloc(vec, (cnt + 1) * sizeof(*nv));

			if (!nv || !(nv[cnt] = strdup(t))) {
				free(nv ? nv : vec);
				free(copy);
				vec = NULL;
				goto nomem;
			}
			vec = nv;
			cnt++;
		}
		free(copy);
	} else {
		vec = calloc(v->n ? v->n : 1, sizeof(*vec));
		if (!vec)
			goto nomem;
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i].kind == CFG_LIST) {
				cfg_err(k->d, e->source, v->items[i].line, e->key,
					"item %zu is a list; expected a string", i);
				free_strv(vec, cnt);
				return -EINVAL;
			}
			vec[cnt] = strdup(v->items[i].str);
			if (!vec[cnt]) {
				free_strv(vec, cnt);
				vec = NULL;
				goto nomem;
			}
			cnt++;
		}
	}
	free_strv(*out, *n);
	*out = vec;
	*n = cnt;
	return 0;
nomem:
	k->nomem = 1;
	return -ENOMEM;
}

/* ---- handlers ---- */

static int h_name(struct kctx *k, const struct cfg_entry *e)
{
	const char *s;

	if (want_atom(k, e, &s) < 0)
		return -EINVAL;
	if (!*s) {
		cfg_err(k->d, e->source, e->line, e->key, "empty (a domain needs a name)");
		return -EINVAL;
	}
	/* xl looks domains up by name or number: an all-digit name would be
	 * taken for a domain id. */
	if (strspn(s, "0123456789") == strlen(s)) {
		cfg_err(k->d, e->source, e->line, e->key, "\"%s\" is all digits (it would read as a domain id)",
			s);
		return -EINVAL;
	}
	return dup_into(k, &k->c->name, s);
}

int domcfg_uuid_parse(const char *s, uint8_t uuid[16])
{
	int b = 0;

	/* 8-4-4-4-12 hex digits */
	if (strlen(s) != 36)
		return -EINVAL;
	for (int i = 0; i < 36;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -EINVAL;
			continue;
		}
		hi = cfg_hexval(s[i]);
		lo = cfg_hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		uuid[b++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

static int h_uuid(struct kctx *k, const struct cfg_entry *e)
{
	const char *s;

	if (want_atom(k, e, &s) < 0)
		return -EINVAL;
	if (domcfg_uuid_parse(s, k->c->uuid) < 0) {
		cfg_err(k->d, e->source, e->line, e->key,
			"malformed UUID \"%s\" (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hex)", s);
		return -EINVAL;
	}
	return 0;
}

static const char *const type_names[] = { [DOM_TYPE_HVM] = "hvm", [DOM_TYPE_PV] = "pv",
					  [DOM_TYPE_PVH] = "pvh" };

const char *dom_type_name(enum dom_type t)
{
	return t >= DOM_TYPE_HVM && t <= DOM_TYPE_PVH ? type_names[t] : "?";
}

static int h_type(struct kctx *k, const struct cfg_entry *e)
{
	const char *s;

	if (want_atom(k, e, &s) < 0)
		return -EINVAL;
	for (int t = DOM_TYPE_HVM; t <= DOM_TYPE_PVH; t++) {
		if (!strcmp(s, type_names[t])) {
			k->c->type = (enum dom_type)t;
			k->type_entry = e;
			return 0;
		}
	}
	cfg_err(k->d, e->source, e->line, e->key, "unknown type \"%s\" (expected pv, pvh or hvm)", s);
	return -EINVAL;
}

/* builder= (deprecated since Xen 4.10): "generic" is pv, "hvm" is hvm. */
static int h_builder(struct kctx *k, const struct cfg_entry *e)
{
	const char *s;
	enum dom_type t;

	if (want_atom(k, e, &s) < 0)
		return -EINVAL;
	if (!strcmp(s, "generic"))
		t = DOM_TYPE_PV;
	else if (!strcmp(s, "hvm"))
		t = DOM_TYPE_HVM;
	else {
		cfg_err(k->d, e->source, e->line, e->key, "unknown builder \"%s\" (expected generic or hvm; better: type=)",
			s);
		return -EINVAL;
	}
	cfg_warn(k->d, e->source, e->line, e->key, "deprecated since Xen 4.10; use type=\"%s\"",
		 dom_type_name(t));
	if (k->type_entry && k->c->type != t) {
		cfg_err(k->d, e->source, e->line, e->key, "contradicts type=\"%s\" (line %u)",
			dom_type_name(k->c->type), k->type_entry->line);
		return -EINVAL;
	}
	k->c->type = t;
	return 0;
}

static int h_memory(struct kctx *k, const struct cfg_entry *e)
{
	long long v;

	if (want_long(k, e, 1, DOMCFG_MAX_MEMORY_MB, "MiB", &v) < 0)
		return -EINVAL;
	if (!strcmp(e->key, "memory"))
		k->c->target_memkb = (uint64_t)v * 1024;
	else
		k->c->max_memkb = (uint64_t)v * 1024;
	return 0;
}

static int h_vcpus(struct kctx *k, const struct cfg_entry *e)
{
	long long v;

	if (want_long(k, e, 1, HVM_MAX_VCPUS, "vCPUs", &v) < 0)
		return -EINVAL;
	if (!strcmp(e->key, "vcpus"))
		k->c->vcpus = (int)v;
	else
		k->c->max_vcpus = (int)v;
	return 0;
}

static int h_cpus(struct kctx *k, const struct cfg_entry *e)
{
	k->cpus = e;
	return 0;
}

static int h_sched(struct kctx *k, const struct cfg_entry *e)
{
	long long v;

	/* Credit scheduler ranges (xl-sched-credit, xen/common/sched/credit.c):
	 * weight 1..65535, cap in percent of one CPU, 0 = no cap. */
	if (!strcmp(e->key, "cpu_weight")) {
		if (want_long(k, e, 1, 65535, "a credit-scheduler weight", &v) < 0)
			return -EINVAL;
		k->c->sched_weight = (int)v;
	} else {
		if (want_long(k, e, 0, 100LL * HVM_MAX_VCPUS, "percent of one CPU, 0 for none", &v) < 0)
			return -EINVAL;
		k->c->sched_cap = (int)v;
	}
	return 0;
}

static int h_kernel(struct kctx *k, const struct cfg_entry *e)
{
	char **slot = !strcmp(e->key, "kernel") ? &k->c->kernel
		      : !strcmp(e->key, "ramdisk") ? &k->c->ramdisk : &k->c->bootloader;

	if (slot == &k->c->bootloader)
		k->c->bootloader_line = e->line;
	return want_string_into(k, e, slot);
}

static int h_cmdline(struct kctx *k, const struct cfg_entry *e)
{
	const char *s;

	if (want_atom(k, e, &s) < 0)
		return -EINVAL;
	if (!strcmp(e->key, "cmdline"))
		k->cmdline = s;
	else if (!strcmp(e->key, "root"))
		k->root = s;
	else
		k->extra = s;
	return 0;
}

static int h_bootloader_args(struct kctx *k, const struct cfg_entry *e)
{
	if (e->val.kind != CFG_LIST)
		cfg_warn(k->d, e->source, e->line, e->key,
			 "a string is deprecated (as in xl); use a list: bootloader_args = [ \"...\" ]");
	return want_strv(k, e, true, &k->c->bootloader_args, &k->c->n_bootloader_args);
}

static const char *const action_names[] = {
	[DOM_ACTION_DESTROY] = "destroy", [DOM_ACTION_RESTART] = "restart",
	[DOM_ACTION_RENAME_RESTART] = "rename-restart", [DOM_ACTION_PRESERVE] = "preserve",
	[DOM_ACTION_COREDUMP_DESTROY] = "coredump-destroy",
	[DOM_ACTION_COREDUMP_RESTART] = "coredump-restart", [DOM_ACTION_SOFT_RESET] = "soft-reset",
};

const char *dom_action_json_name(enum dom_action a)
{
	/* libxl_action_on_shutdown_to_string(): the IDL names, lower case. */
	static const char *const json[] = {
		[DOM_ACTION_DESTROY] = "destroy", [DOM_ACTION_RESTART] = "restart",
		[DOM_ACTION_RENAME_RESTART] = "restart_rename", [DOM_ACTION_PRESERVE] = "preserve",
		[DOM_ACTION_COREDUMP_DESTROY] = "coredump_destroy",
		[DOM_ACTION_COREDUMP_RESTART] = "coredump_restart",
		[DOM_ACTION_SOFT_RESET] = "soft_reset",
	};
	return a >= DOM_ACTION_DESTROY && a <= DOM_ACTION_SOFT_RESET ? json[a] : "?";
}

static int h_action(struct kctx *k, const struct cfg_entry *e)
{
	enum dom_action *slot = !strcmp(e->key, "on_poweroff")	 ? &k->c->on_poweroff
				: !strcmp(e->key, "on_reboot")	 ? &k->c->on_reboot
				: !strcmp(e->key, "on_watchdog") ? &k->c->on_watchdog
				: !strcmp(e->key, "on_crash")	 ? &k->c->on_crash
								 : &k->c->on_soft_reset;
	const char *s;

	if (want_atom(k, e, &s) < 0)
		return -EINVAL;
	for (int a = DOM_ACTION_DESTROY; a <= DOM_ACTION_SOFT_RESET; a++) {
		if (!strcmp(s, action_names[a])) {
			*slot = (enum dom_action)a;
			return 0;
		}
	}
	cfg_err(k->d, e->source, e->line, e->key,
		"unknown action \"%s\" (expected destroy, restart, rename-restart, preserve, coredump-destroy, coredump-restart or soft-reset)",
		s);
	return -EINVAL;
}

/* disk= and vif=: a list of strings, at most max of them; allocates the
 * zeroed array of devices (elem bytes each) into *out. */
static int want_device_list(struct kctx *k, const struct cfg_entry *e, size_t max, size_t elem,
			    void **out)
{
	if (e->val.kind != CFG_LIST) {
		cfg_err(k->d, e->source, e->line, e->key, "expected a list: %s = [ '...', '...' ]",
			e->key);
		return -EINVAL;
	}
	for (size_t i = 0; i < e->val.n; i++) {
		if (e->val.items[i].kind == CFG_LIST) {
			cfg_err(k->d, e->source, e->val.items[i].line, e->key,
				"item %zu is a list; expected a string", i);
			return -EINVAL;
		}
	}
	if (e->val.n > max) {
		cfg_err(k->d, e->source, e->line, e->key, "%zu items (at most %zu)", e->val.n, max);
		return -EINVAL;
	}
	*out = calloc(e->val.n ? e->val.n : 1, elem);
	if (!*out) {
		k->nomem = 1;
		return -ENOMEM;
	}
	return 0;
}

static int h_disk(struct kctx *k, const struct cfg_entry *e)
{
	struct domain_config *c = k->c;
	int rc = 0;

	rc = want_device_list(k, e, DOMCFG_MAX_DISKS, sizeof(*c->disks), (void **)&c->disks);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < e->val.n; i++) {
		const struct cfg_value *v = &e->val.items[i];
		const char *spec = v->str;
		struct dom_disk *dk = &c->disks[c->n_disks];
		char field[32];
		int r;

		snprintf(field, sizeof(field), "disk[%zu]", i);
		dom_disk_init(dk);
		r = dom_disk_parse(dk, &spec, 1, k->d, v->source, v->line, field);
		if (r == -ENOMEM)
			k->nomem = 1;
		if (r < 0) {
			dom_disk_dispose(dk);
			rc = r;
			continue;
		}
		/* Two names for one Xen disk number (sda and sda, or xvda and
		 * d0p0) would be one device in the guest. */
		for (size_t j = 0; j < c->n_disks; j++) {
			if (c->disks[j].devid == dk->devid) {
				cfg_err(k->d, v->source, v->line, field,
					"vdev \"%s\" is the same device as disk[%zu]'s \"%s\"; each disk needs its own vdev",
					dk->vdev, j, c->disks[j].vdev);
				rc = -EINVAL;
				break;
			}
		}
		c->n_disks++;
	}
	return rc;
}

static int h_vif(struct kctx *k, const struct cfg_entry *e)
{
	struct domain_config *c = k->c;
	int rc = 0;

	rc = want_device_list(k, e, DOMCFG_MAX_NICS, sizeof(*c->nics), (void **)&c->nics);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < e->val.n; i++) {
		const struct cfg_value *v = &e->val.items[i];
		struct dom_nic *n = &c->nics[c->n_nics++];
		char field[32];
		int r;

		snprintf(field, sizeof(field), "vif[%zu]", i);
		dom_nic_init(n);
		/* xl numbers vifs by position (ARRAY_EXTEND_INIT in xl_parse.c). */
		n->devid = (int)i;
		dom_nic_apply_defaults(n, k->xd);
		r = dom_nic_parse(n, v->str, k->d, v->source, v->line, field);
		if (r == -ENOMEM)
			k->nomem = 1;
		if (r < 0) {
			rc = r;
			continue;
		}
		for (size_t j = 0; j + 1 < c->n_nics; j++) {
			const struct dom_nic *o = &c->nics[j];

			if (o->mac_set && n->mac_set && !memcmp(o->mac, n->mac, 6)) {
				cfg_err(k->d, v->source, v->line, field,
					"MAC %02x:%02x:%02x:%02x:%02x:%02x is also vif[%zu]'s; each vif needs its own",
					n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
					j);
				rc = -EINVAL;
			}
			if (o->devid == n->devid && n->devid >= 0) {
				cfg_err(k->d, v->source, v->line, field, "devid %d is also vif[%zu]'s",
					n->devid, j);
				rc = -EINVAL;
			}
		}
	}
	return rc;
}

static int h_serial(struct kctx *k, const struct cfg_entry *e)
{
	/* Whether the type allows it is checked in finalize(). */
	k->c->serial_is_list = e->val.kind == CFG_LIST;
	return want_strv(k, e, false, &k->c->serial, &k->c->n_serial);
}

/* ---- the key table ---- */

struct key_handler {
	const char *key;
	key_fn fn;		      /* NULL: not supported (see support) */
	enum cfg_key_support support;
	const char *doc;
};

#define SUP(k, f, d) { k, f, KEY_SUPPORTED, d }
#define WARN(k) { k, NULL, KEY_IGNORED_WARN, NULL }
#define REFUSE(k, why) { k, NULL, KEY_REFUSED, why }

/* Order matters only where a handler reads what an earlier one set:
 * type before builder (contradiction check).  Cross-key checks are in
 * finalize(), so users may write keys in any order. */
static const struct key_handler keys[] = {
	SUP("name", h_name, "Domain name, unique on the host; not all digits. Required."),
	SUP("uuid", h_uuid, "Domain UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); random if absent."),
	SUP("type", h_type, "pv (default), pvh or hvm. domus runs pv guests in a PVH container."),
	SUP("builder", h_builder, "Deprecated: generic (pv) or hvm. Use type=."),
	SUP("memory", h_memory, "Initial memory in MiB (1..16777216)."),
	SUP("maxmem", h_memory, "Maximum memory in MiB; at least memory. Default: memory."),
	SUP("vcpus", h_vcpus, "Number of vCPUs online at boot (1..128)."),
	SUP("maxvcpus", h_vcpus, "Maximum vCPUs; at least vcpus. Default: vcpus."),
	SUP("cpus", h_cpus, "Hard affinity: \"all\", \"0-3,^2\", or a list with one such string per vCPU."),
	SUP("cpu_weight", h_sched, "Credit scheduler weight (1..65535, default 256): the domain's cgroup cpu.weight, 256 as 100."),
	SUP("cap", h_sched, "Credit scheduler cap in percent of one CPU; 0 for none: the domain's cgroup cpu.max."),
	SUP("kernel", h_kernel, "Kernel image (path in Domain-0) for direct boot."),
	SUP("ramdisk", h_kernel, "Initial ramdisk for the kernel."),
	SUP("cmdline", h_cmdline, "Kernel command line; overrides root= and extra=."),
	SUP("root", h_cmdline, "Appended to the command line as root=VALUE."),
	SUP("extra", h_cmdline, "Appended to the command line."),
	SUP("bootloader", h_kernel, "Program run in Domain-0 to take the kernel, initrd and command line from the first disk (a raw file or block device), e.g. pygrub (a relative name is looked up in /usr/lib/xen-4.17/bin). It runs in a sandbox of its own; xl create -c shows its menu."),
	SUP("bootloader_args", h_bootloader_args, "List of arguments for the bootloader, after xl's own (e.g. [ \"--entry=1\" ]); a string is split at blanks (deprecated)."),
	SUP("on_poweroff", h_action, "Action when the guest powers off (destroy)."),
	SUP("on_reboot", h_action, "Action when the guest reboots (restart)."),
	SUP("on_watchdog", h_action, "Action when the watchdog fires (destroy)."),
	SUP("on_crash", h_action, "Action when the guest crashes (destroy)."),
	SUP("on_soft_reset", h_action, "Action on soft reset (soft-reset)."),
	SUP("disk", h_disk, "List of disk specs, xl-disk-configuration(5)."),
	SUP("vif", h_vif, "List of vif specs, xl-network-configuration(5)."),
	SUP("serial", h_serial, "HVM serial ports: a string or a list (e.g. \"pty\")."),

	/* Refused: ignoring them would give a guest without a device or a
	 * guarantee the user asked for. */
	REFUSE("pci", "PCI passthrough"),
	REFUSE("dtdev", "device tree passthrough"),
	REFUSE("ioports", "I/O port passthrough"),
	REFUSE("iomem", "I/O memory passthrough"),
	REFUSE("irqs", "IRQ passthrough"),
	REFUSE("passthrough", "passthrough"),
	REFUSE("usbctrl", "USB controllers"),
	REFUSE("usbdev", "USB passthrough"),
	REFUSE("vtpm", "virtual TPMs"),
	REFUSE("p9", "9pfs shares"),
	REFUSE("pvcalls", "PV calls"),
	REFUSE("channel", "PV channels"),
	REFUSE("vnuma", "virtual NUMA"),
	REFUSE("cpuid", "CPUID policy"),
	REFUSE("gfx_passthru", "graphics passthrough"),
	REFUSE("device_model_stubdomain_override", "stub domains"),

	/* Known to xl.cfg(5), not acted on by domus yet: one warning each. */
	WARN("acpi"), WARN("acpi_firmware"), WARN("acpi_laptop_slate"), WARN("acpi_s3"),
	WARN("acpi_s4"), WARN("altp2m"), WARN("altp2mhvm"), WARN("apic"), WARN("bios"),
	WARN("bios_path_override"), WARN("boot"), WARN("cpus_soft"), WARN("device_model_args"),
	WARN("device_model_args_hvm"), WARN("device_model_args_pv"),
	WARN("device_model_override"), WARN("device_model_stubdomain_seclabel"),
	WARN("device_model_user"), WARN("device_model_version"), WARN("device_tree"),
	WARN("dm_restrict"), WARN("driver_domain"), WARN("e820_host"), WARN("firmware"),
	WARN("firmware_override"), WARN("gic_version"), WARN("hap"), WARN("hdtype"),
	WARN("hpet"), WARN("init_seclabel"), WARN("keymap"), WARN("localtime"),
	WARN("max_event_channels"), WARN("max_grant_frames"), WARN("max_grant_version"),
	WARN("max_maptrack_frames"), WARN("mca_caps"), WARN("mmio_hole"), WARN("ms_vm_genid"),
	WARN("msr_relaxed"), WARN("nestedhvm"), WARN("nographic"), WARN("nomigrate"),
	WARN("nx"), WARN("oos"), WARN("opengl"), WARN("pae"), WARN("pci_msitranslate"),
	WARN("pci_permissive"), WARN("pci_power_mgmt"), WARN("pci_seize"), WARN("pool"),
	WARN("pvshim"), WARN("pvshim_cmdline"), WARN("pvshim_extra"), WARN("pvshim_path"),
	WARN("rdm"), WARN("rdm_mem_boundary"), WARN("rtc_timeoffset"), WARN("sdl"),
	WARN("seclabel"), WARN("shadow_memory"), WARN("smbios_firmware"), WARN("soundhw"),
	WARN("spice"), WARN("spice_clipboard_sharing"), WARN("spice_image_compression"),
	WARN("spice_streaming_video"), WARN("spiceagent_mouse"),
	WARN("spicedisable_ticketing"), WARN("spicehost"), WARN("spicepasswd"),
	WARN("spiceport"), WARN("spicetls_port"), WARN("spiceusbredirection"),
	WARN("spicevdagent"), WARN("stdvga"), WARN("stubdomain_cmdline"),
	WARN("stubdomain_kernel"), WARN("stubdomain_memory"), WARN("stubdomain_ramdisk"),
	WARN("tee"), WARN("timer_mode"), WARN("tsc_mode"), WARN("usb"), WARN("usbdevice"),
	WARN("usbversion"), WARN("vdispl"), WARN("vendor_device"), WARN("vfb"), WARN("vga"),
	WARN("videoram"), WARN("viridian"), WARN("vkb"), WARN("vkb_device"),
	WARN("vmtrace_buf_kb"), WARN("vnc"), WARN("vncdisplay"), WARN("vnclisten"),
	WARN("vncpasswd"), WARN("vncunused"), WARN("vncviewer"), WARN("vpmu"), WARN("vpt_align"),
	WARN("vsnd"), WARN("vuart"), WARN("xen_platform_pci"), WARN("xend_suspend_evtchn_compat"),
	WARN("period"), WARN("slice"), WARN("latency"), WARN("extratime"),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

int domcfg_key_doc(size_t i, struct cfg_key_doc *out)
{
	if (i >= NKEYS)
		return -ENOENT;
	*out = (struct cfg_key_doc){ keys[i].key, keys[i].support, keys[i].doc };
	return 0;
}

static const struct key_handler *lookup(const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].key, key))
			return &keys[i];
	return NULL;
}

/* ---- cross-key checks ---- */

static int parse_cpulist(const char *s, struct cpumask *m, const char **bad)
{
	char *copy = strdup(s), *save = NULL;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		bool neg = *t == '^';
		char *p = t + neg, *end;
		long a, b;

		if (!strcmp(p, "all")) {
			for (int i = 0; i < DOMCFG_MAX_CPUS; i++)
				m->bits[i / 64] |= neg ? 0 : 1ull << (i % 64);
			if (neg)
				memset(m, 0, sizeof(*m));
			continue;
		}
		if (*p < '0' || *p > '9')
			goto bad;
		a = strtol(p, &end, 10);
		b = a;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				goto bad;
			b = strtol(p, &end, 10);
		}
		if (*end || a > b || b >= DOMCFG_MAX_CPUS)
			goto bad;
		for (long i = a; i <= b; i++) {
			if (neg)
				m->bits[i / 64] &= ~(1ull << (i % 64));
			else
				m->bits[i / 64] |= 1ull << (i % 64);
		}
	}
	goto out;
bad:
	*bad = s;
	rc = -EINVAL;
out:
	free(copy);
	return rc;
}

static int finalize_cpus(struct kctx *k)
{
	struct domain_config *c = k->c;
	const struct cfg_entry *e = k->cpus;
	const struct cfg_value *v = &e->val;
	int n = v->kind == CFG_LIST ? (int)v->n : c->max_vcpus;
	const char *bad = NULL;

	/* xl: values for vCPUs beyond max_vcpus are silently dropped; the
	 * string form applies to every vCPU.  Without vcpus= there is
	 * nothing to pin. */
	if (n > c->max_vcpus)
		n = c->max_vcpus;
	if (v->kind != CFG_LIST && !strcmp(v->str, "all"))
		return 0; /* no pinning: same as not giving cpus= */
	if (v->kind != CFG_LIST && !strncmp(v->str, "node", 4)) {
		cfg_err(k->d, e->source, e->line, e->key, "NUMA node affinity (\"%s\") is not supported by domus",
			v->str);
		return -EINVAL;
	}
	/* xl: a list of cpumaps always turns automatic placement off, even
	 * when there is no vCPU to apply it to. */
	if (v->kind == CFG_LIST)
		c->numa_placement = 0;
	if (n <= 0)
		return 0;
	c->vcpu_hard_affinity = calloc((size_t)n, sizeof(*c->vcpu_hard_affinity));
	if (!c->vcpu_hard_affinity) {
		k->nomem = 1;
		return -ENOMEM;
	}
	c->num_vcpu_hard_affinity = n;
	for (int i = 0; i < n; i++) {
		const struct cfg_value *item = v->kind == CFG_LIST ? &v->items[i] : v;
		int r;

		if (item->kind == CFG_LIST) {
			cfg_err(k->d, e->source, item->line, e->key, "item %d is a list; expected a string", i);
			return -EINVAL;
		}
		r = parse_cpulist(item->str, &c->vcpu_hard_affinity[i], &bad);
		if (r == -ENOMEM) {
			k->nomem = 1;
			return r;
		}
		if (r < 0) {
			cfg_err(k->d, e->source, item->line, e->key,
				"bad CPU list \"%s\" (expected e.g. \"all\", \"3\", \"0-3\", \"0-7,^5\"; CPUs 0..%d)",
				bad, DOMCFG_MAX_CPUS - 1);
			return -EINVAL;
		}
	}
	return 0;
}

/* Where key was set, for messages about it: its line (0 if absent or
 * from the command line) and source. */
static unsigned line_of(const struct kctx *k, const char *key)
{
	const struct cfg_entry *e = cfg_find(k->f, key);

	return e ? e->line : 0;
}

static const char *src_of(const struct kctx *k, const char *key, const char *file)
{
	const struct cfg_entry *e = cfg_find(k->f, key);

	return e ? e->source : file;
}

/* " (line N)" or " (command line)" for a reference to another key. */
static const char *ref_of(const struct kctx *k, const char *key, char *buf, size_t n)
{
	const struct cfg_entry *e = cfg_find(k->f, key);

	if (!e)
		snprintf(buf, n, "%s", "");
	else if (e->line)
		snprintf(buf, n, " (line %u)", e->line);
	else
		snprintf(buf, n, " (%s)", e->source);
	return buf;
}

static int finalize(struct kctx *k, const char *file)
{
	struct domain_config *c = k->c;
	char ref[64];
	int rc = 0;

	/* xl_parse.c: parse_cmdline() */
	if (k->cmdline) {
		if (k->root || k->extra)
			cfg_warn(k->d, src_of(k, "cmdline", file), line_of(k, "cmdline"), "cmdline",
				 "root= and extra= are ignored in favour of cmdline= (as in xl)");
		if (dup_into(k, &c->cmdline, k->cmdline) < 0)
			return -ENOMEM;
	} else if (k->root || k->extra) {
		size_t n = (k->root ? strlen(k->root) + 6 : 0) + (k->extra ? strlen(k->extra) : 0) + 2;

		c->cmdline = malloc(n);
		if (!c->cmdline) {
			k->nomem = 1;
			return -ENOMEM;
		}
		if (k->root && k->extra)
			snprintf(c->cmdline, n, "root=%s %s", k->root, k->extra);
		else if (k->root)
			snprintf(c->cmdline, n, "root=%s", k->root);
		else
			snprintf(c->cmdline, n, "%s", k->extra);
	}

	if (!c->name && !cfg_find(k->f, "name")) { /* a bad name was reported already */
		cfg_err(k->d, file, 0, "name", "missing (every domain needs name = \"...\")");
		rc = -EINVAL;
	}
	/* xl: maxmem and maxvcpus default to memory and vcpus. */
	if (c->max_memkb == MEMKB_DEFAULT)
		c->max_memkb = c->target_memkb;
	if (c->target_memkb != MEMKB_DEFAULT && c->target_memkb > c->max_memkb) {
		cfg_err(k->d, src_of(k, "memory", file), line_of(k, "memory"), "memory",
			"%llu MiB is more than maxmem = %llu MiB%s; memory must be <= maxmem",
			(unsigned long long)c->target_memkb / 1024,
			(unsigned long long)c->max_memkb / 1024, ref_of(k, "maxmem", ref, sizeof(ref)));
		rc = -EINVAL;
	}
	if (!c->max_vcpus)
		c->max_vcpus = c->vcpus;
	if (c->vcpus > c->max_vcpus) {
		cfg_err(k->d, src_of(k, "vcpus", file), line_of(k, "vcpus"), "vcpus",
			"%d is more than maxvcpus = %d%s; vcpus must be <= maxvcpus", c->vcpus,
			c->max_vcpus, ref_of(k, "maxvcpus", ref, sizeof(ref)));
		rc = -EINVAL;
	}
	if (k->cpus && finalize_cpus(k) < 0)
		rc = -EINVAL;
	if (c->kernel && c->bootloader) {
		cfg_err(k->d, src_of(k, "bootloader", file), line_of(k, "bootloader"), "bootloader",
			"given together with kernel=%s; choose one", ref_of(k, "kernel", ref, sizeof(ref)));
		rc = -EINVAL;
	}
	if (!c->kernel && !c->bootloader) {
		/* xl requires this for PV; domus has no firmware for PVH or HVM,
		 * so every type boots a kernel directly or via a bootloader. */
		cfg_err(k->d, file, 0, "kernel", "neither kernel nor bootloader specified (give kernel = \"/path/to/vmlinuz\" or bootloader = \"pygrub\")");
		rc = -EINVAL;
	}
	if (c->n_serial && c->type != DOM_TYPE_HVM)
		cfg_warn(k->d, src_of(k, "serial", file), line_of(k, "serial"), "serial",
			 "applies to HVM guests only (xl.cfg(5)); %s guests use the PV console",
			 dom_type_name(c->type));
	return rc;
}

void domcfg_set_build_defaults(struct domain_config *c)
{
	if (!c->max_vcpus)
		c->max_vcpus = 1;
	if (!c->vcpus)
		c->vcpus = 1;
	if (c->max_memkb == MEMKB_DEFAULT)
		c->max_memkb = 32 * 1024;
	if (c->target_memkb == MEMKB_DEFAULT)
		c->target_memkb = c->max_memkb;
}

int domcfg_from_cfg(struct domain_config *c, const struct cfg_file *f,
		    const struct xl_defaults *xd, const uint8_t uuid_random[16],
		    struct cfg_diag *d)
{
	struct kctx k = { .c = c, .xd = xd, .f = f, .d = d };
	const char *file = f->nsources ? f->sources[0] : "config";
	int rc = 0;

	c->run_hotplug_scripts = xd->run_hotplug_scripts;
	c->claim_mode = xd->claim_mode;
	memcpy(c->uuid, uuid_random, 16);
	/* type first: builder= and serial= depend on it */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < f->n; i++) {
			const struct cfg_entry *e = &f->e[i];
			const struct key_handler *h = lookup(e->key);
			bool is_type = !strcmp(e->key, "type");

			if (pass == 0 ? !is_type : is_type)
				continue;
			if (!h) {
				cfg_warn(d, e->source, e->line, e->key,
					 "unknown key (not in xl.cfg(5)); ignored");
				continue;
			}
			if (h->support == KEY_REFUSED) {
				cfg_err(d, e->source, e->line, e->key,
					"%s is not supported by domus; remove the key to create the domain without it",
					h->doc);
				rc = -EINVAL;
				continue;
			}
			if (h->support == KEY_IGNORED_WARN) {
				cfg_warn(d, e->source, e->line, e->key, "not supported by domus yet; ignored");
				continue;
			}
			if (h->fn(&k, e) < 0)
				rc = -EINVAL;
			if (k.nomem)
				return -ENOMEM;
		}
	}
	if (finalize(&k, file) < 0)
		rc = -EINVAL;
	if (k.nomem)
		return -ENOMEM;
	return rc;
}
