/* Simulated guest and monitor ends of a xenstore ring (see guestsim.h). */
#include "guestsim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "domus/ring_proto.h"

int guest_init(struct guest *g, unsigned domid)
{
	char *mem;

	memset(g, 0, sizeof(*g));
	g->domid = domid;
	g->mon = -1;
	g->memfd = memfd_create("guestram", MFD_ALLOW_SEALING);
	if (g->memfd < 0 || ftruncate(g->memfd, 3 * 4096) < 0 ||
	    fcntl(g->memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		return -1;
	mem = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	if (mem == MAP_FAILED)
		return -1;
	g->intf = (void *)(mem + 4096);
	g->kick_in = eventfd(0, EFD_NONBLOCK);
	g->kick_out = eventfd(0, EFD_NONBLOCK);
	return (g->kick_in < 0 || g->kick_out < 0) ? -1 : 0;
}

int guest_handover(struct guest *g, const char *gsock, uint32_t flags)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xsd_ring_attach a = { XSD_RING_MAGIC, XSD_RING_VERSION, g->domid, flags, 4096 };
	struct xsd_ring_reply rep;
	int fds[XSD_RING_NFDS];
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { &a, sizeof(a) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	if (g->mon >= 0)
		close(g->mon);
	g->mon = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", gsock);
	if (connect(g->mon, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	fds[XSD_RING_FD_MEM] = g->memfd;
	fds[XSD_RING_FD_KICK_IN] = g->kick_in;
	fds[XSD_RING_FD_KICK_OUT] = g->kick_out;
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(g->mon, &mh, 0) != sizeof(a) || recv(g->mon, &rep, sizeof(rep), 0) != sizeof(rep))
		return -1;
	return rep.status;
}

void guest_kick(struct guest *g)
{
	uint64_t one = 1;

	if (write(g->kick_in, &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

/* Write bytes into the request ring (guest side), waiting for room. */
int guest_put(struct guest *g, const void *p, size_t n)
{
	const char *s = p;

	for (int spins = 0; n && spins < 2000; spins++) {
		uint32_t cons = __atomic_load_n(&g->intf->req_cons, __ATOMIC_ACQUIRE);
		uint32_t prod = g->intf->req_prod;
		size_t room = XENSTORE_RING_SIZE - (prod - cons), k = 0;

		while (k < n && k < room) {
			g->intf->req[MASK_XENSTORE_IDX(prod + k)] = s[k];
			k++;
		}
		__atomic_store_n(&g->intf->req_prod, prod + (uint32_t)k, __ATOMIC_SEQ_CST);
		s += k;
		n -= k;
		/* Linux (xenbus_comms.c xb_write) notifies only when xenstored had
		 * consumed everything before this write. */
		if (!g->linux_kicks || prod <= __atomic_load_n(&g->intf->req_cons, __ATOMIC_SEQ_CST))
			guest_kick(g);
		if (n)
			usleep(1000);
	}
	return n ? -1 : 0;
}

int guest_send(struct guest *g, uint32_t type, const void *body, uint32_t len)
{
	return guest_send_tx(g, type, 0, body, len);
}

int guest_send_tx(struct guest *g, uint32_t type, uint32_t tx_id, const void *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = ++g->req_id, .tx_id = tx_id, .len = len };

	if (guest_put(g, &h, sizeof(h)) < 0)
		return -1;
	return guest_put(g, body, len);
}

/* Read n bytes from the response ring within timeout_ms. */
int guest_get(struct guest *g, void *p, size_t n, int timeout_ms)
{
	char *d = p;
	struct pollfd pf = { .fd = g->kick_out, .events = POLLIN };
	uint64_t v;

	while (n) {
		uint32_t prod = __atomic_load_n(&g->intf->rsp_prod, __ATOMIC_ACQUIRE);
		uint32_t cons = g->intf->rsp_cons;

		while (cons != prod && n) {
			*d++ = g->intf->rsp[MASK_XENSTORE_IDX(cons)];
			cons++;
			n--;
		}
		__atomic_store_n(&g->intf->rsp_cons, cons, __ATOMIC_RELEASE);
		guest_kick(g);
		if (!n)
			break;
		if (poll(&pf, 1, timeout_ms) != 1)
			return -1;
		if (read(g->kick_out, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -1;
	}
	return 0;
}

/* Next message: type returned, body NUL-terminated in buf. */
int guest_recv(struct guest *g, char *buf, int timeout_ms)
{
	struct xsd_sockmsg h;

	if (guest_get(g, &h, sizeof(h), timeout_ms) < 0 || h.len > XENSTORE_PAYLOAD_MAX ||
	    guest_get(g, buf, h.len, timeout_ms) < 0)
		return -1;
	buf[h.len] = '\0';
	return (int)h.type;
}

int guest_call(struct guest *g, uint32_t type, const char *body, uint32_t len, char *buf)
{
	if (guest_send(g, type, body, len) < 0)
		return -1;
	return guest_recv(g, buf, 2000);
}

