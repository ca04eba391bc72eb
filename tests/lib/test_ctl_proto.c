/* The control protocol (domus/ctl_proto.h): every type round trips; what is
 * short, long, of another protocol, of an unknown type or with the wrong
 * descriptors is refused, and refused descriptors are closed. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "domus/ctl_proto.h"
#include "testutil.h"

#define HDR sizeof(struct ctl_hdr)

static char why[256];

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* A valid message of each type, in each direction it may travel; a type
 * added to the table without a sample here fails the round trip test. */
static bool sample(unsigned type, bool reply, struct ctl_msg *m, int fd)
{
	struct ctl_info info;
	struct ctl_save save = { 0 };

	switch (type) {
	case CTL_ERROR:
		if (!reply)
			return false;
		ctl_error_init(m, 7, 99, -ENOSYS, "save is not supported");
		return true;
	case CTL_INFO:
		if (!reply)
			return ctl_msg_init(m, type, 0, 7, NULL, 0) == 0;
		test_sample_ctl_info(&info, 5, "guest5", 1700000000);
		return ctl_msg_init(m, type, CTL_F_REPLY, 7, &info, sizeof(info)) == 0;
	case CTL_PAUSE:
	case CTL_UNPAUSE:
	case CTL_DESTROY:
		return ctl_msg_init(m, type, reply ? CTL_F_REPLY : 0, 7, NULL, 0) == 0;
	case CTL_SAVE:
		if (reply)
			return ctl_msg_init(m, type, CTL_F_REPLY, 7, NULL, 0) == 0;
		ctl_msg_init(m, type, 0, 7, &save, sizeof(save));
		m->fds[0] = fd;
		m->nfds = 1;
		return true;
	case CTL_DEVICE_ADD:
		if (reply)
			return ctl_msg_init(m, type, CTL_F_REPLY, 7, NULL, 0) == 0;
		return ctl_device_add_init(m, 7, "vbd", "51728,vbd,raw,w,disk,/srv/a,b.img") == 0;
	case CTL_DEVICE_REMOVE:
		if (reply)
			return ctl_msg_init(m, type, CTL_F_REPLY, 7, NULL, 0) == 0;
		return ctl_device_remove_init(m, 7, "vbd", 51728) == 0;
	}
	fail_msg("message type %u (%s) has no sample in this test", type, ctl_type_name(type));
	return false;
}

static void test_round_trip_every_type(void **state)
{
	unsigned char buf[HDR + CTL_PAYLOAD_MAX];
	int tested = 0;

	assert_null(ctl_type_name(0));
	assert_null(ctl_type_name(CTL_TYPE_END));
	for (unsigned type = 1; type < CTL_TYPE_END; type++) {
		if (type == 7) { /* was restore: reserved for ever */
			assert_null(ctl_type_name(type));
			continue;
		}
		assert_non_null(ctl_type_name(type));
		for (int reply = 0; reply < 2; reply++) {
			struct ctl_msg m, d;
			int p[2], n;

			assert_int_equal(pipe2(p, O_CLOEXEC), 0);
			if (!sample(type, reply, &m, p[1])) {
				close(p[0]);
				close(p[1]);
				continue;
			}
			n = ctl_encode(&m, buf, sizeof(buf), why, sizeof(why));
			assert_int_equal(n, (int)(HDR + m.hdr.len));
			/* decode takes the descriptors it is given: give it a copy */
			int dup_fds[CTL_MAX_FDS];
			for (unsigned i = 0; i < m.nfds; i++)
				dup_fds[i] = dup(m.fds[i]);
			assert_int_equal(ctl_decode(buf, (size_t)n, dup_fds, m.nfds, &d, why, sizeof(why)), 0);
			assert_memory_equal(&d.hdr, &m.hdr, HDR);
			assert_memory_equal(d.u.raw, m.u.raw, m.hdr.len);
			assert_int_equal(d.nfds, m.nfds);
			for (unsigned i = 0; i < d.nfds; i++)
				assert_true(fd_open(d.fds[i]));
			ctl_msg_close_fds(&d);
			close(p[0]);
			close(p[1]);
			tested++;
		}
	}
	/* error travels one way; 7 is no type */
	assert_int_equal(tested, 2 * (CTL_TYPE_END - 2) - 1);
}

static int encoded(unsigned type, bool reply, unsigned char *buf)
{
	struct ctl_msg m;

	assert_true(sample(type, reply, &m, -1));
	m.nfds = 0; /* the descriptor tests add their own */
	m.fds[0] = -1;
	return ctl_encode(&m, buf, HDR + CTL_PAYLOAD_MAX, why, sizeof(why));
}

static int decode(const unsigned char *buf, size_t n, struct ctl_msg *m)
{
	why[0] = '\0';
	return ctl_decode(buf, n, NULL, 0, m, why, sizeof(why));
}

static void test_truncated_refused(void **state)
{
	unsigned char buf[HDR + CTL_PAYLOAD_MAX];
	struct ctl_msg m;
	int n = encoded(CTL_INFO, true, buf);

	assert_int_equal(decode(buf, (size_t)n, &m), 0);
	assert_int_equal(decode(buf, (size_t)n - 1, &m), -EBADMSG);
	assert_non_null(strstr(why, "length field"));
	assert_int_equal(decode(buf, HDR, &m), -EBADMSG);
	assert_int_equal(decode(buf, HDR - 1, &m), -EBADMSG);
	assert_non_null(strstr(why, "shorter than its header"));
	assert_int_equal(decode(buf, 0, &m), -EBADMSG);
	/* a length field that agrees with a short payload is still short */
	((struct ctl_hdr *)buf)->len = 100;
	assert_int_equal(decode(buf, HDR + 100, &m), -EBADMSG);
	assert_non_null(strstr(why, "info reply: payload of 100 bytes, expected 256"));
}

static void test_oversize_refused(void **state)
{
	unsigned char buf[HDR + CTL_PAYLOAD_MAX + 8] = { 0 };
	struct ctl_msg m;
	int n = encoded(CTL_PAUSE, false, buf);

	((struct ctl_hdr *)buf)->len = 4;
	assert_int_equal(decode(buf, (size_t)n + 4, &m), -EBADMSG);
	assert_non_null(strstr(why, "pause request: payload of 4 bytes, expected 0"));
	n = encoded(CTL_INFO, true, buf);
	((struct ctl_hdr *)buf)->len += 1;
	assert_int_equal(decode(buf, (size_t)n + 1, &m), -EBADMSG);
	((struct ctl_hdr *)buf)->len = CTL_PAYLOAD_MAX + 8;
	assert_int_equal(decode(buf, sizeof(buf), &m), -EMSGSIZE);
	/* an error text longer than the type allows */
	n = encoded(CTL_ERROR, true, buf);
	((struct ctl_hdr *)buf)->len = sizeof(struct ctl_error) + 1;
	memset(buf + HDR + offsetof(struct ctl_error, text), 'x', sizeof(struct ctl_error));
	buf[HDR + sizeof(struct ctl_error)] = '\0';
	assert_int_equal(decode(buf, HDR + sizeof(struct ctl_error) + 1, &m), -EBADMSG);
	assert_non_null(strstr(why, "error reply: payload of"));
}

static void test_wrong_magic_and_version_refused(void **state)
{
	unsigned char buf[HDR + CTL_PAYLOAD_MAX];
	struct ctl_msg m;
	int n = encoded(CTL_INFO, false, buf);

	memcpy(buf, "info", 4); /* the old text protocol */
	assert_int_equal(decode(buf, (size_t)n, &m), -EPROTO);
	assert_non_null(strstr(why, "not a domus control message"));
	n = encoded(CTL_INFO, false, buf);
	((struct ctl_hdr *)buf)->version = 2;
	assert_int_equal(decode(buf, (size_t)n, &m), -EPROTONOSUPPORT);
	/* the header as it came stays readable for the error reply */
	assert_int_equal(m.hdr.id, 7);
	n = encoded(CTL_INFO, false, buf);
	((struct ctl_hdr *)buf)->flags = 0x80;
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	n = encoded(CTL_INFO, false, buf);
	((struct ctl_hdr *)buf)->reserved = 1;
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
}

static void test_unknown_type_refused(void **state)
{
	unsigned char buf[HDR + CTL_PAYLOAD_MAX];
	/* 7: the reserved number of the restore request that never was */
	const unsigned bad[] = { 0, 7, CTL_TYPE_END, 99, 0xffff };
	struct ctl_msg m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];
		int n = encoded(CTL_PAUSE, false, buf);

		((struct ctl_hdr *)buf)->type = (uint16_t)bad[i];
		assert_int_equal(decode(buf, (size_t)n, &m), -EOPNOTSUPP);
		snprintf(want, sizeof(want), "unknown message type %u", bad[i]);
		assert_string_equal(why, want);
		assert_int_equal(m.hdr.type, bad[i]);
	}
	/* a reply-only type is no request */
	int n = encoded(CTL_PAUSE, false, buf);
	((struct ctl_hdr *)buf)->type = CTL_ERROR;
	assert_int_equal(decode(buf, (size_t)n, &m), -EOPNOTSUPP);
	assert_string_equal(why, "error is not a request");
	/* and the sender cannot send what the receiver would refuse */
	ctl_msg_init(&m, 99, 0, 1, NULL, 0);
	assert_int_equal(ctl_encode(&m, buf, sizeof(buf), why, sizeof(why)), -EOPNOTSUPP);
}

static void test_payload_content_checked(void **state)
{
	unsigned char buf[HDR + CTL_PAYLOAD_MAX];
	struct ctl_info *i = (struct ctl_info *)(buf + HDR);
	struct ctl_msg m;
	int n;

	n = encoded(CTL_INFO, true, buf);
	memset(i->name, 'a', sizeof(i->name));
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	assert_non_null(strstr(why, "not NUL-terminated"));
	n = encoded(CTL_INFO, true, buf);
	memset(i->uuid, 'a', sizeof(i->uuid));
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	n = encoded(CTL_INFO, true, buf);
	i->state = 'x';
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	n = encoded(CTL_INFO, true, buf);
	i->state = 0;
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	n = encoded(CTL_INFO, true, buf);
	i->pad[3] = 1;
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);

	n = encoded(CTL_ERROR, true, buf);
	buf[n - 1] = 'x';
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	n = encoded(CTL_ERROR, true, buf);
	((struct ctl_error *)(buf + HDR))->err = 5;
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	assert_non_null(strstr(why, "not a negative errno"));
}

/* device_add carries a variable-length argument: exactly one NUL, at the
 * end; both device requests a kind of lower-case letters and digits. */
static void test_device_requests_checked(void **state)
{
	unsigned char buf[HDR + CTL_PAYLOAD_MAX];
	struct ctl_device_add *a = (struct ctl_device_add *)(buf + HDR);
	struct ctl_device_remove *r = (struct ctl_device_remove *)(buf + HDR);
	char big[CTL_DEVICE_ARG_MAX + 1];
	struct ctl_msg m;
	int n;

	n = encoded(CTL_DEVICE_ADD, false, buf);
	assert_int_equal(n, HDR + CTL_KIND_MAX + (int)strlen("51728,vbd,raw,w,disk,/srv/a,b.img") + 1);
	assert_int_equal(decode(buf, (size_t)n, &m), 0);
	assert_string_equal(m.u.dev_add.kind, "vbd");
	assert_string_equal(m.u.dev_add.arg, "51728,vbd,raw,w,disk,/srv/a,b.img");

	buf[n - 1] = 'x'; /* the argument runs to the end without a NUL */
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	assert_non_null(strstr(why, "argument not NUL-terminated"));
	n = encoded(CTL_DEVICE_ADD, false, buf);
	a->arg[3] = '\0'; /* a NUL inside: the length field and the string disagree */
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	n = encoded(CTL_DEVICE_ADD, false, buf);
	memset(a->kind, 'v', sizeof(a->kind));
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	assert_non_null(strstr(why, "kind not NUL-terminated"));
	n = encoded(CTL_DEVICE_ADD, false, buf);
	a->kind[0] = '\0';
	assert_int_equal(decode(buf, (size_t)n, &m), -EINVAL);
	assert_non_null(strstr(why, "empty kind"));
	n = encoded(CTL_DEVICE_ADD, false, buf);
	a->kind[1] = '/';
	assert_int_equal(decode(buf, (size_t)n, &m), -EINVAL);
	n = encoded(CTL_DEVICE_ADD, false, buf);
	a->kind[CTL_KIND_MAX - 1] = 'x'; /* after the kind's NUL */
	assert_int_equal(decode(buf, (size_t)n, &m), -EBADMSG);
	/* the empty argument is one NUL: the smallest payload */
	assert_int_equal(ctl_device_add_init(&m, 1, "vbd", ""), 0);
	assert_int_equal(m.hdr.len, CTL_KIND_MAX + 1);
	n = ctl_encode(&m, buf, sizeof(buf), why, sizeof(why));
	assert_int_equal(decode(buf, (size_t)n, &m), 0);
	/* shorter than a kind and a NUL */
	((struct ctl_hdr *)buf)->len = CTL_KIND_MAX;
	assert_int_equal(decode(buf, HDR + CTL_KIND_MAX, &m), -EBADMSG);
	assert_non_null(strstr(why, "expected 17 to 1024"));

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ctl_device_add_init(&m, 1, "vbd", big), -ENAMETOOLONG);
	big[sizeof(big) - 2] = '\0'; /* the longest that fits */
	assert_int_equal(ctl_device_add_init(&m, 1, "vbd", big), 0);
	assert_int_equal(m.hdr.len, CTL_PAYLOAD_MAX);
	assert_int_equal(ctl_encode(&m, buf, sizeof(buf), why, sizeof(why)), HDR + CTL_PAYLOAD_MAX);
	assert_int_equal(ctl_device_add_init(&m, 1, "abcdefghijklmnop", "x"), -ENAMETOOLONG);
	assert_int_equal(ctl_device_add_init(&m, 1, "", "x"), -EINVAL);

	n = encoded(CTL_DEVICE_REMOVE, false, buf);
	assert_int_equal(decode(buf, (size_t)n, &m), 0);
	assert_int_equal(m.u.dev_remove.id, 51728);
	r->flags = 2;
	assert_int_equal(decode(buf, (size_t)n, &m), -EINVAL);
	assert_non_null(strstr(why, "unknown flags"));
	n = encoded(CTL_DEVICE_REMOVE, false, buf);
	r->kind[0] = '\0';
	assert_int_equal(decode(buf, (size_t)n, &m), -EINVAL);
	/* a sender cannot send a bad one either */
	assert_int_equal(ctl_device_remove_init(&m, 1, "vbd", 1), 0);
	m.u.dev_remove.flags = 1;
	assert_int_equal(ctl_encode(&m, buf, sizeof(buf), why, sizeof(why)), -EINVAL);
}

static void test_error_text_is_bounded(void **state)
{
	char big[600];
	struct ctl_msg m, d;
	unsigned char buf[HDR + CTL_PAYLOAD_MAX];
	int n;

	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ctl_error_init(&m, 3, CTL_INFO, -EINVAL, "%s", big);
	assert_int_equal(m.hdr.len, sizeof(struct ctl_error));
	n = ctl_encode(&m, buf, sizeof(buf), why, sizeof(why));
	assert_true(n > 0);
	assert_int_equal(decode(buf, (size_t)n, &d), 0);
	assert_int_equal(strlen(d.u.error.text), CTL_ERROR_TEXT_MAX - 1);
	/* an error that is no errno is sent as EIO, not as success */
	ctl_error_init(&m, 3, CTL_INFO, 0, "x");
	assert_int_equal(m.u.error.err, -EIO);
}

/* The descriptors handed to decode are closed when it refuses the message. */
static void test_refused_fds_closed_by_decode(void **state)
{
	unsigned char buf[HDR + CTL_PAYLOAD_MAX];
	struct ctl_msg m;
	int p[2], n;

	/* pause takes no descriptor */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	n = encoded(CTL_PAUSE, false, buf);
	assert_int_equal(ctl_decode(buf, (size_t)n, &p[1], 1, &m, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "pause request: 1 file descriptors, expected 0"));
	assert_false(fd_open(p[1]));
	assert_int_equal(m.nfds, 0);
	/* save takes exactly one */
	struct ctl_save s = { 0 };
	ctl_msg_init(&m, CTL_SAVE, 0, 9, &s, sizeof(s));
	n = (int)(HDR + sizeof(s));
	memcpy(buf, &m.hdr, HDR);
	memcpy(buf + HDR, &s, sizeof(s));
	assert_int_equal(ctl_decode(buf, (size_t)n, NULL, 0, &m, why, sizeof(why)), -EBADMSG);
	int two[2] = { p[0], dup(p[0]) };
	assert_int_equal(ctl_decode(buf, (size_t)n, two, 2, &m, why, sizeof(why)), -EBADMSG);
	assert_false(fd_open(two[0]));
	assert_false(fd_open(two[1]));
	/* and a short message with a descriptor */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(ctl_decode(buf, 3, &p[0], 1, &m, why, sizeof(why)), -EBADMSG);
	assert_false(fd_open(p[0]));
	/* unknown flags in a save request */
	((struct ctl_save *)(buf + HDR))->flags = 4;
	assert_int_equal(ctl_decode(buf, (size_t)n, &p[1], 1, &m, why, sizeof(why)), -EINVAL);
	assert_false(fd_open(p[1]));
}

static int send_raw(int sock, const void *buf, size_t n, const int *fds, unsigned nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)] = { 0 };
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (nfds) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &mh, 0) == (ssize_t)n ? 0 : -errno;
}

/* A save request's descriptor crosses a socketpair and works there. */
static void test_fd_passing(void **state)
{
	int sv[2], p[2];
	struct ctl_msg req, got;
	struct ctl_save s = { 0 };
	char text[8] = { 0 };

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	ctl_msg_init(&req, CTL_SAVE, 0, 42, &s, sizeof(s));
	req.fds[0] = p[1];
	req.nfds = 1;
	assert_int_equal(ctl_send(sv[0], &req, why, sizeof(why)), 0);
	close(p[1]); /* only the received copy is left */
	assert_int_equal(ctl_recv(sv[1], &got, why, sizeof(why)), 0);
	assert_int_equal(got.hdr.type, CTL_SAVE);
	assert_int_equal(got.hdr.id, 42);
	assert_int_equal(got.nfds, 1);
	assert_true(fcntl(got.fds[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(got.fds[0], "stream", 6), 6);
	ctl_msg_close_fds(&got);
	assert_int_equal(read(p[0], text, sizeof(text)), 6);
	assert_string_equal(text, "stream");
	/* the writer is gone with the received copy: end of file */
	assert_int_equal(read(p[0], text, sizeof(text)), 0);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

/* Malformed messages with descriptors, through the real receive path: no
 * descriptor is left behind. */
static void test_malformed_over_socket_leaks_no_fd(void **state)
{
	unsigned char buf[HDR + CTL_PAYLOAD_MAX + 64] = { 0 };
	int sv[2], p[2], fds[6];
	struct ctl_msg m;
	int before, n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	for (int i = 0; i < 6; i++)
		fds[i] = p[i % 2];
	before = test_count_fds();
	assert_true(before > 0);

	/* pause with a descriptor */
	n = encoded(CTL_PAUSE, false, buf);
	assert_int_equal(send_raw(sv[0], buf, (size_t)n, fds, 1), 0);
	assert_int_equal(ctl_recv(sv[1], &m, why, sizeof(why)), -EBADMSG);
	assert_int_equal(test_count_fds(), before);
	/* unknown type with two */
	((struct ctl_hdr *)buf)->type = 77;
	assert_int_equal(send_raw(sv[0], buf, (size_t)n, fds, 2), 0);
	assert_int_equal(ctl_recv(sv[1], &m, why, sizeof(why)), -EOPNOTSUPP);
	assert_string_equal(why, "unknown message type 77");
	assert_int_equal(test_count_fds(), before);
	/* more descriptors than any message takes */
	n = encoded(CTL_PAUSE, false, buf);
	assert_int_equal(send_raw(sv[0], buf, (size_t)n, fds, 6), 0);
	assert_int_equal(ctl_recv(sv[1], &m, why, sizeof(why)), -EMSGSIZE);
	assert_int_equal(test_count_fds(), before);
	/* a datagram longer than any message, with one */
	((struct ctl_hdr *)buf)->len = CTL_PAYLOAD_MAX + 64;
	assert_int_equal(send_raw(sv[0], buf, sizeof(buf), fds, 1), 0);
	assert_int_equal(ctl_recv(sv[1], &m, why, sizeof(why)), -EMSGSIZE);
	assert_int_equal(m.hdr.id, 7); /* still answerable */
	assert_int_equal(test_count_fds(), before);
	/* a few bytes and one */
	assert_int_equal(send_raw(sv[0], "info", 4, fds, 1), 0);
	assert_int_equal(ctl_recv(sv[1], &m, why, sizeof(why)), -EBADMSG);
	assert_int_equal(test_count_fds(), before);
	/* the socket still works after all that */
	n = encoded(CTL_PAUSE, false, buf);
	assert_int_equal(send_raw(sv[0], buf, (size_t)n, NULL, 0), 0);
	assert_int_equal(ctl_recv(sv[1], &m, why, sizeof(why)), 0);
	close(sv[0]);
	assert_int_equal(ctl_recv(sv[1], &m, why, sizeof(why)), -EPIPE);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

/* ctl_call takes only the reply to its own request.  The reply is queued
 * before the call, so no second thread is needed. */
static void test_call_matches_reply(void **state)
{
	int sv[2];
	struct ctl_msg req, rep, ans;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	ctl_msg_init(&req, CTL_PAUSE, 0, 5, NULL, 0);

	ctl_reply_init(&ans, &req);
	assert_int_equal(ctl_send(sv[1], &ans, why, sizeof(why)), 0);
	assert_int_equal(ctl_call(sv[0], &req, &rep, 1000, why, sizeof(why)), 0);
	assert_int_equal(ctl_recv(sv[1], &ans, why, sizeof(why)), 0); /* the request arrived */
	assert_int_equal(ans.hdr.type, CTL_PAUSE);

	ctl_error_init(&ans, 5, CTL_PAUSE, -EBUSY, "busy saving");
	assert_int_equal(ctl_send(sv[1], &ans, why, sizeof(why)), 0);
	assert_int_equal(ctl_call(sv[0], &req, &rep, 1000, why, sizeof(why)), -EBUSY);
	assert_string_equal(why, "busy saving");
	ctl_recv(sv[1], &ans, NULL, 0);

	ctl_msg_init(&ans, CTL_PAUSE, CTL_F_REPLY, 6, NULL, 0); /* someone else's */
	assert_int_equal(ctl_send(sv[1], &ans, why, sizeof(why)), 0);
	assert_int_equal(ctl_call(sv[0], &req, &rep, 1000, why, sizeof(why)), -EPROTO);
	ctl_recv(sv[1], &ans, NULL, 0);

	ctl_msg_init(&ans, CTL_INFO, CTL_F_REPLY, 5, NULL, 0); /* of another type: not even sendable */
	assert_int_equal(ctl_send(sv[1], &ans, why, sizeof(why)), -EBADMSG);
	ctl_msg_init(&ans, CTL_UNPAUSE, CTL_F_REPLY, 5, NULL, 0);
	assert_int_equal(ctl_send(sv[1], &ans, why, sizeof(why)), 0);
	assert_int_equal(ctl_call(sv[0], &req, &rep, 1000, why, sizeof(why)), -EPROTO);
	ctl_recv(sv[1], &ans, NULL, 0);

	ctl_msg_init(&ans, CTL_PAUSE, 0, 5, NULL, 0); /* a request, not a reply */
	assert_int_equal(ctl_send(sv[1], &ans, why, sizeof(why)), 0);
	assert_int_equal(ctl_call(sv[0], &req, &rep, 1000, why, sizeof(why)), -EPROTO);
	ctl_recv(sv[1], &ans, NULL, 0);

	assert_int_equal(ctl_call(sv[0], &req, &rep, 50, why, sizeof(why)), -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_oversize_refused),
		cmocka_unit_test(test_wrong_magic_and_version_refused),
		cmocka_unit_test(test_unknown_type_refused),
		cmocka_unit_test(test_payload_content_checked),
		cmocka_unit_test(test_device_requests_checked),
		cmocka_unit_test(test_error_text_is_bounded),
		cmocka_unit_test(test_refused_fds_closed_by_decode),
		cmocka_unit_test(test_fd_passing),
		cmocka_unit_test(test_malformed_over_socket_leaks_no_fd),
		cmocka_unit_test(test_call_matches_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
