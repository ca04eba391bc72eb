/* The vif's TAP device (vmm/net/tap.c) for real: made with its MAC
 * fe:ff:ff:ff:ff:ff, a second queue attached, offloads set, a frame with
 * its virtio-net header refused while the device is down, and the device gone with its last
 * descriptor; up, a frame sent on it read from a queue with its header
 * and one written accepted; a name too long or taken by another kind of device refused
 * with a one-line reason.  Skipped (77) where /dev/net/tun cannot be used
 * (no CAP_NET_ADMIN, no tun module). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/tap.h"

#define CHECK(c)                                                              \
	do {                                                                  \
		if (!(c)) {                                                   \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
			return 1;                                             \
		}                                                             \
	} while (0)

int main(void)
{
	char name[IFNAMSIZ], why[256] = "";
	int fd0, fd1, s, rc;
	struct ifreq ifr = { 0 };
	struct virtio_net_hdr h = { 0 };
	unsigned char frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x16, 0x3e, 0, 0, 1, 0x08, 0x06 };
	struct iovec iov[2] = { { &h, sizeof(h) }, { frame, sizeof(frame) } };

	snprintf(name, sizeof(name), "dmtap%d", (int)getpid() % 100000);
	rc = tap_open(name, 0, &fd0, why, sizeof(why));
	if (rc == -EPERM || rc == -EACCES || rc == -ENOENT || rc == -ENODEV) {
		printf("skipped: %s\n", why);
		return 77;
	}
	CHECK(rc == 0);
	CHECK(if_nametoindex(name) != 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	CHECK(ioctl(s, SIOCGIFHWADDR, &ifr) == 0);
	CHECK(memcmp(ifr.ifr_hwaddr.sa_data, "\xfe\xff\xff\xff\xff\xff", 6) == 0);
	CHECK(tap_open(name, 1, &fd1, why, sizeof(why)) == 0);
	CHECK(tap_set_offload(fd0, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0);
	/* the device is down (the hotplug script brings it up): refused, which
	 * the data path counts as dropped by the host */
	CHECK(writev(fd0, iov, 2) < 0 && errno == EIO);
	/* nothing to read on a down device */
	CHECK(read(fd1, frame, sizeof(frame)) < 0 && errno == EAGAIN);
	/* up: a frame the host sends on it comes out of one of the queues
	 * with its header, and one written goes into the host */
	CHECK(ioctl(s, SIOCGIFFLAGS, &ifr) == 0);
	ifr.ifr_flags |= IFF_UP;
	CHECK(ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
	{
		int p = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
		struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
					   .sll_ifindex = (int)if_nametoindex(name) };
		struct pollfd pf[2] = { { .fd = fd0, .events = POLLIN }, { .fd = fd1, .events = POLLIN } };
		unsigned char out[60], in[100];
		struct virtio_net_hdr got;
		struct iovec riov[2] = { { &got, sizeof(got) }, { in, sizeof(in) } };
		ssize_t n = -1;

		CHECK(p >= 0);
		CHECK(bind(p, (struct sockaddr *)&sll, sizeof(sll)) == 0);
		memcpy(out, frame, sizeof(out));
		out[59] = 0x5a;
		CHECK(send(p, out, sizeof(out), 0) == (ssize_t)sizeof(out));
		/* the kernel may send its own frames (IPv6 ND) first */
		for (int tries = 0; tries < 20 && n != (ssize_t)(sizeof(got) + sizeof(out)); tries++) {
			CHECK(poll(pf, 2, 2000) > 0);
			n = readv(pf[0].revents & POLLIN ? fd0 : fd1, riov, 2);
			if (n == (ssize_t)(sizeof(got) + sizeof(out)) && memcmp(in, out, sizeof(out)) != 0)
				n = -1;
		}
		CHECK(n == (ssize_t)(sizeof(got) + sizeof(out)));
		CHECK(got.gso_type == VIRTIO_NET_HDR_GSO_NONE);
		CHECK(writev(fd0, iov, 2) == (ssize_t)(sizeof(h) + sizeof(frame)));
		close(p);
	}
	close(fd1);
	close(fd0);
	CHECK(if_nametoindex(name) == 0);
	/* a name too long; "lo" is not a TAP */
	CHECK(tap_open("abcdefghijklmnopq", 0, &fd0, why, sizeof(why)) == -ENAMETOOLONG);
	CHECK(strstr(why, "abcdefghijklmnopq") != NULL);
	rc = tap_open("lo", 0, &fd0, why, sizeof(why));
	CHECK(rc < 0);
	CHECK(strncmp(why, "lo: cannot create the TAP device: ", 34) == 0);
	printf("%s\n", why);
	close(s);
	return 0;
}
