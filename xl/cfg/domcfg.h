/* The typed domain configuration: what libxl_domain_config is to Xen's xl
 * (tools/libs/light/libxl_types.idl), cut down to what domus supports.
 * Filled from a parsed xl.cfg by domcfg_from_cfg(); printed as libxl-shaped
 * JSON by domcfg_json.c; later read by `xl create` and domus-vmm.
 *
 * Enum values and names follow libxl_types.idl so that the JSON strings
 * and any later xenstore values match Xen's; they are our own types (this
 * is toolstack configuration, not Xen ABI, and domus does not link libxl). */
#ifndef DOMUS_XLCFG_DOMCFG_H
#define DOMUS_XLCFG_DOMCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "syntax.h"

/* libxl_domain_type */
enum dom_type { DOM_TYPE_HVM = 1, DOM_TYPE_PV = 2, DOM_TYPE_PVH = 3 };

/* libxl_action_on_shutdown; the xl.cfg spelling uses '-', JSON uses '_'. */
enum dom_action {
	DOM_ACTION_DESTROY = 1,
	DOM_ACTION_RESTART,
	DOM_ACTION_RENAME_RESTART,
	DOM_ACTION_PRESERVE,
	DOM_ACTION_COREDUMP_DESTROY,
	DOM_ACTION_COREDUMP_RESTART,
	DOM_ACTION_SOFT_RESET,
};

/* libxl_disk_format, libxl_disk_backend */
enum disk_format {
	DISK_FORMAT_UNKNOWN = 0, DISK_FORMAT_QCOW, DISK_FORMAT_QCOW2, DISK_FORMAT_VHD,
	DISK_FORMAT_RAW, DISK_FORMAT_EMPTY, DISK_FORMAT_QED,
};
enum disk_backend {
	DISK_BACKEND_UNKNOWN = 0, DISK_BACKEND_PHY, DISK_BACKEND_TAP, DISK_BACKEND_QDISK,
	DISK_BACKEND_STANDALONE,
};

/* libxl_nic_type */
enum nic_type { NIC_TYPE_UNKNOWN = 0, NIC_TYPE_VIF_IOEMU, NIC_TYPE_VIF };

/* Sanity limits: values beyond these are typos, not configurations. */
#define DOMCFG_MAX_MEMORY_MB (16u * 1024 * 1024) /* 16 TiB */
#define DOMCFG_MAX_CPUS 1024			 /* host CPUs in cpus= */
#define DOMCFG_MAX_DISKS 256
#define DOMCFG_MAX_NICS 64

struct dom_disk {
	char *pdev_path;       /* target; "" for an empty cdrom drive */
	char *vdev;
	int devid;	       /* Xen disk number of vdev (libxl__device_disk_dev_number) */
	enum disk_format format;
	enum disk_backend backend;
	char *script;
	char *backend_domname;
	bool readwrite, is_cdrom, removable;
	bool direct_io_safe;
	int discard;	       /* -1 default, 0 no-discard, 1 discard */
	unsigned line;	       /* where it was configured, for later errors */
};

struct dom_nic {
	int devid;	       /* -1: not chosen (network-attach) */
	uint8_t mac[6];
	bool mac_set;
	char *bridge, *ip, *script, *ifname, *model, *backend_domname, *gatewaydev;
	enum nic_type nictype;
	int mtu;
	int trusted;	       /* -1 default, 0 untrusted, 1 trusted (a hint to the backend) */
	uint64_t rate_bytes_per_interval;
	uint32_t rate_interval_usecs;
	unsigned line;
};

struct cpumask {
	uint64_t bits[DOMCFG_MAX_CPUS / 64];
};

/* The xl.conf global defaults (xl.conf(5)); a struct, not globals. */
enum xl_autoballoon { XL_AUTOBALLOON_AUTO = -1, XL_AUTOBALLOON_OFF, XL_AUTOBALLOON_ON };
struct xl_defaults {
	int autoballoon;	    /* enum xl_autoballoon */
	bool run_hotplug_scripts;   /* default 1 */
	bool claim_mode;	    /* default 1 */
	char *lockfile;		    /* default /var/lock/xl */
	char *vif_script, *vif_bridge, *vif_gatewaydev, *vif_backend;
	char *blkdev_start;
};

#define MEMKB_DEFAULT UINT64_MAX /* LIBXL_MEMKB_DEFAULT */

struct domain_config {
	/* c_info */
	enum dom_type type;
	char *name;
	uint8_t uuid[16];
	bool run_hotplug_scripts;
	/* b_info */
	int max_vcpus;		/* 0: unset */
	int vcpus;		/* avail_vcpus = [0, vcpus) */
	struct cpumask *vcpu_hard_affinity; /* one per vCPU, or NULL */
	int num_vcpu_hard_affinity;
	int numa_placement;	/* -1 default, 0 false, 1 true */
	uint64_t max_memkb, target_memkb;
	int sched_weight, sched_cap; /* -1: default */
	bool claim_mode;
	char *kernel, *cmdline, *ramdisk, *bootloader;
	unsigned bootloader_line; /* where bootloader= was, for later errors; 0: command line */
	char **bootloader_args;
	size_t n_bootloader_args;
	char **serial;		/* serial= (a list or one string) */
	size_t n_serial;
	bool serial_is_list;	/* libxl keeps a string in hvm.serial, a list in serial_list */
	/* devices */
	struct dom_disk *disks;
	size_t n_disks;
	struct dom_nic *nics;
	size_t n_nics;
	enum dom_action on_poweroff, on_reboot, on_watchdog, on_crash, on_soft_reset;
};

void domcfg_init(struct domain_config *c);
void domcfg_dispose(struct domain_config *c);

void xl_defaults_init(struct xl_defaults *x);
void xl_defaults_dispose(struct xl_defaults *x);
/* Fills x from a parsed xl.conf; unknown keys are warned about. */
int xl_defaults_from_cfg(struct xl_defaults *x, const struct cfg_file *f, struct cfg_diag *d);

/* The semantic pass: every key of f through its handler in the key table,
 * then the cross-key checks (memory <= maxmem, vcpus <= maxvcpus, a kernel
 * or bootloader, duplicate vdevs).  uuid_random supplies the uuid when the
 * file has none (16 bytes; the caller chooses the source).
 * Returns 0 or -EINVAL after reporting every problem through d. */
int domcfg_from_cfg(struct domain_config *c, const struct cfg_file *f,
		    const struct xl_defaults *xd, const uint8_t uuid_random[16],
		    struct cfg_diag *d);

/* The defaults libxl applies when it builds the domain, after xl has
 * printed its dry run (libxl_create.c: libxl__domain_build_info_setdefault):
 * 1 vCPU, 32 MiB, target = max.  For `xl create`, not for -N's JSON. */
void domcfg_set_build_defaults(struct domain_config *c);

/* Disk and vif specs (disk.c, vif.c).  field names the spec in messages,
 * e.g. "disk[1]"; line 0 when it comes from the command line. */
void dom_disk_init(struct dom_disk *k);
void dom_disk_dispose(struct dom_disk *k);
int dom_disk_parse(struct dom_disk *k, const char *const *specs, size_t nspecs,
		   struct cfg_diag *d, const char *source, unsigned line, const char *field);
/* Xen's disk number for a vdev name (xvdN, sdN, hdN, dNpN, dN), or -EINVAL.
 * Mirrors libxl__device_disk_dev_number() in tools/libs/light/libxl_device.c. */
int dom_vdev_to_devid(const char *vdev, int *disk, int *partition);

void dom_nic_init(struct dom_nic *n);
void dom_nic_dispose(struct dom_nic *n);
void dom_nic_apply_defaults(struct dom_nic *n, const struct xl_defaults *xd);
/* One "key=value[,key=value...]" string; may be called for several tokens. */
int dom_nic_parse(struct dom_nic *n, const char *spec, struct cfg_diag *d, const char *source,
		  unsigned line, const char *field);
int dom_mac_parse(const char *s, uint8_t mac[6]);

/* Strings of the enums as libxl's JSON spells them. */
const char *dom_type_name(enum dom_type t);
const char *dom_action_json_name(enum dom_action a);
const char *disk_format_name(enum disk_format f);
const char *disk_backend_name(enum disk_backend b);
const char *nic_type_name(enum nic_type t);

/* JSON in the shape of libxl_domain_config_to_json() (domcfg_json.c).
 * Return a malloc'd string or NULL on ENOMEM. */
char *domcfg_to_json(const struct domain_config *c);
char *dom_disk_to_json(const struct dom_disk *k);
char *dom_nic_to_json(const struct dom_nic *n);
/* The same object as member key (NULL: an array item or the top value) of
 * what w is writing (domus/json.h): `xl list -l` nests it. */
struct json_writer;
void domcfg_json_write(struct json_writer *w, const char *key, const struct domain_config *c);

/* The key table, for documentation (xl.cfg(5)) and tests. */
enum cfg_key_support { KEY_SUPPORTED, KEY_IGNORED_WARN, KEY_REFUSED };
struct cfg_key_doc {
	const char *key;
	enum cfg_key_support support;
	const char *doc;
};
/* The i-th key of the table; -ENOENT past the end. */
int domcfg_key_doc(size_t i, struct cfg_key_doc *out);
int domcfg_uuid_parse(const char *s, uint8_t uuid[16]);

#endif
