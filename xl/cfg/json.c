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

#include "domus/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libxl's defbool: the strings "True" and "False", not JSON's literals. */
static void defbool(struct json_writer *w, const char *key, bool v)
{
	json_string(w, key, v ? "True" : "False");
}

static void opt_str(struct json_writer *w, const char *key, const char *s)
{
	if (s)
		json_string(w, key, s);
}

static void strv(struct json_writer *w, const char *key, char *const *v, size_t n)
{
	if (!n)
		return;
	json_array_open(w, key);
	for (size_t i = 0; i < n; i++)
		json_string(w, NULL, v[i]);
	json_close(w);
}

/* An aggregate libxl always prints, here without members. */
static void empty_object(struct json_writer *w, const char *key)
{
	json_object_open(w, key);
	json_close(w);
}

static void emit_disk(struct json_writer *w, const char *key, const struct dom_disk *k)
{
	json_object_open(w, key);
	opt_str(w, "backend_domname", k->backend_domname);
	opt_str(w, "pdev_path", k->pdev_path);
	opt_str(w, "vdev", k->vdev);
	if (k->backend)
		json_string(w, "backend", disk_backend_name(k->backend));
	if (k->format)
		json_string(w, "format", disk_format_name(k->format));
	opt_str(w, "script", k->script);
	if (k->removable)
		json_int(w, "removable", 1);
	if (k->readwrite)
		json_int(w, "readwrite", 1);
	if (k->is_cdrom)
		json_int(w, "is_cdrom", 1);
	if (k->direct_io_safe) /* an IDL bool: yajl_gen_bool, not a defbool string */
		json_bool(w, "direct_io_safe", true);
	if (k->discard >= 0)
		defbool(w, "discard_enable", k->discard);
	json_close(w);
}

static void emit_nic(struct json_writer *w, const char *key, const struct dom_nic *n)
{
	char mac[18];

	json_object_open(w, key);
	opt_str(w, "backend_domname", n->backend_domname);
	if (n->devid != -1) /* libxl_device_nic devid init_val is -1 */
		json_int(w, "devid", n->devid);
	if (n->mtu)
		json_int(w, "mtu", n->mtu);
	opt_str(w, "model", n->model);
	if (n->mac_set) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
			 n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		json_string(w, "mac", mac);
	}
	opt_str(w, "ip", n->ip);
	opt_str(w, "bridge", n->bridge);
	opt_str(w, "ifname", n->ifname);
	opt_str(w, "script", n->script);
	if (n->nictype)
		json_string(w, "nictype", nic_type_name(n->nictype));
	if (n->rate_bytes_per_interval)
		json_uint(w, "rate_bytes_per_interval", n->rate_bytes_per_interval);
	if (n->rate_interval_usecs)
		json_uint(w, "rate_interval_usecs", n->rate_interval_usecs);
	opt_str(w, "gatewaydev", n->gatewaydev);
	if (n->trusted >= 0)
		defbool(w, "trusted", n->trusted);
	json_close(w);
}

static void emit_cpumask(struct json_writer *w, const struct cpumask *m)
{
	json_array_open(w, NULL);
	for (int i = 0; i < DOMCFG_MAX_CPUS; i++)
		if (m->bits[i / 64] & (1ull << (i % 64)))
			json_int(w, NULL, i);
	json_close(w);
}

static void emit_c_info(struct json_writer *w, const struct domain_config *c)
{
	static const uint8_t nil[16];
	char uuid[37];
	const uint8_t *u = c->uuid;

	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
	json_object_open(w, "c_info");
	json_string(w, "type", dom_type_name(c->type));
	opt_str(w, "name", c->name);
	if (memcmp(c->uuid, nil, sizeof(nil)) != 0) /* a nil uuid is libxl's default */
		json_string(w, "uuid", uuid);
	defbool(w, "run_hotplug_scripts", c->run_hotplug_scripts);
	json_close(w);
}

static void emit_b_info(struct json_writer *w, const struct domain_config *c)
{
	json_object_open(w, "b_info");
	if (c->max_vcpus)
		json_int(w, "max_vcpus", c->max_vcpus);
	if (c->vcpus > 0) {
		json_array_open(w, "avail_vcpus");
		for (int i = 0; i < c->vcpus; i++)
			json_int(w, NULL, i);
		json_close(w);
	}
	if (c->num_vcpu_hard_affinity) {
		json_array_open(w, "vcpu_hard_affinity");
		for (int i = 0; i < c->num_vcpu_hard_affinity; i++)
			emit_cpumask(w, &c->vcpu_hard_affinity[i]);
		json_close(w);
	}
	if (c->numa_placement >= 0)
		defbool(w, "numa_placement", c->numa_placement);
	if (c->max_memkb != MEMKB_DEFAULT)
		json_uint(w, "max_memkb", c->max_memkb);
	if (c->target_memkb != MEMKB_DEFAULT)
		json_uint(w, "target_memkb", c->target_memkb);
	json_object_open(w, "sched_params");
	if (c->sched_weight != -1) /* LIBXL_DOMAIN_SCHED_PARAM_*_DEFAULT */
		json_int(w, "weight", c->sched_weight);
	if (c->sched_cap != -1)
		json_int(w, "cap", c->sched_cap);
	json_close(w);
	defbool(w, "claim_mode", c->claim_mode);
	opt_str(w, "kernel", c->kernel);
	opt_str(w, "cmdline", c->cmdline);
	opt_str(w, "ramdisk", c->ramdisk);
	opt_str(w, "bootloader", c->bootloader);
	strv(w, "bootloader_args", c->bootloader_args, c->n_bootloader_args);
	switch (c->type) {
	case DOM_TYPE_HVM:
		/* the aggregates of the hvm struct are always printed */
		json_object_open(w, "type.hvm");
		empty_object(w, "vga");
		empty_object(w, "vnc");
		empty_object(w, "sdl");
		empty_object(w, "spice");
		if (c->n_serial && !c->serial_is_list)
			json_string(w, "serial", c->serial[0]);
		if (c->serial_is_list)
			strv(w, "serial_list", c->serial, c->n_serial);
		empty_object(w, "rdm");
		json_close(w);
		break;
	case DOM_TYPE_PVH:
		empty_object(w, "type.pvh");
		break;
	default:
		empty_object(w, "type.pv");
		break;
	}
	empty_object(w, "arch_arm");
	empty_object(w, "arch_x86");
	json_close(w);
}

void domcfg_json_write(struct json_writer *w, const char *key, const struct domain_config *c)
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

	json_object_open(w, key);
	emit_c_info(w, c);
	emit_b_info(w, c);
	if (c->n_disks) {
		json_array_open(w, "disks");
		for (size_t i = 0; i < c->n_disks; i++)
			emit_disk(w, NULL, &c->disks[i]);
		json_close(w);
	}
	if (c->n_nics) {
		json_array_open(w, "nics");
		for (size_t i = 0; i < c->n_nics; i++)
			emit_nic(w, NULL, &c->nics[i]);
		json_close(w);
	}
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		enum dom_action a = *(const enum dom_action *)((const char *)c + actions[i].off);

		/* the IDL's init_val is DESTROY */
		if (a != DOM_ACTION_DESTROY)
			json_string(w, actions[i].key, dom_action_json_name(a));
	}
	json_close(w);
}

/* Runs emit() into a memory stream; returns the text or NULL. */
static char *render(void (*emit)(struct json_writer *, const void *), const void *arg)
{
	struct json_writer w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return NULL;
	json_init(&w, f);
	emit(&w, arg);
	rc = json_end(&w);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void emit_config_v(struct json_writer *w, const void *arg)
{
	domcfg_json_write(w, NULL, arg);
}

static void emit_disk_v(struct json_writer *w, const void *arg)
{
	emit_disk(w, NULL, arg);
}

static void emit_nic_v(struct json_writer *w, const void *arg)
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
