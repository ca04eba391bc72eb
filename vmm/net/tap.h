/* The host side of a vif: a TAP device made by the monitor itself
 * (docs/netback.md), with a virtio-net header on every packet and one
 * descriptor per queue (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
 * IFF_MULTI_QUEUE).  It is not persistent: it goes when its last
 * descriptor closes, so with the monitor. */
#ifndef DOMUS_VMM_NET_TAP_H
#define DOMUS_VMM_NET_TAP_H

#include <stddef.h>

/* Creates ifname (its first queue; MAC fe:ff:ff:ff:ff:ff, as netback's
 * vif has, so the bridge never takes it for its own address) or, queue >
 * 0, attaches one more queue to it.  A non-blocking descriptor in *fd; on
 * failure -errno and the reason in why. */
int tap_open(const char *ifname, unsigned queue, int *fd, char *why, size_t wl);
/* TUNSETOFFLOAD: what the host may hand us (TUN_F_CSUM, TUN_F_TSO4,
 * TUN_F_TSO6); the device's, for all its queues. */
int tap_set_offload(int fd, unsigned tun_flags);

#endif
