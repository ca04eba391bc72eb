/* The monitor's control server (vmm/control_srv.c) against xl's client
 * (xl/ts_dom.c) over a real control socket in a run directory of its own:
 * what xl reads is what the monitor sent, requests act, and what is
 * malformed, unknown or unsupported is answered with an error and leaves no
 * descriptor behind.  The domain is fake_domain.c, not a VM (no KVM). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "domus/log.h"
#include "fake_domain.h"
#include "testutil.h"
#include "ts.h"

#define DOMID 5

struct server {
	char dir[64], sub[96];
	struct sockaddr_un sa;
	int listen_fd, stop_fd;
	pthread_t thread;
	const struct control_ops *ops;
	struct fake_domain dom;
};

static void *serve(void *arg)
{
	struct server *s = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = s->listen_fd, .events = POLLIN }, { .fd = s->stop_fd, .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0 || p[1].revents)
			break;
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		control_serve(fd, s->ops, &s->dom, s->stop_fd, 2000);
		close(fd);
	}
	return NULL;
}

/* A save that writes a few bytes to the descriptor it is given. */
static int op_save(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	int rc = write(req->fds[0], "saved", 5) == 5 ? 0 : -errno;

	close(req->fds[0]);
	req->fds[0] = -1; /* taken */
	return rc;
}

/* A bug: an info reply with the wrong length. */
static int op_bad_info(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	rep->hdr.len = 3;
	return 0;
}

static int op_busy(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	snprintf(why, wl, "domain is being saved");
	return -EBUSY;
}

static control_op_fn *const test_fns[CTL_TYPE_END] = {
	[CTL_INFO] = op_bad_info,
	[CTL_PAUSE] = op_busy,
	[CTL_SAVE] = op_save,
};
static const struct control_ops test_ops = { test_fns, CTL_TYPE_END };

static int start(void **state, const struct control_ops *ops)
{
	struct server *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	snprintf(s->dir, sizeof(s->dir), "/tmp/domus-ctl-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	setenv("DOMUS_RUN_DIR", s->dir, 1);
	snprintf(s->sub, sizeof(s->sub), "%s/%d", s->dir, DOMID);
	assert_int_equal(mkdir(s->sub, 0700), 0);
	s->sa.sun_family = AF_UNIX;
	snprintf(s->sa.sun_path, sizeof(s->sa.sun_path), "%s/control", s->sub);
	s->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&s->sa, sizeof(s->sa)), 0);
	assert_int_equal(listen(s->listen_fd, 8), 0);
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	s->ops = ops;
	fake_domain_init(&s->dom, DOMID, "guest5", 1700000000);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
	*state = s;
	return 0;
}

static int start_monitor(void **state)
{
	return start(state, &fake_domain_ops);
}

static int start_test_ops(void **state)
{
	return start(state, &test_ops);
}

static int stop(void **state)
{
	struct server *s = *state;
	uint64_t one = 1;

	assert_int_equal(write(s->stop_fd, &one, sizeof(one)), sizeof(one));
	pthread_join(s->thread, NULL);
	close(s->stop_fd);
	close(s->listen_fd);
	unlink(s->sa.sun_path);
	rmdir(s->sub);
	rmdir(s->dir);
	free(s);
	return 0;
}

static int connect_control(struct server *s)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_int_equal(connect(fd, (struct sockaddr *)&s->sa, sizeof(s->sa)), 0);
	return fd;
}

static void test_xl_reads_what_the_monitor_sent(void **state)
{
	struct server *s = *state;
	struct ts_dom d;

	assert_int_equal(ts_dom_info(DOMID, &d), 0);
	assert_int_equal(d.domid, DOMID);
	assert_string_equal(d.name, "guest5");
	assert_string_equal(d.uuid, "11111111-2222-3333-4444-555555555555");
	assert_int_equal(d.mem_kb, 524288);
	assert_int_equal(d.vcpus, 2);
	assert_int_equal(d.state, 'b');
	assert_int_equal(d.cpu_ns, 12345678901ULL);
	assert_int_equal(d.start, 1700000000);
	assert_int_equal(d.store_port, 1);
	assert_int_equal(d.console_port, 2);
	(void)s;
}

static void test_xl_requests_act(void **state)
{
	struct server *s = *state;
	struct ts_dom d, *v;
	size_t n;

	assert_int_equal(ts_control(DOMID, CTL_PAUSE), 0);
	assert_int_equal(ts_dom_info(DOMID, &d), 0);
	assert_int_equal(d.state, 'p');
	assert_int_equal(ts_control(DOMID, CTL_UNPAUSE), 0);
	assert_int_equal(ts_dom_lookup("guest5", &d), 0);
	assert_int_equal(d.state, 'b');
	assert_int_equal(ts_dom_list(&v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "guest5");
	free(v);
	assert_false(s->dom.destroyed);
	assert_int_equal(ts_control(DOMID, CTL_DESTROY), 0);
	assert_true(s->dom.destroyed);
	/* no monitor there */
	assert_true(ts_control(DOMID + 1, CTL_PAUSE) < 0);
}

/* Refusals come back as error replies and the connection goes on. */
static void test_refusals_answered(void **state)
{
	struct server *s = *state;
	int fd = connect_control(s);
	struct ctl_msg req, rep;
	char why[256];
	unsigned char raw[sizeof(struct ctl_hdr)];

	/* the text protocol of old */
	assert_int_equal(send(fd, "info", 4, 0), 4);
	assert_int_equal(ctl_recv(fd, &rep, why, sizeof(why)), 0);
	assert_int_equal(rep.hdr.type, CTL_ERROR);
	assert_int_equal(rep.u.error.err, -EBADMSG);
	assert_non_null(strstr(rep.u.error.text, "shorter than its header"));
	/* an unknown type, named in the reply, which echoes the id */
	ctl_msg_init(&req, CTL_PAUSE, 0, 1234, NULL, 0);
	req.hdr.type = 77;
	memcpy(raw, &req.hdr, sizeof(raw));
	assert_int_equal(send(fd, raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
	assert_int_equal(ctl_recv(fd, &rep, why, sizeof(why)), 0);
	assert_int_equal(rep.hdr.type, CTL_ERROR);
	assert_int_equal(rep.hdr.id, 1234);
	assert_int_equal(rep.u.error.req_type, 77);
	assert_int_equal(rep.u.error.err, -EOPNOTSUPP);
	assert_string_equal(rep.u.error.text, "unknown message type 77");
	/* a type this monitor does not serve */
	struct ctl_save sv = { 0 };
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	ctl_msg_init(&req, CTL_SAVE, 0, 8, &sv, sizeof(sv));
	req.fds[0] = p[1];
	req.nfds = 1;
	assert_int_equal(ctl_call(fd, &req, &rep, 2000, why, sizeof(why)), -ENOSYS);
	assert_string_equal(why, "save: not supported by this monitor");
	/* the monitor closed its copy: with ours gone the pipe has no writer */
	close(p[1]);
	assert_int_equal(read(p[0], why, 1), 0);
	close(p[0]);
	/* and the same connection still answers */
	ctl_msg_init(&req, CTL_INFO, 0, 9, NULL, 0);
	assert_int_equal(ctl_call(fd, &req, &rep, 2000, why, sizeof(why)), 0);
	assert_string_equal(rep.u.info.name, "guest5");
	close(fd);
}

/* Server and client share this process: a descriptor the server keeps
 * after a refusal shows in /proc/self/fd. */
static void test_no_fd_left_by_refusals(void **state)
{
	struct server *s = *state;
	int fd = connect_control(s), p[2], before;
	struct ctl_msg req, rep;
	struct ctl_save sv = { 0 };
	char why[256];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	/* once answered, the server has accepted: its end is counted too */
	ctl_msg_init(&req, CTL_INFO, 0, 1, NULL, 0);
	assert_int_equal(ctl_call(fd, &req, &rep, 2000, why, sizeof(why)), 0);
	before = test_count_fds();
	assert_true(before > 0);
	for (int i = 0; i < 20; i++) {
		/* unsupported save */
		ctl_msg_init(&req, CTL_SAVE, 0, 1, &sv, sizeof(sv));
		req.fds[0] = p[1];
		req.nfds = 1;
		assert_int_equal(ctl_call(fd, &req, &rep, 2000, why, sizeof(why)), -ENOSYS);
		/* a save with bad flags */
		sv.flags = 1;
		ctl_msg_init(&req, CTL_SAVE, 0, 2, &sv, sizeof(sv));
		sv.flags = 0;
		req.fds[0] = p[0];
		req.fds[1] = p[1];
		req.nfds = 1;
		/* ctl_call checks what it sends: send the bytes by hand */
		unsigned char buf[sizeof(struct ctl_hdr) + sizeof(sv)];
		char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		memcpy(buf, &req.hdr, sizeof(req.hdr));
		memcpy(buf + sizeof(req.hdr), &req.u.save, sizeof(sv));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(cm), req.fds, 2 * sizeof(int));
		assert_int_equal(sendmsg(fd, &mh, 0), (ssize_t)sizeof(buf));
		assert_int_equal(ctl_recv(fd, &rep, why, sizeof(why)), 0);
		assert_int_equal(rep.hdr.type, CTL_ERROR);
		assert_int_equal(rep.hdr.id, 2);
		assert_non_null(strstr(rep.u.error.text, "save request: 2 file descriptors, expected 1"));
	}
	assert_int_equal(test_count_fds(), before);
	close(p[0]);
	close(p[1]);
	close(fd);
}

static void test_handlers_errors_and_fds(void **state)
{
	struct server *s = *state;
	int fd = connect_control(s), p[2];
	struct ctl_msg req, rep;
	struct ctl_save sv = { 0 };
	char why[256], got[8] = { 0 };
	struct ts_dom d;

	/* a descriptor a handler takes works there */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	ctl_msg_init(&req, CTL_SAVE, 0, 3, &sv, sizeof(sv));
	req.fds[0] = p[1];
	req.nfds = 1;
	assert_int_equal(ctl_call(fd, &req, &rep, 2000, why, sizeof(why)), 0);
	close(p[1]);
	assert_int_equal(read(p[0], got, sizeof(got)), 5);
	assert_string_equal(got, "saved");
	assert_int_equal(read(p[0], got, sizeof(got)), 0);
	close(p[0]);
	close(fd);
	/* a handler's error and text reach xl */
	ctl_msg_init(&req, CTL_PAUSE, 0, 4, NULL, 0);
	assert_int_equal(ts_control_call(DOMID, &req, &rep, why, sizeof(why)), -EBUSY);
	assert_string_equal(why, "domain is being saved");
	assert_int_equal(ts_control(DOMID, CTL_PAUSE), -EBUSY);
	/* a bad reply is not sent: the client gets an error instead */
	ctl_msg_init(&req, CTL_INFO, 0, 5, NULL, 0);
	assert_int_equal(ts_control_call(DOMID, &req, &rep, why, sizeof(why)), -EIO);
	assert_string_equal(why, "the monitor built a bad info reply");
	assert_int_equal(ts_dom_info(DOMID, &d), -EIO);
	/* not served at all */
	assert_int_equal(ts_control(DOMID, CTL_DESTROY), -ENOSYS);
	(void)s;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_xl_reads_what_the_monitor_sent, start_monitor, stop),
		cmocka_unit_test_setup_teardown(test_xl_requests_act, start_monitor, stop),
		cmocka_unit_test_setup_teardown(test_refusals_answered, start_monitor, stop),
		cmocka_unit_test_setup_teardown(test_no_fd_left_by_refusals, start_monitor, stop),
		cmocka_unit_test_setup_teardown(test_handlers_errors_and_fds, start_test_ops, stop),
	};

	log_set_level(LOG_ERR); /* the refusals this test makes are warnings */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
