/* The netif ABI from Debian's libxen-dev (xen/io/netif.h, xen/io/ring.h) and
 * the virtio-net header of the TAP side (linux/virtio_net.h).  Only the
 * native x86_64 layout exists for netif: its structures have no padding
 * that differs between 32 and 64 bits. */
#ifndef DOMUS_VMM_NET_ABI_H
#define DOMUS_VMM_NET_ABI_H

#include <stddef.h>

#include "xen/xen_abi.h"
#include <linux/virtio_net.h>
#include <xen/io/netif.h>

_Static_assert(sizeof(netif_tx_request_t) == 12, "netif tx request");
_Static_assert(sizeof(union netif_tx_sring_entry) == 12, "netif tx slot");
_Static_assert(sizeof(union netif_rx_sring_entry) == 8, "netif rx slot");
_Static_assert(sizeof(netif_extra_info_t) == 8, "netif extra info");
_Static_assert(offsetof(struct netif_tx_sring, ring) == offsetof(struct netif_rx_sring, ring), "ring headers");
_Static_assert(sizeof(struct virtio_net_hdr) == 10, "the TAP's vnet header (TUNSETVNETHDRSZ default)");

#define NET_PAGE 4096u
/* __CONST_RING_SIZE(netif_tx/rx, 4096): 256 each. */
#define NET_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, NET_PAGE)
#define NET_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, NET_PAGE)

#endif
