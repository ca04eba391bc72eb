/* The vif (virtual network interface) back end's control side
 * (docs/netback.md): what the interface is (--nic), the keys it writes
 * before InitWait, its wait for the hotplug script, and the frontend's keys
 * it reads and checks at connect, as Linux 6.1's
 * drivers/net/xen-netback/xenbus.c does.
 *
 * The data path (the netif rings, vmm/net/, and the TAP device) plugs in
 * through the seam below, vif_datapath_*(), which vif_datapath.c fills;
 * tests fill it with fakes.  A connection survives a save as the vbd's
 * does: the rings' positions go in the XENBUS record. */
#ifndef DOMUS_VMM_XENBUS_VIF_H
#define DOMUS_VMM_XENBUS_VIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xb_core.h"

/* One --nic DEVID,IFNAME. */
#define VIF_IFNAMSIZ 16 /* IFNAMSIZ, with its NUL */
struct vif_cfg {
	uint32_t devid; /* the Xen vif number (libxl's devid, "handle") */
	char ifname[VIF_IFNAMSIZ];
};

/* 0, or -EINVAL with the reason in why. */
int vif_parse_arg(const char *arg, struct vif_cfg *out, char *why, size_t wl);

#define VIF_MAX_QUEUES 8 /* netback's MAX_QUEUES_DEFAULT */

struct vif_queue_refs {
	uint32_t tx_ref, rx_ref;
	uint32_t evtchn_tx, evtchn_rx; /* equal: one event channel (no -tx/-rx keys) */
};

/* What the netif frontend asks for (netback connect, connect_data_rings,
 * read_xenbus_vif_flags). */
struct vif_front {
	unsigned nr_queues;
	bool sg, gso_tcpv4, gso_tcpv6;
	bool ip_csum;   /* no feature-no-csum-offload */
	bool ipv6_csum; /* feature-ipv6-csum-offload */
	bool rx_notify;
	struct vif_queue_refs q[VIF_MAX_QUEUES];
};

struct vif_limits {
	unsigned max_queues; /* multi-queue-max-queues, 1..VIF_MAX_QUEUES */
};

int vif_read_front(const struct xb_reader *fe, const struct vif_limits *lim, struct vif_front *out, char *why,
		   size_t wl);

/* The backend keys the toolstack wrote that netback reads at connect. */
struct vif_back {
	uint8_t mac[6];   /* the guest's MAC ("mac", required) */
	bool rate;        /* "rate" parsed: BYTES,USEC */
	uint64_t rate_bytes, rate_usec;
};

/* hotplug-status "connected": 1, and out filled (0: not yet).  -EINVAL
 * naming the key for a mac that does not parse (netback: "parsing
 * <backend>/mac"); a bad rate is "unlimited", as netback's. */
int vif_read_back(const struct xb_reader *be, struct vif_back *out, char *why, size_t wl);

/* Where one queue's rings stopped: equal pairs (a quiesced queue answered
 * all it took). */
struct vif_pos {
	uint32_t tx_req_cons, tx_rsp_prod_pvt, rx_req_cons, rx_rsp_prod_pvt;
};

/* ---- The seam the netif data path fills (vif_datapath.c over vmm/net/).
 * host: what the monitor gave vif_new (a struct vif_host,
 * vif_datapath.h).  Every call but open and close runs on the loop. */
void vif_datapath_limits(struct vif_limits *lim);
/* Creates the TAP device cfg->ifname (at device creation, before the
 * hotplug script looks for it); on failure why names it and says why. */
int vif_datapath_open(void *host, const struct vif_cfg *cfg, void **tap, char *why, size_t wl);
/* The TAP device goes. */
void vif_datapath_close(void *tap);
/* Binds the event channels, maps the rings, attaches the TAP queues and
 * serves.  back: the backend keys read when the hotplug script was done,
 * or after a restore the saved ones (the rate); NULL: unlimited.  pos: NULL for a frontend
 * that connects, else nr_queues saved positions (a restore). */
int vif_datapath_connect(void *host, void *tap, const struct vif_cfg *cfg, const struct vif_front *fe,
			 const struct vif_back *back, const struct vif_pos *pos, void **dp, char *why, size_t wl);
int vif_datapath_quiesce(void *dp);
int vif_datapath_resume(void *dp, char *why, size_t wl);
int vif_datapath_save(void *dp, struct vif_pos pos[VIF_MAX_QUEUES]);
void vif_datapath_disconnect(void *dp);

/* The vif's part of its XENBUS record (docs/netback.md). */
int vif_saved_encode(const struct vif_front *f, const struct vif_back *b, const struct vif_pos *pos, uint8_t *buf,
		     size_t len);
/* b: only the rate comes back. */
int vif_saved_decode(const uint8_t *buf, size_t len, const struct vif_limits *lim, struct vif_front *f,
		     struct vif_back *b, struct vif_pos pos[VIF_MAX_QUEUES]);

struct vif;
extern const struct xb_dev_ops vif_xb_ops;
/* Creates the TAP device too: -errno and why on failure. */
int vif_new(void *host, const struct vif_cfg *cfg, struct vif **out, char *why, size_t wl);
void vif_free(struct vif *v);
const struct vif_cfg *vif_cfg(const struct vif *v);

#endif
