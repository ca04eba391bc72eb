/* Attaching the guest's xenstore ring to xenstored. */
#include "xs_link.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "domus/ring_proto.h"
#include "domus/log.h"
#include "evloop.h"
#include "fds.h"
#include "vm.h"
#include "xen/xen_abi.h"

static int send_attach(struct xs_link *l, struct vm *vm)
{
	struct xsd_ring_attach a = {
		.magic = XSD_RING_MAGIC, .version = XSD_RING_VERSION, .domid = vm->domid,
		.offset = vm->mem.ram_size + (LAYOUT_XENSTORE_PFN - (LAYOUT_SPECIAL_BASE >> 12)) * 4096,
	};
	int fds[XSD_RING_NFDS] = { [XSD_RING_FD_MEM] = vm->mem.memfd, [XSD_RING_FD_KICK_IN] = l->kick_in,
				   [XSD_RING_FD_KICK_OUT] = l->kick_out };
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { .iov_base = &a, .iov_len = sizeof(a) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	struct xsd_ring_reply r;
	struct pollfd p = { .fd = l->sock, .events = POLLIN };
	ssize_t n;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(l->sock, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(a))
		return -errno ? -errno : -EIO;
	if (poll(&p, 1, 10000) <= 0)
		return -ETIMEDOUT;
	n = recv(l->sock, &r, sizeof(r), 0);
	if (n != (ssize_t)sizeof(r))
		return -EPROTO;
	return r.status;
}

int xs_link_attach(struct xs_link *l, struct vm *vm, struct evl *loop, const char *guest_socket)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	*l = (struct xs_link)XS_LINK_INIT;
	l->vm = vm;
	l->loop = loop;
	if (strlen(guest_socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, guest_socket);
	l->kick_in = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->kick_out = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (l->kick_in < 0 || l->kick_out < 0 || l->sock < 0)
		return -errno;
	if (connect(l->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	rc = send_attach(l, vm);
	if (rc < 0)
		return rc;
	/* The guest's sends on this port go to kick_in without leaving KVM. */
	rc = evtchn_backend_port(vm, HVM_PARAM_STORE_EVTCHN, l->kick_in, &l->port);
	if (rc < 0)
		return rc;
	vm->hvm_params[HVM_PARAM_STORE_PFN] = LAYOUT_XENSTORE_PFN;
	vm->hvm_params[HVM_PARAM_STORE_EVTCHN] = l->port;
	return 0;
}

static void on_kick_out(void *ctx, int fd, uint32_t events)
{
	struct xs_link *l = ctx;
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
	evtchn_notify_guest(l->vm, l->port);
}

/* Only a hang-up or an error is reported: nothing is read from it. */
static void on_sock(void *ctx, int fd, uint32_t events)
{
	struct xs_link *l = ctx;

	/* xenstored went away (restart or upgrade): the ring stays in guest
	 * memory; a new xenstored gets it when we reattach. */
	log_warn(l->vm->name, "xenstored closed the ring hand-over socket");
	xs_link_quiesce(l);
}

int xs_link_start(struct xs_link *l)
{
	int rc = evl_add_fd(l->loop, l->kick_out, EPOLLIN, on_kick_out, l, &l->kick_src);

	return rc < 0 ? rc : evl_add_fd(l->loop, l->sock, EPOLLRDHUP, on_sock, l, &l->sock_src);
}

void xs_link_quiesce(struct xs_link *l)
{
	evl_del(l->loop, l->kick_src);
	evl_del(l->loop, l->sock_src);
	l->kick_src = l->sock_src = NULL;
}

void xs_link_stop(struct xs_link *l)
{
	int *const fds[] = { &l->sock, &l->kick_in, &l->kick_out };

	xs_link_quiesce(l);
	close_fds(fds, sizeof(fds) / sizeof(fds[0]));
}
