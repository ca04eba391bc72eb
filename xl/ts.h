/* The toolstack part of xl: what libxl does for Xen's xl, kept small
 * (style.md §10: no libxl-sized middle layer).  Each domain has a monitor
 * process (domus-vmm) and a supervisor (a forked xl, as Xen's xl keeps one
 * per domain) that starts it, applies on_poweroff/on_reboot/on_crash and
 * cleans up.  The host's domain table is the set of run directories
 * /run/domus/<domid>/ whose control socket answers. */
#ifndef DOMUS_XL_TS_H
#define DOMUS_XL_TS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cfg/domcfg.h"
#include "domus/ctl_proto.h"

struct xs_handle;
struct xl_ctx;

struct ts_dom {
	uint32_t domid;
	char name[128];
	char uuid[40];
	uint64_t mem_kb;
	int vcpus;
	char state; /* r b p, from the monitor */
	uint64_t cpu_ns;
	int64_t start; /* epoch seconds */
	uint32_t store_port, console_port;
};

/* Paths (DOMUS_RUN_DIR and DOMUS_LOG_DIR move them, for tests). */
const char *ts_run_dir(void);
const char *ts_log_dir(void);
int ts_dom_dir(uint32_t domid, char *buf, size_t len);
void ts_dom_rm_run_dir(uint32_t domid);
int ts_dom_find(const char *spec, uint32_t *domid);
pid_t ts_dom_pid(uint32_t domid, const char *file, const char *comm);
/* A file of a run directory, written whole from fmt: 0 or -errno. */
int ts_dom_write(const char *dir, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* SIGKILL to every process in member's session (not xl's own); 0 or -errno. */
int ts_kill_session(pid_t member);
struct sockaddr_un;
int ts_dom_socket(uint32_t domid, const char *name, struct sockaddr_un *sa);
/* A daemon xl starts (a domain's supervisor, xenstored) closes what it
 * inherited from the user's command line: every descriptor from 3 up that
 * is not close-on-exec (everything xl opens itself is).  Otherwise it holds
 * the user's pipes and fifos open for its whole life, and `xl create cfg |
 * tee log` (or a test feeding a fifo) never sees its end. */
void ts_close_inherited(void);
/* One line of a supervisor's or boot loader's log file: local time, the
 * message, flushed at once (the file is read while the domain runs).
 * Nothing when f is NULL. */
void ts_vflog(FILE *f, const char *fmt, va_list ap);
/* A sibling program of xl (domus-vmm, xenstored): next to xl, in the build
 * tree's layout, or on PATH; DOMUS_VMM / DOMUS_XENSTORED override. */
int ts_find_program(const char *name, const char *env, char *buf, size_t len);

/* One request to a domain's monitor (domus/ctl_proto.h) and its checked
 * reply, whose descriptors (if its type has any) become the caller's:
 * -errno, with the monitor's reason in err (may be NULL) when it refused. */
int ts_control_call(uint32_t domid, const struct ctl_msg *req, struct ctl_msg *rep, char *err, size_t errlen);
/* A request without payload or descriptors: pause, unpause, destroy. */
int ts_control(uint32_t domid, unsigned type);
int ts_dom_info(uint32_t domid, struct ts_dom *d);
/* A /proc/meminfo value in kB (MemAvailable, MemTotal...), or -1 (ts_info.c). */
long long ts_meminfo_kb(const char *key);
/* Live domains sorted by id.  A run directory whose monitor does not answer
 * is skipped, not removed: it may be a domain being created; the next
 * allocation of its id removes it once its processes are gone. */
int ts_dom_list(struct ts_dom **out, size_t *n);
/* By name or numeric id; -ENOENT with a message already printed. */
int ts_dom_lookup(const char *spec, struct ts_dom *d);

/* xenstore: connects, starting the host's xenstored when none runs. */
struct xs_handle *ts_xs_open(void);
int ts_xs_write_domain(struct xs_handle *xs, const struct domain_config *c, const struct ts_dom *d);
void ts_xs_remove_domain(struct xs_handle *xs, uint32_t domid, const char *uuid);

/* Virtual disks (ts_disk.c, docs/xenbus.md).  Checks every disk's target
 * before anything starts; prints what is wrong with each, naming the entry,
 * cfg_file (NULL: the command line) and its line, and what would be valid. */
int ts_disk_check(const struct domain_config *c, const char *cfg_file);
/* The backend directory's kind libxl would choose: "vbd" or "qdisk"
 * (NULL when none fits). */
const char *ts_disk_kind(const struct dom_disk *k);
/* domus-vmm's --disk value: DEVID,KIND,FORMAT,MODE,DEVTYPE,PATH (docs/xenbus.md). */
int ts_disk_vmm_arg(const struct dom_disk *k, char *buf, size_t len);
/* The frontend, backend and /libxl nodes of every disk, in transaction t
 * (xs_transaction_t is an uint32_t in xenstore.h). */
int ts_xs_write_disks(struct xs_handle *xs, uint32_t t, const struct domain_config *c, uint32_t domid);
/* The backend directories and error nodes of the domain's disks. */
void ts_xs_remove_disks(struct xs_handle *xs, uint32_t domid);
/* One disk's nodes (block-attach), in transaction t: -EEXIST when the
 * domain has a disk of that devid. */
int ts_xs_write_disk(struct xs_handle *xs, uint32_t t, const struct domain_config *c, uint32_t domid,
		     const struct dom_disk *k);
/* One disk's frontend, /libxl, backend (be: its path, NULL: unknown) and
 * error nodes (block-detach). */
void ts_xs_remove_disk(struct xs_handle *xs, uint32_t domid, int devid, const char *be);

/* Hot-plug of disks (ts_block.c): the domain's disk is plugged or
 * unplugged as libxl does it, the monitor told (device_add,
 * device_remove) and the domain's kept configuration (its run directory's
 * `config`, what xl save carries) updated.  Errors printed; 0 or 1, the
 * exit status. */
int ts_block_attach(struct xl_ctx *x, const char *dom, const struct dom_disk *k, const char *spec);
int ts_block_detach(const char *dom, const char *vdev, bool force);
int ts_block_list(int argc, char **argv);

/* What the hot-plug commands share (ts_device.c), after libxl_device.c.
 * The domain's hot-plug lock (flock on its run directory): a descriptor
 * or -errno. */
int ts_dev_lock(uint32_t domid);
void ts_dev_unlock(int fd);
long ts_now_ms(void);
/* A node as an int; -1 when absent or not a number (as libxl's getinfo). */
int ts_xs_read_int(struct xs_handle *xs, const char *path);
/* device_add KIND ARG / device_remove KIND DEVID to the domain's monitor;
 * option names arg's option in a message (--disk, --nic). */
int ts_dev_add(uint32_t domid, const char *kind, const char *option, const char *arg, char *err, size_t el);
int ts_dev_remove(uint32_t domid, const char *kind, int devid, int timeout_ms, char *err, size_t el);
/* libxl__initiate_device_generic_remove: online 0 and the backend's state
 * 5 unless it is 6, in one transaction (force: the frontend removed
 * first): 1 when the backend is gone already, 0, or -errno. */
int ts_dev_start_remove(struct xs_handle *xs, const char *fe, const char *be, bool force);
/* The backend's state 6 or its directory gone within timeout_ms:
 * 0 or -ETIMEDOUT, the last state seen in *state. */
int ts_dev_wait_closed(struct xs_handle *xs, const char *be, int timeout_ms, int *state);
#define TS_DESTROY_TIMEOUT_MS (10 * 1000) /* LIBXL_DESTROY_TIMEOUT */
/* The steps block-attach/-detach and network-attach/-detach share: one
 * hot-plug command on one running domain, the device's kind as the
 * monitor knows it, what an attach did so far (undone on failure) and the
 * message printed at the end. */
struct ts_dev_kind {
	const char *kind;   /* the monitor's device kind: "vbd", "vif" */
	const char *option; /* domus-vmm's option for its argument: "--disk", "--nic" */
	int remove_ms;      /* device_remove's wait for the monitor */
};
struct ts_dev_op {
	const char *cmd; /* "block-attach": printed as "xl: block-attach: ..." */
	const struct ts_dev_kind *k;
	char name[300]; /* the device in messages: "disk xvdb", "vif 1" */
	struct ts_dom d;
	int lock;
	struct xs_handle *xs;
	bool added, written; /* the monitor told, the nodes written */
	char err[CTL_ERROR_TEXT_MAX + 600]; /* printed by ts_dev_end() on failure */
};
/* The domain dom and its hot-plug lock: 0, or -errno, said. */
int ts_dev_begin(struct ts_dev_op *op, const char *cmd, const struct ts_dev_kind *k, const char *dom);
/* op->xs: 0, or -ECONNREFUSED in op->err. */
int ts_dev_open_xs(struct ts_dev_op *op);
/* device_add of op's kind with arg (op->added): 0, or -errno with
 * ts_dev_refused()'s message. */
int ts_dev_plug(struct ts_dev_op *op, const char *arg);
/* op->err, the monitor's reason, as its refusal of the device. */
void ts_dev_refused(struct ts_dev_op *op);
/* The device's nodes by write in one transaction, again while xenstored
 * says EAGAIN (op->written): 0, or -errno in op->err (write's -EEXIST
 * included: the caller may say it better). */
int ts_dev_write_nodes(struct ts_dev_op *op, int (*write)(struct xs_handle *xs, uint32_t t, const void *arg),
		       const void *arg);
/* An attach that failed: device_remove of what ts_dev_plug() added, a
 * warning when the monitor does not confirm it. */
void ts_dev_unplug(struct ts_dev_op *op, int devid);
/* A detach: device_remove, a warning unless done or not there. */
void ts_dev_release(struct ts_dev_op *op, int devid);
/* xenstore closed, the lock released; rc < 0: op->err (if any) and the
 * line failed (if any) printed.  The exit status. */
int ts_dev_end(struct ts_dev_op *op, int rc, const char *failed);
/* libxl_domain_qualifier_to_domid(): a number as it is, Domain-0, or a
 * running domain's name; -ENOENT. */
int ts_dom_qualifier(const char *q, uint32_t *domid);

/* Hot-plug of network interfaces (ts_net.c, docs/vif.md "Hot-plug"), as
 * Xen 4.17's xl_nic.c over libxl_nic.c: errors printed; the exit status. */
int ts_net_attach(struct xl_ctx *x, const char *dom, struct dom_nic *n, const char *spec);
int ts_net_detach(struct xl_ctx *x, const char *dom, const char *which);
int ts_net_list(int argc, char **argv);

/* The domain's kept configuration (ts_domcfg.c): its text with one disk
 * more (spec: one disk= entry) or without the disk of devid; written
 * atomically.  Errors printed. */
int ts_domcfg_add_disk(uint32_t domid, const char *spec);
int ts_domcfg_remove_disk(uint32_t domid, int devid);
/* Likewise one vif= entry (spec naming its devid and MAC), or the vif of
 * devid; every vif written back names its devid (devid=), so that none is
 * renumbered. */
int ts_domcfg_add_vif(uint32_t domid, const char *spec);
int ts_domcfg_remove_vif(uint32_t domid, int devid);
/* Reads and parses the kept configuration. */
int ts_domcfg_read(struct xl_ctx *x, uint32_t domid, struct domain_config *c);

/* libxl__xs_path_cleanup(): path, then each parent it leaves empty, up to
 * (not including) stop. */
void ts_xs_path_cleanup(struct xs_handle *xs, const char *path, const char *stop);
/* One directory as libxl__device_generic_add() writes it: perms on the
 * directory (if given), each key with a value, perms on each key (if
 * each); 0 or -errno. */
struct ts_kv {
	const char *key, *value;
};
/* write(xs, t, arg) in one transaction, again while xenstored says EAGAIN
 * (5 tries): 0, or write's -errno (the transaction aborted) or the
 * commit's. */
int ts_xs_transact(struct xs_handle *xs, int (*write)(struct xs_handle *xs, uint32_t t, const void *arg),
		   const void *arg);
struct xs_permissions;
int ts_xs_write_dir(struct xs_handle *xs, uint32_t t, const char *dir, const struct xs_permissions *perms,
		    const struct ts_kv *kv, size_t n, const struct xs_permissions *each);
/* The socket xl reaches xenstored at (XENSTORED_PATH, XENSTORED_RUNDIR, or
 * /run/xenstored/socket), in buf. */
const char *ts_xs_socket_path(char *buf, size_t len);

/* Virtual network interfaces (ts_vif.c, docs/vif.md). */
/* A MAC for every vif without one (00:16:3e and three random bytes, as
 * libxl chooses): called once per `xl create`, so that the domain's reboots
 * keep them. */
int ts_vif_setdefault(struct domain_config *c);
/* Before anything starts: each vif's script is executable, its vifname a
 * valid name, and the bridge vif-bridge would join exists; prints what is
 * wrong with each, naming cfg_file (NULL: the command line), the line and
 * what would be valid. */
int ts_vif_check(const struct domain_config *c, const char *cfg_file);
/* The same for one vif n plugged into a domain of c's type
 * (network-attach), the message naming it by devid. */
int ts_vif_check_nic(const struct domain_config *c, const struct dom_nic *n);
/* The interface domus-vmm creates: vif<domid>.<devid>, as netback names it. */
int ts_vif_ifname(const struct dom_nic *n, uint32_t domid, char *buf, size_t len);
/* domus-vmm's --nic value: DEVID,IFNAME (docs/vif.md). */
int ts_vif_vmm_arg(const struct dom_nic *n, uint32_t domid, char *buf, size_t len);
/* The frontend, backend and /libxl nodes of every vif, in transaction t. */
int ts_xs_write_vifs(struct xs_handle *xs, uint32_t t, const struct domain_config *c, uint32_t domid);
/* The MACs domain domid's vif backends were written with (a restored
 * frontend's, ts_xs_write_vifs) into c, for its next boots. */
void ts_vif_adopt_macs(struct xs_handle *xs, struct domain_config *c, uint32_t domid);
/* The vifs' backend directories and error nodes. */
void ts_xs_remove_vifs(struct xs_handle *xs, uint32_t domid);
/* After the nodes are written and the monitor runs: for each vif, waits
 * for its back end's InitWait, runs its script `online` and checks that it
 * reported hotplug-status connected.  -errno with one line in err (the
 * script's hotplug-error when it gave one). */
int ts_vif_online(struct xs_handle *xs, const struct domain_config *c, uint32_t domid, char *err, size_t errlen);
/* Every vif's script `offline` (after the monitor is gone, before the
 * nodes are removed); the first failure in err, the others still run. */
int ts_vif_offline(struct xs_handle *xs, const struct domain_config *c, uint32_t domid, char *err, size_t errlen);

/* One vif (network-attach, -detach): its nodes in transaction t (-EEXIST
 * when the domain has a vif of that devid); its frontend, /libxl, backend
 * and error nodes removed; its back end's InitWait awaited; its script
 * run online (then hotplug-status connected checked) or offline, as
 * ts_vif_online/offline do, the message naming it by devid. */
int ts_xs_write_vif(struct xs_handle *xs, uint32_t t, uint32_t domid, const struct dom_nic *n);
void ts_xs_remove_vif(struct xs_handle *xs, uint32_t domid, int devid);
int ts_vif_wait_initwait(struct xs_handle *xs, const struct dom_nic *n, uint32_t domid, char *err, size_t errlen);
int ts_vif_online_nic(struct xs_handle *xs, const struct dom_nic *n, uint32_t domid, char *err, size_t errlen);
int ts_vif_offline_nic(struct xs_handle *xs, const struct dom_nic *n, uint32_t domid, char *err, size_t errlen);

/* c has libxl's build defaults (domcfg_set_build_defaults): vcpus and
 * max_vcpus >= 1, max_memkb set. */
/* How a domain starts: its configuration text (kept as `config` in its run
 * directory, for `xl save`), and for `xl restore` the save file at its
 * monitor records and xenstored's export of the saved domain. */
struct ts_start {
	const char *cfg_file;     /* for messages; NULL: unknown */
	const char *cfg_text;
	size_t cfg_len;
	int restore_fd;           /* -1: boot the kernel */
	const void *xs_export;    /* NULL: nothing to import */
	size_t xs_len;
	uint32_t xs_domid;        /* the id the export was taken of */
};

/* Fills what libxl chooses once per domain (the vifs' MACs) into c. */
int ts_create(struct xl_ctx *x, struct domain_config *c, bool console, bool paused,
	      const struct ts_start *st);
int ts_control_call_ms(uint32_t domid, const struct ctl_msg *req, struct ctl_msg *rep, int timeout_ms, char *err,
		       size_t errlen);
int ts_console_attach(uint32_t domid, const char *name);
/* Waits until the domain's run directory is gone (its supervisor cleaned
 * up); timeout_s 0: for ever.  -ETIMEDOUT. */
int ts_wait_gone(uint32_t domid, unsigned timeout_s);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (37 bytes with the NUL). */
void ts_uuid_str(const uint8_t u[16], char *buf, size_t len);
/* xl list -l (ts_listjson.c): Domain-0 (with_dom0) and the domains v as
 * Xen's xl prints them, a JSON array; the exit status. */
int ts_list_long(struct xl_ctx *x, const struct ts_dom *v, size_t n, bool with_dom0);
/* xl save / xl restore (ts_save.c, docs/save-restore.md); errors printed. */
int ts_save(uint32_t domid, const char *file, const char *cfg_file, bool checkpoint, bool leave_paused);
int ts_restore(struct xl_ctx *x, const char *cfg_file, const char *file, bool paused);

#endif
