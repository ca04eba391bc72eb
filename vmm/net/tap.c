/* The vif's TAP device (tap.h). */
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* netback's vif: "fe:ff:ff:ff:ff:ff" (interface.c xenvif_alloc: the
 * bridge takes the lowest MAC of its ports, which must be a real NIC's). */
static int set_mac(const char *ifname)
{
	static const unsigned char mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, sizeof(mac));
	if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

int tap_open(const char *ifname, unsigned queue, int *fd, char *why, size_t wl)
{
	struct ifreq ifr = { 0 };
	int f, rc, hdr = 10; /* sizeof(struct virtio_net_hdr) */

	if (strlen(ifname) >= IFNAMSIZ) {
		snprintf(why, wl, "%s: interface names have at most %d characters", ifname, IFNAMSIZ - 1);
		return -ENAMETOOLONG;
	}
	f = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (f < 0) {
		rc = -errno;
		snprintf(why, wl, "%s: /dev/net/tun: %s", ifname, strerror(-rc));
		return rc;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	if (ioctl(f, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		/* EINVAL, EBUSY: a device of that name exists that is not a
		 * multi-queue TAP (tun.c tun_set_iff). */
		snprintf(why, wl, "%s: cannot create the TAP device%s: %s%s", ifname, queue ? " queue" : "",
			 strerror(-rc), rc == -EINVAL || rc == -EBUSY ? " (is the name taken by another device?)" : "");
		goto fail;
	}
	if (ioctl(f, TUNSETVNETHDRSZ, &hdr) < 0) {
		rc = -errno;
		snprintf(why, wl, "%s: TUNSETVNETHDRSZ: %s", ifname, strerror(-rc));
		goto fail;
	}
	if (queue == 0) {
		rc = set_mac(ifname);
		if (rc == 0)
			rc = tap_set_offload(f, 0);
		if (rc < 0) {
			snprintf(why, wl, "%s: setting its MAC address and offloads: %s", ifname, strerror(-rc));
			goto fail;
		}
	}
	*fd = f;
	return 0;
fail:
	close(f);
	return rc;
}

int tap_set_offload(int fd, unsigned tun_flags)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)tun_flags) < 0 ? -errno : 0;
}
