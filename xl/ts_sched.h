/* A domain's share of the host's CPUs: Xen's credit scheduler parameters
 * (xl.cfg cpu_weight and cap, xl sched-credit) carried out by a cgroup v2
 * of the domain's monitor, DIR/domus/<domid> (DIR: DOMUS_CGROUP_ROOT or
 * /sys/fs/cgroup).  The monitor joins it before it runs a vCPU, so every
 * thread it makes (vCPUs, event loop, I/O) and every process it starts
 * (qemu-storage-daemon) is in it: one domain's guest and back-end work
 * together weigh what its weight says against the others, and no more than
 * its cap.  docs/domains.md "CPU share".
 *
 * Xen's meanings (xl.cfg(5), xl(1) sched-credit, xen/common/sched/credit.c):
 * weight 1..65535, 256 by default, shares in proportion to the weights of
 * the runnable domains; cap in percent of one physical CPU (50: half, 400:
 * four), 0 for none.  cgroup v2's cpu.weight (1..10000, 100 by default,
 * Documentation/admin-guide/cgroup-v2.rst) is proportional the same way, so
 * 256 maps to 100 and the ratio is kept (clamped at the ends); cpu.max
 * "QUOTA PERIOD" is a cap per period: cap% of one CPU is cap * 1000 us
 * each 100000 us.  The Xen values are kept in the domain's run directory
 * (file "sched"), since cpu.weight cannot give them back exactly. */
#ifndef DOMUS_XL_TS_SCHED_H
#define DOMUS_XL_TS_SCHED_H

#include <stddef.h>
#include <stdint.h>

#define TS_SCHED_WEIGHT_DEFAULT 256
#define TS_SCHED_PERIOD_US 100000u

struct ts_sched {
	int weight; /* 1..65535 */
	int cap;    /* percent of one CPU, 0: none */
};

/* The cgroup v2 hierarchy to use, or NULL when there is none (not
 * mounted at DIR, as on a cgroup v1 host, or read-only, as in a container)
 * or its cpu controller cannot be had: then domains run with the host's
 * default share and the parameters are only kept. */
const char *ts_sched_root(void);
/* Where the hierarchy is looked for, usable or not (for messages). */
const char *ts_sched_root_path(void);
/* cpu.weight for a credit weight. */
unsigned ts_sched_cg_weight(int weight);
/* cpu.max for a cap: "max 100000", or "QUOTA 100000". */
void ts_sched_cg_max(int cap, char *buf, size_t len);

/* Makes (or takes over, from a domain of that id whose cleanup was cut
 * short) ROOT/domus/<domid> with the cpu controller on, and writes p: 0, or
 * -errno with the file in err. */
int ts_sched_create(const char *root, uint32_t domid, const struct ts_sched *p, char *err, size_t errlen);
/* Writes p into the domain's cgroup: 0, or -errno with the file in err
 * (-ENOENT for a cap the kernel cannot carry out, saying so). */
int ts_sched_apply(const char *root, uint32_t domid, const struct ts_sched *p, char *err, size_t errlen);
/* The calling process joins the domain's cgroup (a child before exec). */
int ts_sched_join(const char *root, uint32_t domid);
/* Removes the domain's cgroup once nothing is in it (EBUSY otherwise). */
int ts_sched_remove(const char *root, uint32_t domid);

/* The Xen values in a run directory's "sched" file: written at create and
 * by xl sched-credit, read by it (a domain without the file has Xen's
 * defaults). */
int ts_sched_store(const char *run_dir, const struct ts_sched *p);
void ts_sched_load(const char *run_dir, struct ts_sched *p);

#endif
