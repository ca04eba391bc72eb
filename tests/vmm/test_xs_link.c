/* The monitor's xenstore link (vmm/xs_link.c) against a fake xenstored: a
 * listening SOCK_SEQPACKET socket that takes hand-overs as the real one
 * does (ring_proto.h).  When the daemon goes away and comes back - a stop
 * and start, a refusal, a daemon that never answers - the link hands the
 * same ring over again with XSD_RING_RECONNECT by itself; quiesced, it
 * stops trying; stopped, it leaves no descriptor. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "domus/ring_proto.h"
#include "evloop.h"
#include "kvm_fake.h"
#include "xs_link.h"

struct xsd {
	char dir[64], path[108];
	int lsock;
};

/* One hand-over as xenstored receives it. */
struct handover {
	int conn;
	struct xsd_ring_attach a;
	struct stat st[XSD_RING_NFDS];
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void xsd_listen(struct xsd *x)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	x->lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(x->lsock >= 0);
	strcpy(sa.sun_path, x->path);
	unlink(x->path);
	assert_int_equal(bind(x->lsock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(x->lsock, 8), 0);
}

/* xenstored stops: its socket file stays behind, as after a kill -9. */
static void xsd_close(struct xsd *x)
{
	close(x->lsock);
	x->lsock = -1;
}

/* Waits up to ms for a hand-over; false if none came. */
static bool xsd_take(struct xsd *x, int ms, struct handover *h)
{
	struct pollfd p = { .fd = x->lsock, .events = POLLIN };
	int fds[XSD_RING_NFDS];
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { &h->a, sizeof(h->a) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	if (poll(&p, 1, ms) <= 0)
		return false;
	h->conn = accept4(x->lsock, NULL, NULL, SOCK_CLOEXEC);
	assert_true(h->conn >= 0);
	p = (struct pollfd){ .fd = h->conn, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(recvmsg(h->conn, &mh, MSG_CMSG_CLOEXEC), sizeof(h->a));
	cm = CMSG_FIRSTHDR(&mh);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_len, CMSG_LEN(sizeof(fds)));
	memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	for (int i = 0; i < XSD_RING_NFDS; i++) {
		assert_int_equal(fstat(fds[i], &h->st[i]), 0);
		close(fds[i]);
	}
	return true;
}

static void xsd_answer(struct handover *h, int32_t status)
{
	struct xsd_ring_reply r = { .status = status };

	assert_int_equal(send(h->conn, &r, sizeof(r), MSG_NOSIGNAL), sizeof(r));
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

struct first {
	struct xsd *x;
	struct handover h;
};

static void *first_daemon(void *arg)
{
	struct first *f = arg;

	if (xsd_take(f->x, 5000, &f->h))
		xsd_answer(&f->h, 0);
	else
		f->h.conn = -1;
	return NULL;
}

struct peek {
	struct xs_link *l;
	enum xs_link_state state;
	unsigned reattached, tries;
};

static int peek_here(void *arg)
{
	struct peek *p = arg;

	p->state = p->l->state;
	p->reattached = p->l->reattached;
	p->tries = p->l->tries;
	return 0;
}

/* The link's fields as its loop thread sees them. */
static struct peek peek(struct evl *loop, struct xs_link *l)
{
	struct peek p = { .l = l };

	assert_int_equal(evl_sync(loop, peek_here, &p), 0);
	return p;
}

static void wait_state(struct evl *loop, struct xs_link *l, enum xs_link_state want)
{
	for (int i = 0; i < 500; i++) {
		if (peek(loop, l).state == want)
			return;
		usleep(10000);
	}
	fail_msg("the link did not reach state %d", (int)want);
}

static void expect_reconnect(const struct handover *h, const struct handover *first)
{
	assert_int_equal(h->a.magic, XSD_RING_MAGIC);
	assert_int_equal(h->a.flags, XSD_RING_RECONNECT);
	assert_int_equal(h->a.domid, first->a.domid);
	assert_int_equal(h->a.offset, first->a.offset);
	for (int i = 0; i < XSD_RING_NFDS; i++)
		assert_true(same_file(&h->st[i], &first->st[i]));
}

static void test_reattach(void **state)
{
	struct kvm_fake *f;
	struct evl *loop;
	struct xs_link l;
	struct xsd x = { .lsock = -1 };
	struct first d0 = { .x = &x };
	struct handover h, h2;
	pthread_t t;
	int fds_before;

	strcpy(x.dir, "/tmp/xslink.XXXXXX");
	assert_non_null(mkdtemp(x.dir));
	snprintf(x.path, sizeof(x.path), "%s/guest", x.dir);
	assert_int_equal(kvm_fake_create(&f, 1), 0);
	assert_int_equal(evl_create(&loop, 16), 0);
	assert_int_equal(evl_start(loop), 0);
	fds_before = count_fds();

	/* The first hand-over, as at domain creation: no RECONNECT. */
	xsd_listen(&x);
	assert_int_equal(pthread_create(&t, NULL, first_daemon, &d0), 0);
	assert_int_equal(xs_link_attach(&l, &f->vm, loop, x.path), 0);
	pthread_join(t, NULL);
	assert_true(d0.h.conn >= 0);
	assert_int_equal(d0.h.a.flags, 0);
	l.retry_ms = 20;
	l.answer_ms = 300;
	assert_int_equal(xs_link_start(&l), 0);
	assert_int_equal(peek(loop, &l).state, XS_LINK_UP);

	/* Stop: the socket closes; nobody listens (connect refused) for a while. */
	xsd_close(&x);
	close(d0.h.conn);
	wait_state(loop, &l, XS_LINK_DOWN);
	usleep(200000);
	assert_true(peek(loop, &l).tries >= 2);
	assert_int_equal(peek(loop, &l).reattached, 0);

	/* Start: the same ring comes back with RECONNECT.  A refusal (a daemon
	 * still loading) is asked again. */
	xsd_listen(&x);
	assert_true(xsd_take(&x, 5000, &h));
	expect_reconnect(&h, &d0.h);
	xsd_answer(&h, -EAGAIN);
	close(h.conn);
	assert_true(xsd_take(&x, 5000, &h));
	expect_reconnect(&h, &d0.h);
	xsd_answer(&h, 0);
	wait_state(loop, &l, XS_LINK_UP);
	assert_int_equal(peek(loop, &l).reattached, 1);

	/* A daemon that takes the hand-over and never answers: asked again
	 * after answer_ms. */
	close(h.conn);
	assert_true(xsd_take(&x, 5000, &h));
	assert_true(xsd_take(&x, 5000, &h2));
	expect_reconnect(&h2, &d0.h);
	close(h.conn);
	xsd_answer(&h2, 0);
	wait_state(loop, &l, XS_LINK_UP);
	assert_int_equal(peek(loop, &l).reattached, 2);

	/* Quiesced (a save) while xenstored is away: no attempt until started. */
	xsd_close(&x);
	close(h2.conn);
	wait_state(loop, &l, XS_LINK_DOWN);
	xs_link_quiesce(&l);
	xsd_listen(&x);
	assert_false(xsd_take(&x, 300, &h));
	assert_int_equal(xs_link_start(&l), 0);
	assert_true(xsd_take(&x, 5000, &h));
	expect_reconnect(&h, &d0.h);
	xsd_answer(&h, 0);
	wait_state(loop, &l, XS_LINK_UP);

	/* Stopped: every descriptor the link opened is closed. */
	xs_link_stop(&l);
	close(h.conn);
	xsd_close(&x);
	assert_int_equal(count_fds(), fds_before);
	unlink(x.path);
	rmdir(x.dir);
	evl_stop(loop);
	evl_destroy(loop);
	kvm_fake_destroy(f);
}

/* No daemon at all: the first hand-over fails at once, naming why. */
static void test_no_daemon(void **state)
{
	struct kvm_fake *f;
	struct xs_link l;
	int fds_before;

	assert_int_equal(kvm_fake_create(&f, 1), 0);
	fds_before = count_fds();
	assert_int_equal(xs_link_attach(&l, &f->vm, NULL, "/nonexistent/xenstored/guest"), -ENOENT);
	xs_link_stop(&l);
	assert_int_equal(count_fds(), fds_before);
	kvm_fake_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reattach),
		cmocka_unit_test(test_no_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
