/* The vbd (virtual block device) back end's control side (docs/xenbus.md):
 * what the disk is (--disk), the keys it writes before InitWait and at
 * connect, and the frontend's keys it reads and checks at connect, as
 * Linux 6.1's drivers/block/xen-blkback/xenbus.c does.
 *
 * The data path (the blkif rings and the I/O engine, vmm/blk/) plugs in
 * through the seam below, vbd_datapath_*(), which vbd_datapath.c fills;
 * tests fill it with fakes.  A connection survives a save: the vbd
 * quiesces its data path, saves the rings' positions in its XENBUS record,
 * and resumes (or, restored, connects from the record) without a
 * handshake. */
#ifndef DOMUS_VMM_XENBUS_VBD_H
#define DOMUS_VMM_XENBUS_VBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xb_core.h"

/* One --disk DEVID,KIND,FORMAT,MODE,DEVTYPE,PATH (xl/ts_disk.c
 * ts_disk_vmm_arg); PATH is the rest of the value, commas and all. */
struct vbd_cfg {
	uint32_t devid;      /* the Xen disk number (virtual-device) */
	char kind[8];        /* the backend directory: "vbd" or "qdisk" */
	char format[8];      /* raw, qcow2, vhd, empty */
	bool readwrite;
	bool cdrom;          /* device-type cdrom */
	char path[4096];     /* "" for an empty cdrom drive */
	/* qcow2 and vhd: the image as a raw file, which the data path opens
	 * instead of path (qemu-storage-daemon's export, vmm/blk/qsd.h; the
	 * monitor sets it); "": no such view, the format is refused. */
	char store[512];
};

/* 0, or -EINVAL with the reason in why. */
int vbd_parse_arg(const char *arg, struct vbd_cfg *out, char *why, size_t wl);

/* What the blkif frontend asks for (blkback connect_ring, read_per_ring_refs). */
#define VBD_MAX_QUEUES 16
#define VBD_MAX_RING_ORDER 4 /* XENBUS_MAX_RING_GRANT_ORDER: 16 pages */

enum vbd_protocol { VBD_PROTO_X86_64 = 0, VBD_PROTO_X86_32 = 1 };

struct vbd_ring_refs {
	uint32_t evtchn;
	uint32_t ref[1u << VBD_MAX_RING_ORDER]; /* nr_ring_pages of them */
};

struct vbd_front {
	unsigned nr_queues;
	unsigned nr_ring_pages;
	bool multi_ref;        /* ring-ref%u (ring-page-order given) or ring-ref */
	bool persistent;       /* feature-persistent */
	enum vbd_protocol protocol;
	struct vbd_ring_refs rings[VBD_MAX_QUEUES];
};

/* What the data path can do: written before InitWait. */
struct vbd_limits {
	unsigned max_queues;          /* multi-queue-max-queues, >= 1 */
	unsigned max_ring_page_order; /* max-ring-page-order */
	unsigned max_indirect_segs;   /* feature-max-indirect-segments; 0: not written */
	bool persistent;              /* grants may stay mapped (feature-persistent) */
};

/* Reads and checks the frontend's keys within lim; every error says which
 * key (as blkback's xenbus_dev_fatal messages do). */
int vbd_read_front(const struct xb_reader *fe, const struct vbd_limits *lim, struct vbd_front *out, char *why,
		   size_t wl);

/* What the data path reports once connected: the connect-time keys. */
struct vbd_disk_info {
	uint64_t sectors;       /* in 512-byte units */
	unsigned sector_size, physical_sector_size;
	bool flush_cache, discard;
};

struct vbd;

/* Where one queue's ring stopped (blkback_pos): with the frontend's keys,
 * all a restore needs to serve the same ring without a reconnect. */
struct vbd_pos {
	uint32_t req_cons, rsp_prod_pvt;
};

/* ---- The seam the blkif data path fills (vbd_datapath.c over vmm/blk/) ----
 * host: what the monitor gave vbd_new (a struct vbd_host, vbd_datapath.h).
 * Every call runs on the event loop thread. */
void vbd_datapath_limits(struct vbd_limits *lim);
/* Opens the image, binds the event channels, maps the rings and serves;
 * fills info.  pos: NULL for a frontend that connects; else fe->nr_queues
 * positions of a saved connection (a restore), whose ports the loaded
 * event-channel table already has.  On failure nothing is held and why
 * says what. */
int vbd_datapath_connect(void *host, const struct vbd_cfg *cfg, const struct vbd_front *fe,
			 const struct vbd_pos *pos, void **dp, struct vbd_disk_info *info, char *why, size_t wl);
/* Before a save: finish everything in flight and unmap every grant, the
 * rings' too; the ports stay bound.  0, or -errno when the I/O engine
 * failed (then mappings of unfinished requests stay held). */
int vbd_datapath_quiesce(void *dp);
/* Map the rings again and serve from where quiesce stopped. */
int vbd_datapath_resume(void *dp, char *why, size_t wl);
/* The positions of a quiesced data path, one per queue (-EBUSY if not
 * quiesced). */
int vbd_datapath_save(void *dp, struct vbd_pos pos[VBD_MAX_QUEUES]);
/* Drains in-flight requests, unmaps, unbinds, closes; dp NULL: nothing. */
void vbd_datapath_disconnect(void *dp);

/* The vbd's part of its XENBUS record (docs/xenbus.md): the frontend's
 * keys as connected and each queue's position.  encode: the length, or
 * -ENOSPC; decode: -EINVAL for bytes no connection within lim has. */
int vbd_saved_encode(const struct vbd_front *f, const struct vbd_pos *pos, uint8_t *buf, size_t len);
int vbd_saved_decode(const uint8_t *buf, size_t len, const struct vbd_limits *lim, struct vbd_front *f,
		     struct vbd_pos pos[VBD_MAX_QUEUES]);

/* A vbd instance: its xb_dev_ops take the struct vbd as dev. */
extern const struct xb_dev_ops vbd_xb_ops;
int vbd_new(void *host, const struct vbd_cfg *cfg, struct vbd **out);
void vbd_free(struct vbd *v);
const struct vbd_cfg *vbd_cfg(const struct vbd *v);

#endif
