/* Attaching the guest's xenstore ring to xenstored, and attaching it again
 * whenever xenstored goes away and comes back. */
#include "xs_link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "domus/ring_proto.h"
#include "domus/log.h"
#include "evloop.h"
#include "fds.h"
#include "vm.h"
#include "xen/xen_abi.h"

/* A new socket connected to xenstored's guest socket, or -errno.  A unix
 * socket's connect does not block: it is there or it is not. */
static int link_connect(const struct xs_link *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, l->path, sizeof(sa.sun_path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* One xsd_ring_attach with the three descriptors (ring_proto.h). */
static int send_attach(const struct xs_link *l, uint32_t flags)
{
	const struct vm *vm = l->vm;
	struct xsd_ring_attach a = {
		.magic = XSD_RING_MAGIC, .version = XSD_RING_VERSION, .domid = vm->domid, .flags = flags,
		.offset = vm->mem.ram_size + (LAYOUT_XENSTORE_PFN - (LAYOUT_SPECIAL_BASE >> 12)) * 4096,
	};
	int fds[XSD_RING_NFDS] = { [XSD_RING_FD_MEM] = vm->mem.memfd, [XSD_RING_FD_KICK_IN] = l->kick_in,
				   [XSD_RING_FD_KICK_OUT] = l->kick_out };
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { .iov_base = &a, .iov_len = sizeof(a) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(l->sock, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(a))
		return errno ? -errno : -EIO;
	return 0;
}

/* xenstored's answer to a hand-over: its status, or -EPROTO. */
static int read_answer(int sock)
{
	struct xsd_ring_reply r;
	ssize_t n = recv(sock, &r, sizeof(r), MSG_DONTWAIT);

	if (n < 0 && errno == EAGAIN)
		return -EAGAIN;
	if (n != (ssize_t)sizeof(r))
		return -EPROTO;
	return r.status > 0 ? -EPROTO : r.status;
}

int xs_link_attach(struct xs_link *l, struct vm *vm, struct evl *loop, const char *guest_socket)
{
	struct pollfd p;
	int rc;

	*l = (struct xs_link)XS_LINK_INIT;
	l->vm = vm;
	l->loop = loop;
	if (strlen(guest_socket) >= sizeof(l->path))
		return -ENAMETOOLONG;
	strcpy(l->path, guest_socket);
	l->kick_in = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->kick_out = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->kick_in < 0 || l->kick_out < 0)
		return -errno;
	l->sock = link_connect(l);
	if (l->sock < 0)
		return l->sock;
	rc = send_attach(l, 0);
	if (rc < 0)
		return rc;
	p = (struct pollfd){ .fd = l->sock, .events = POLLIN };
	if (poll(&p, 1, (int)l->answer_ms) <= 0)
		return -ETIMEDOUT;
	rc = read_answer(l->sock);
	if (rc < 0)
		return rc == -EAGAIN ? -EPROTO : rc;
	/* The guest's sends on this port go to kick_in without leaving KVM. */
	rc = evtchn_backend_port(vm, HVM_PARAM_STORE_EVTCHN, l->kick_in, &l->port);
	if (rc < 0)
		return rc;
	/* hvm.c reads them under the lock, on vCPU threads. */
	pthread_mutex_lock(&vm->lock);
	vm->hvm_params[HVM_PARAM_STORE_PFN] = LAYOUT_XENSTORE_PFN;
	vm->hvm_params[HVM_PARAM_STORE_EVTCHN] = l->port;
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static void on_kick_out(void *ctx, int fd, uint32_t events)
{
	struct xs_link *l = ctx;
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
	evtchn_notify_guest(l->vm, l->port);
}

/* The ring is xenstored's no more: close the socket and retry on the timer.
 * The guest's kicks meanwhile stay counted in kick_in, which the next
 * xenstored is given. */
static void link_down(struct xs_link *l, unsigned ms)
{
	int *const fds[] = { &l->sock };

	evl_del(l->loop, l->sock_src);
	l->sock_src = NULL;
	close_fds(fds, 1);
	l->state = XS_LINK_DOWN;
	if (evl_timer_set(l->loop, l->retry_src, ms, false) < 0)
		log_err(l->vm->name, "cannot arm the xenstored reconnection timer: the guest's xenstore waits");
}

static void on_sock(void *ctx, int fd, uint32_t events)
{
	struct xs_link *l = ctx;
	int rc;

	if (l->state == XS_LINK_UP) {
		/* xenstored went away (restart, kill, upgrade): nothing else is
		 * ever sent on this socket after its answer. */
		log_warn(l->vm->name, "xenstored closed the ring hand-over socket: handing the ring over again when it is back");
		l->tries = 0;
		link_down(l, 1);
		return;
	}
	rc = read_answer(fd);
	if (rc == -EAGAIN && !(events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
		return;
	if (rc < 0) {
		/* A daemon still loading its state, or one that refused: ask
		 * again; a permanent refusal is logged each time by xenstored. */
		log_debug(l->vm->name, "xenstored did not take the ring (%s): retrying", strerror(-rc));
		link_down(l, l->retry_ms);
		return;
	}
	l->state = XS_LINK_UP;
	l->reattached++;
	(void)evl_timer_set(l->loop, l->retry_src, 0, false);
	log_info(l->vm->name, "xenstore ring handed to xenstored again (after %u attempts)", l->tries);
	if (l->on_reattach)
		l->on_reattach(l->reattach_ctx);
}

/* Connect and send the hand-over; the answer comes to on_sock. */
static void on_retry(void *ctx)
{
	struct xs_link *l = ctx;
	int rc;

	if (l->state == XS_LINK_WAITING) {
		log_warn(l->vm->name, "xenstored did not answer the ring hand-over within %u ms: retrying",
			 l->answer_ms);
		link_down(l, l->retry_ms);
		return;
	}
	if (l->state != XS_LINK_DOWN)
		return;
	l->tries++;
	rc = link_connect(l);
	if (rc < 0) {
		link_down(l, l->retry_ms);
		return;
	}
	l->sock = rc;
	rc = send_attach(l, XSD_RING_RECONNECT);
	if (rc == 0)
		rc = evl_add_fd(l->loop, l->sock, EPOLLIN | EPOLLRDHUP, on_sock, l, &l->sock_src);
	if (rc < 0) {
		link_down(l, l->retry_ms);
		return;
	}
	l->state = XS_LINK_WAITING;
	(void)evl_timer_set(l->loop, l->retry_src, l->answer_ms, false);
}

int xs_link_start(struct xs_link *l)
{
	int rc = evl_add_fd(l->loop, l->kick_out, EPOLLIN, on_kick_out, l, &l->kick_src);

	if (rc == 0)
		rc = evl_add_timer(l->loop, 0, false, on_retry, l, &l->retry_src);
	if (rc < 0)
		return rc;
	if (l->sock < 0) {
		/* Quiesced while xenstored was away: go on retrying. */
		l->state = XS_LINK_DOWN;
		return evl_timer_set(l->loop, l->retry_src, 1, false);
	}
	if (l->state == XS_LINK_WAITING)
		(void)evl_timer_set(l->loop, l->retry_src, l->answer_ms, false);
	return evl_add_fd(l->loop, l->sock, EPOLLIN | EPOLLRDHUP, on_sock, l, &l->sock_src);
}

void xs_link_quiesce(struct xs_link *l)
{
	evl_del(l->loop, l->kick_src);
	evl_del(l->loop, l->sock_src);
	evl_del(l->loop, l->retry_src);
	l->kick_src = l->sock_src = l->retry_src = NULL;
}

void xs_link_stop(struct xs_link *l)
{
	int *const fds[] = { &l->sock, &l->kick_in, &l->kick_out };

	xs_link_quiesce(l);
	close_fds(fds, sizeof(fds) / sizeof(fds[0]));
}
