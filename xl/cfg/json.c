/* struct domain_config as the JSON of libxl_domain_config_to_json().
 *
 * The shape is what Xen 4.17's generated code (tools/libs/light/gentypes.py,
 * libxl_types.idl) gives through yajl's pretty printer:
 *   - keys in IDL field order;
 *   - a field is omitted when it equals its IDL default (init_val, 0,
 *     NULL, empty bitmap or list, unset defbool); nested structs (aggregates)
 *     are always printed, so an all-default one is "{\n\n<indent>}";
 *   - defbools are the strings "True"/"False", enums their lower-case name;
 *   - 4-space indentation, "key": value, no trailing newline.
 * Only the fields domus has are printed; the golden files in tests/xl-cfg
 * come from Xen's own xl. */
#include "domcfg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JW_MAX_DEPTH 16

struct jw {
	FILE *f;
	int depth;
	bool first[JW_MAX_DEPTH];
};

static void jw_indent(struct jw *w)
{
	for (int i = 0; i < w->depth; i++)
		fputs("    ", w->f);
}

/* Before each value: the separator and, in an object, the key. */
static void jw_pre(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		fputs(w->first[w->depth] ? "\n" : ",\n", w->f);
		w->first[w->depth] = false;
		jw_indent(w);
	}
	if (key)
		fprintf(w->f, "\"%s\": ", key);
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_pre(w, key);
	fputc(c, w->f);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(struct jw *w, char c)
{
	/* yajl's beautifier: "{" newline, items, newline, indent, "}"; with no
	 * items that leaves an empty line. */
	if (w->first[w->depth])
		fputc('\n', w->f);
	w->depth--;
	fputc('\n', w->f);
	jw_indent(w);
	fputc(c, w->f);
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_pre(w, key);
	fputc('"', w->f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", w->f); break;
		case '\\': fputs("\\\\", w->f); break;
		case '\n': fputs("\\n", w->f); break;
		case '\r': fputs("\\r", w->f); break;
		case '\t': fputs("\\t", w->f); break;
		case '\b': fputs("\\b", w->f); break;
		case '\f': fputs("\\f", w->f); break;
		default:
			if (*p < 0x20)
				fprintf(w->f, "\\u%04X", *p); /* yajl: upper-case hex */
			else
				fputc(*p, w->f);
		}
	}
	fputc('"', w->f);
}

static void jw_int(struct jw *w, const char *key, long long v)
{
	jw_pre(w, key);
	fprintf(w->f, "%lld", v);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_pre(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_str(w, key, v ? "True" : "False");
}

static void jw_opt_str(struct jw *w, const char *key, const char *s)
{
	if (s)
		jw_str(w, key, s);
}

static void jw_strv(struct jw *w, const char *key, char *const *v, size_t n)
{
	if (!n)
		return;
	jw_open(w, key, '[');
	for (size_t i = 0; i < n; i++)
		jw_str(w, NULL, v[i]);
	jw_close(w, ']');
}

static void emit_disk(struct jw *w, const char *key, const struct dom_disk *k)
{
	jw_open(w, key, '{');
	jw_opt_str(w, "backend_domname", k->backend_domname);
	jw_opt_str(w, "pdev_path", k->pdev_path);
	jw_opt_str(w, "vdev", k->vdev);
	if (k->backend)
		jw_str(w, "backend", disk_backend_name(k->backend));
	if (k->format)
		jw_str(w, "format", disk_format_name(k->format));
	jw_opt_str(w, "script", k->script);
	if (k->removable)
		jw_int(w, "removable", 1);
	if (k->readwrite)
		jw_int(w, "readwrite", 1);
	if (k->is_cdrom)
		jw_int(w, "is_cdrom", 1);
	if (k->direct_io_safe) { /* an IDL bool: yajl_gen_bool, not a defbool string */
		jw_pre(w, "direct_io_safe");
		fputs("true", w->f);
	}
	if (k->discard >= 0)
		jw_bool(w, "discard_enable", k->discard);
	jw_close(w, '}');
}

static void emit_nic(struct jw *w, const char *key, const struct dom_nic *n)
{
	char mac[18];

	jw_open(w, key, '{');
	jw_opt_str(w, "backend_domname", n->backend_domname);
	if (n->devid != -1) /* libxl_device_nic devid init_val is -1 */
		jw_int(w, "devid", n->devid);
	if (n->mtu)
		jw_int(w, "mtu", n->mtu);
	jw_opt_str(w, "model", n->model);
	if (n->mac_set) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
			 n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		jw_str(w, "mac", mac);
	}
	jw_opt_str(w, "ip", n->ip);
	jw_opt_str(w, "bridge", n->bridge);
	jw_opt_str(w, "ifname", n->ifname);
	jw_opt_str(w, "script", n->script);
	if (n->nictype)
		jw_str(w, "nictype", nic_type_name(n->nictype));
	if (n->rate_bytes_per_interval)
		jw_u64(w, "rate_bytes_per_interval", n->rate_bytes_per_interval);
	if (n->rate_interval_usecs)
		jw_u64(w, "rate_interval_usecs", n->rate_interval_usecs);
	jw_opt_str(w, "gatewaydev", n->gatewaydev);
	if (n->trusted >= 0)
		jw_bool(w, "trusted", n->trusted);
	jw_close(w, '}');
}

static void emit_cpumask(struct jw *w, const struct cpumask *m)
{
	jw_open(w, NULL, '[');
	for (int i = 0; i < DOMCFG_MAX_CPUS; i++)
		if (m->bits[i / 64] & (1ull << (i % 64)))
			jw_int(w, NULL, i);
	jw_close(w, ']');
}

static void emit_c_info(struct jw *w, const struct domain_config *c)
{
	char uuid[37];
	const uint8_t *u = c->uuid;

	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
	jw_open(w, "c_info", '{');
	jw_str(w, "type", dom_type_name(c->type));
	jw_opt_str(w, "name", c->name);
	jw_str(w, "uuid", uuid);
	jw_bool(w, "run_hotplug_scripts", c->run_hotplug_scripts);
	jw_close(w, '}');
}

static void emit_b_info(struct jw *w, const struct domain_config *c)
{
	jw_open(w, "b_info", '{');
	if (c->max_vcpus)
		jw_int(w, "max_vcpus", c->max_vcpus);
	if (c->vcpus > 0) {
		jw_open(w, "avail_vcpus", '[');
		for (int i = 0; i < c->vcpus; i++)
			jw_int(w, NULL, i);
		jw_close(w, ']');
	}
	if (c->num_vcpu_hard_affinity) {
		jw_open(w, "vcpu_hard_affinity", '[');
		for (int i = 0; i < c->num_vcpu_hard_affinity; i++)
			emit_cpumask(w, &c->vcpu_hard_affinity[i]);
		jw_close(w, ']');
	}
	if (c->numa_placement >= 0)
		jw_bool(w, "numa_placement", c->numa_placement);
	if (c->max_memkb != MEMKB_DEFAULT)
		jw_u64(w, "max_memkb", c->max_memkb);
	if (c->target_memkb != MEMKB_DEFAULT)
		jw_u64(w, "target_memkb", c->target_memkb);
	jw_open(w, "sched_params", '{');
	if (c->sched_weight != -1) /* LIBXL_DOMAIN_SCHED_PARAM_*_DEFAULT */
		jw_int(w, "weight", c->sched_weight);
	if (c->sched_cap != -1)
		jw_int(w, "cap", c->sched_cap);
	jw_close(w, '}');
	jw_bool(w, "claim_mode", c->claim_mode);
	jw_opt_str(w, "kernel", c->kernel);
	jw_opt_str(w, "cmdline", c->cmdline);
	jw_opt_str(w, "ramdisk", c->ramdisk);
	jw_opt_str(w, "bootloader", c->bootloader);
	jw_strv(w, "bootloader_args", c->bootloader_args, c->n_bootloader_args);
	switch (c->type) {
	case DOM_TYPE_HVM:
		/* the aggregates of the hvm struct are always printed */
		jw_open(w, "type.hvm", '{');
		jw_open(w, "vga", '{');
		jw_close(w, '}');
		jw_open(w, "vnc", '{');
		jw_close(w, '}');
		jw_open(w, "sdl", '{');
		jw_close(w, '}');
		jw_open(w, "spice", '{');
		jw_close(w, '}');
		if (c->n_serial && !c->serial_is_list)
			jw_str(w, "serial", c->serial[0]);
		if (c->serial_is_list)
			jw_strv(w, "serial_list", c->serial, c->n_serial);
		jw_open(w, "rdm", '{');
		jw_close(w, '}');
		jw_close(w, '}');
		break;
	case DOM_TYPE_PVH:
		jw_open(w, "type.pvh", '{');
		jw_close(w, '}');
		break;
	default:
		jw_open(w, "type.pv", '{');
		jw_close(w, '}');
		break;
	}
	jw_open(w, "arch_arm", '{');
	jw_close(w, '}');
	jw_open(w, "arch_x86", '{');
	jw_close(w, '}');
	jw_close(w, '}');
}

static void emit_config(struct jw *w, const struct domain_config *c)
{
	static const struct {
		const char *key;
		size_t off;
	} actions[] = {
		{ "on_poweroff", offsetof(struct domain_config, on_poweroff) },
		{ "on_reboot", offsetof(struct domain_config, on_reboot) },
		{ "on_watchdog", offsetof(struct domain_config, on_watchdog) },
		{ "on_crash", offsetof(struct domain_config, on_crash) },
		{ "on_soft_reset", offsetof(struct domain_config, on_soft_reset) },
	};

	jw_open(w, NULL, '{');
	emit_c_info(w, c);
	emit_b_info(w, c);
	if (c->n_disks) {
		jw_open(w, "disks", '[');
		for (size_t i = 0; i < c->n_disks; i++)
			emit_disk(w, NULL, &c->disks[i]);
		jw_close(w, ']');
	}
	if (c->n_nics) {
		jw_open(w, "nics", '[');
		for (size_t i = 0; i < c->n_nics; i++)
			emit_nic(w, NULL, &c->nics[i]);
		jw_close(w, ']');
	}
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		enum dom_action a = *(const enum dom_action *)((const char *)c + actions[i].off);

		/* the IDL's init_val is DESTROY */
		if (a != DOM_ACTION_DESTROY)
			jw_str(w, actions[i].key, dom_action_json_name(a));
	}
	jw_close(w, '}');
}

/* Runs emit() into a memory stream; returns the text or NULL. */
static char *render(void (*emit)(struct jw *, const void *), const void *arg)
{
	struct jw w = { 0 };
	char *buf = NULL;
	size_t len = 0;

	w.f = open_memstream(&buf, &len);
	if (!w.f)
		return NULL;
	emit(&w, arg);
	if (fclose(w.f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void emit_config_v(struct jw *w, const void *arg)
{
	emit_config(w, arg);
}

static void emit_disk_v(struct jw *w, const void *arg)
{
	emit_disk(w, NULL, arg);
}

static void emit_nic_v(struct jw *w, const void *arg)
{
	emit_nic(w, NULL, arg);
}

char *domcfg_to_json(const struct domain_config *c)
{
	return render(emit_config_v, c);
}

char *dom_disk_to_json(const struct dom_disk *k)
{
	return render(emit_disk_v, k);
}

char *dom_nic_to_json(const struct dom_nic *n)
{
	return render(emit_nic_v, n);
}
