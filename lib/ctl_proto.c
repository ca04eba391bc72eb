/* The control protocol (see domus/ctl_proto.h): one table of message types
 * says what each carries; encoding, decoding and the error texts all read it. */
#include "domus/ctl_proto.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ctl_type_desc {
	const char *name;
	bool request; /* a client may send it; every type may be a reply */
	uint16_t req_min, req_max;
	uint8_t req_fds; /* exactly this many with a request; replies carry none */
	uint16_t rep_min, rep_max;
	/* Rules on the payload's content, once its size is right. */
	int (*check)(const struct ctl_msg *m, bool reply, char *why, size_t wl);
};

static int fail(char *why, size_t wl, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t wl, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && wl) {
		va_start(ap, fmt);
		vsnprintf(why, wl, fmt, ap);
		va_end(ap);
	}
	return err;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static int check_error(const struct ctl_msg *m, bool reply, char *why, size_t wl)
{
	const struct ctl_error *e = &m->u.error;

	if (m->u.raw[m->hdr.len - 1] != '\0')
		return fail(why, wl, -EBADMSG, "error reply: text not NUL-terminated");
	if (e->err >= 0 || e->err < -4095)
		return fail(why, wl, -EBADMSG, "error reply: %d is not a negative errno", (int)e->err);
	if (e->reserved)
		return fail(why, wl, -EBADMSG, "error reply: reserved field not 0");
	return 0;
}

static int check_info(const struct ctl_msg *m, bool reply, char *why, size_t wl)
{
	const struct ctl_info *i = &m->u.info;

	if (!reply)
		return 0;
	if (!memchr(i->name, '\0', sizeof(i->name)) || !memchr(i->uuid, '\0', sizeof(i->uuid)))
		return fail(why, wl, -EBADMSG, "info reply: name or uuid not NUL-terminated");
	if (!i->state || !strchr("rbp", i->state))
		return fail(why, wl, -EBADMSG, "info reply: state %u is none of r, b, p", i->state);
	if (!all_zero(i->pad, sizeof(i->pad)))
		return fail(why, wl, -EBADMSG, "info reply: padding not 0");
	return 0;
}

static int check_save(const struct ctl_msg *m, bool reply, char *why, size_t wl)
{
	if (!reply && (m->u.save.flags || m->u.save.reserved))
		return fail(why, wl, -EINVAL, "%s request: unknown flags 0x%x", ctl_type_name(m->hdr.type),
			    m->u.save.flags | m->u.save.reserved);
	return 0;
}

static int check_kind(const char *kind, const char *what, char *why, size_t wl)
{
	size_t n = strnlen(kind, CTL_KIND_MAX);

	if (n == CTL_KIND_MAX)
		return fail(why, wl, -EBADMSG, "%s request: kind not NUL-terminated", what);
	if (n == 0)
		return fail(why, wl, -EINVAL, "%s request: empty kind", what);
	for (size_t i = 0; i < n; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9')))
			return fail(why, wl, -EINVAL, "%s request: kind is not lower-case letters and digits", what);
	return 0;
}

/* kind, then arg up to the end of the payload: exactly one NUL, its last
 * byte. */
static int check_device_add(const struct ctl_msg *m, bool reply, char *why, size_t wl)
{
	const struct ctl_device_add *a = &m->u.dev_add;
	size_t arg_len = m->hdr.len - offsetof(struct ctl_device_add, arg);
	int rc;

	if (reply)
		return 0;
	rc = check_kind(a->kind, "device_add", why, wl);
	if (rc < 0)
		return rc;
	if (!all_zero(a->kind + strlen(a->kind), CTL_KIND_MAX - strlen(a->kind)))
		return fail(why, wl, -EBADMSG, "device_add request: bytes after the kind's NUL");
	if (strnlen(a->arg, arg_len) != arg_len - 1)
		return fail(why, wl, -EBADMSG, "device_add request: argument not NUL-terminated at the end of the payload");
	return 0;
}

static int check_device_remove(const struct ctl_msg *m, bool reply, char *why, size_t wl)
{
	const struct ctl_device_remove *r = &m->u.dev_remove;
	int rc;

	if (reply)
		return 0;
	rc = check_kind(r->kind, "device_remove", why, wl);
	if (rc < 0)
		return rc;
	if (!all_zero(r->kind + strlen(r->kind), CTL_KIND_MAX - strlen(r->kind)))
		return fail(why, wl, -EBADMSG, "device_remove request: bytes after the kind's NUL");
	if (r->flags)
		return fail(why, wl, -EINVAL, "device_remove request: unknown flags 0x%x", r->flags);
	return 0;
}

#define EMPTY 0, 0
#define FIXED(t) sizeof(t), sizeof(t)

static const struct ctl_type_desc types[CTL_TYPE_END] = {
	[CTL_ERROR] = { "error", false, EMPTY, 0, offsetof(struct ctl_error, text) + 1, sizeof(struct ctl_error),
			check_error },
	[CTL_INFO] = { "info", true, EMPTY, 0, FIXED(struct ctl_info), check_info },
	[CTL_PAUSE] = { "pause", true, EMPTY, 0, EMPTY, NULL },
	[CTL_UNPAUSE] = { "unpause", true, EMPTY, 0, EMPTY, NULL },
	[CTL_DESTROY] = { "destroy", true, EMPTY, 0, EMPTY, NULL },
	[CTL_SAVE] = { "save", true, FIXED(struct ctl_save), 1, EMPTY, check_save },
	[CTL_DEVICE_ADD] = { "device_add", true, offsetof(struct ctl_device_add, arg) + 1,
			     sizeof(struct ctl_device_add), 0, EMPTY, check_device_add },
	[CTL_DEVICE_REMOVE] = { "device_remove", true, FIXED(struct ctl_device_remove), 0, EMPTY,
				check_device_remove },
};

_Static_assert(sizeof(struct ctl_error) <= CTL_PAYLOAD_MAX && sizeof(struct ctl_info) <= CTL_PAYLOAD_MAX,
	       "every payload fits CTL_PAYLOAD_MAX");

static const struct ctl_type_desc *desc(unsigned type)
{
	return type < CTL_TYPE_END && types[type].name ? &types[type] : NULL;
}

const char *ctl_type_name(unsigned type)
{
	const struct ctl_type_desc *t = desc(type);

	return t ? t->name : NULL;
}

/* got: the payload bytes that arrived (or are to be sent). */
static int validate(const struct ctl_msg *m, size_t got, unsigned nfds, char *why, size_t wl)
{
	const struct ctl_hdr *h = &m->hdr;
	const struct ctl_type_desc *t;
	bool reply = h->flags & CTL_F_REPLY;
	const char *dir = reply ? "reply" : "request";
	unsigned min, max, fds;

	if (h->magic != CTL_MAGIC)
		return fail(why, wl, -EPROTO, "not a domus control message (magic 0x%08x)", h->magic);
	if (h->version != CTL_VERSION)
		return fail(why, wl, -EPROTONOSUPPORT, "control protocol version %u, this end speaks %u", h->version,
			    CTL_VERSION);
	if (h->len != got)
		return fail(why, wl, -EBADMSG, "length field says %u payload bytes, %zu came", h->len, got);
	if (h->flags & ~CTL_F_REPLY || h->reserved)
		return fail(why, wl, -EBADMSG, "unknown flags 0x%x or reserved field 0x%x in the header", h->flags,
			    h->reserved);
	t = desc(h->type);
	if (!t)
		return fail(why, wl, -EOPNOTSUPP, "unknown message type %u", h->type);
	if (!reply && !t->request)
		return fail(why, wl, -EOPNOTSUPP, "%s is not a request", t->name);
	min = reply ? t->rep_min : t->req_min;
	max = reply ? t->rep_max : t->req_max;
	fds = reply ? 0 : t->req_fds;
	if (h->len < min || h->len > max) {
		if (min == max)
			return fail(why, wl, -EBADMSG, "%s %s: payload of %u bytes, expected %u", t->name, dir, h->len,
				    min);
		return fail(why, wl, -EBADMSG, "%s %s: payload of %u bytes, expected %u to %u", t->name, dir, h->len,
			    min, max);
	}
	if (nfds != fds)
		return fail(why, wl, -EBADMSG, "%s %s: %u file descriptors, expected %u", t->name, dir, nfds, fds);
	return t->check ? t->check(m, reply, why, wl) : 0;
}

static void msg_clear(struct ctl_msg *m)
{
	memset(&m->hdr, 0, sizeof(m->hdr));
	memset(&m->u, 0, sizeof(m->u));
	for (int i = 0; i < CTL_MAX_FDS; i++)
		m->fds[i] = -1;
	m->nfds = 0;
}

int ctl_msg_init(struct ctl_msg *m, unsigned type, uint32_t flags, uint32_t id, const void *payload, size_t len)
{
	msg_clear(m);
	if (len > CTL_PAYLOAD_MAX || type > UINT16_MAX)
		return -EINVAL;
	m->hdr = (struct ctl_hdr){ .magic = CTL_MAGIC, .version = CTL_VERSION, .type = (uint16_t)type,
				   .flags = flags, .len = (uint32_t)len, .id = id };
	if (len)
		memcpy(m->u.raw, payload, len);
	return 0;
}

int ctl_device_add_init(struct ctl_msg *m, uint32_t id, const char *kind, const char *arg)
{
	size_t kl = strlen(kind), al = strlen(arg);
	int rc;

	if (kl >= CTL_KIND_MAX || al >= CTL_DEVICE_ARG_MAX)
		return -ENAMETOOLONG;
	if (!kl)
		return -EINVAL;
	rc = ctl_msg_init(m, CTL_DEVICE_ADD, 0, id, NULL, 0);
	if (rc < 0)
		return rc;
	memcpy(m->u.dev_add.kind, kind, kl);
	memcpy(m->u.dev_add.arg, arg, al + 1);
	m->hdr.len = (uint32_t)(offsetof(struct ctl_device_add, arg) + al + 1);
	return 0;
}

int ctl_device_remove_init(struct ctl_msg *m, uint32_t id, const char *kind, uint32_t dev_id)
{
	struct ctl_device_remove r = { .id = dev_id };
	size_t kl = strlen(kind);

	if (kl >= CTL_KIND_MAX)
		return -ENAMETOOLONG;
	if (!kl)
		return -EINVAL;
	memcpy(r.kind, kind, kl);
	return ctl_msg_init(m, CTL_DEVICE_REMOVE, 0, id, &r, sizeof(r));
}

void ctl_reply_init(struct ctl_msg *rep, const struct ctl_msg *req)
{
	ctl_msg_init(rep, req->hdr.type, CTL_F_REPLY, req->hdr.id, NULL, 0);
}

void ctl_error_init(struct ctl_msg *rep, uint32_t id, unsigned req_type, int err, const char *fmt, ...)
{
	va_list ap;

	ctl_msg_init(rep, CTL_ERROR, CTL_F_REPLY, id, NULL, 0);
	rep->u.error.err = err < 0 && err >= -4095 ? err : -EIO;
	rep->u.error.req_type = (uint16_t)req_type;
	va_start(ap, fmt);
	vsnprintf(rep->u.error.text, sizeof(rep->u.error.text), fmt, ap);
	va_end(ap);
	rep->hdr.len = (uint32_t)(offsetof(struct ctl_error, text) + strlen(rep->u.error.text) + 1);
}

void ctl_msg_close_fds(struct ctl_msg *m)
{
	for (unsigned i = 0; i < m->nfds && i < CTL_MAX_FDS; i++) {
		if (m->fds[i] >= 0)
			close(m->fds[i]);
		m->fds[i] = -1;
	}
	m->nfds = 0;
}

int ctl_encode(const struct ctl_msg *m, void *buf, size_t cap, char *why, size_t wl)
{
	size_t size = sizeof(m->hdr) + m->hdr.len;
	int rc;

	if (m->hdr.len > CTL_PAYLOAD_MAX || m->nfds > CTL_MAX_FDS)
		return fail(why, wl, -EMSGSIZE, "payload of %u bytes or %u descriptors: too many", m->hdr.len, m->nfds);
	rc = validate(m, m->hdr.len, m->nfds, why, wl);
	if (rc < 0)
		return rc;
	if (size > cap)
		return fail(why, wl, -ENOBUFS, "message of %zu bytes, buffer of %zu", size, cap);
	memcpy(buf, &m->hdr, sizeof(m->hdr));
	memcpy((unsigned char *)buf + sizeof(m->hdr), m->u.raw, m->hdr.len);
	return (int)size;
}

static void close_all(const int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int ctl_decode(const void *buf, size_t n, const int *fds, unsigned nfds, struct ctl_msg *m, char *why, size_t wl)
{
	size_t got = n > sizeof(m->hdr) ? n - sizeof(m->hdr) : 0;
	int rc;

	msg_clear(m);
	if (n >= sizeof(m->hdr))
		memcpy(&m->hdr, buf, sizeof(m->hdr));
	if (nfds > CTL_MAX_FDS) {
		rc = fail(why, wl, -EMSGSIZE, "%u file descriptors, at most %d", nfds, CTL_MAX_FDS);
		goto out;
	}
	if (n < sizeof(m->hdr)) {
		rc = fail(why, wl, -EBADMSG, "message of %zu bytes, shorter than its header", n);
		goto out;
	}
	if (got > CTL_PAYLOAD_MAX) {
		rc = fail(why, wl, -EMSGSIZE, "payload of %zu bytes, at most %d", got, CTL_PAYLOAD_MAX);
		goto out;
	}
	memcpy(m->u.raw, (const unsigned char *)buf + sizeof(m->hdr), got);
	rc = validate(m, got, nfds, why, wl);
out:
	if (rc < 0) {
		close_all(fds, nfds);
		return rc;
	}
	memcpy(m->fds, fds, nfds * sizeof(int));
	m->nfds = nfds;
	return 0;
}

/* The largest message; recvmsg flags a longer one MSG_TRUNC. */
#define CTL_WIRE_MAX (sizeof(struct ctl_hdr) + CTL_PAYLOAD_MAX)

union ctl_cbuf {
	char b[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
	struct cmsghdr align;
};

int ctl_send(int sock, const struct ctl_msg *m, char *why, size_t wl)
{
	unsigned char buf[CTL_WIRE_MAX];
	union ctl_cbuf cbuf;
	int n = ctl_encode(m, buf, sizeof(buf), why, wl);
	struct iovec iov = { .iov_base = buf, .iov_len = n > 0 ? (size_t)n : 0 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t sent;

	if (n < 0)
		return n;
	if (m->nfds) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * m->nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * m->nfds);
		memcpy(CMSG_DATA(cm), m->fds, sizeof(int) * m->nfds);
	}
	sent = sendmsg(sock, &mh, MSG_NOSIGNAL);
	if (sent < 0)
		return fail(why, wl, -errno, "send: %s", strerror(errno));
	if (sent != n)
		return fail(why, wl, -EIO, "send: %zd of %d bytes", sent, n);
	return 0;
}

int ctl_recv(int sock, struct ctl_msg *m, char *why, size_t wl)
{
	unsigned char buf[CTL_WIRE_MAX];
	union ctl_cbuf cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.b,
			     .msg_controllen = sizeof(cbuf.b) };
	int fds[CTL_MAX_FDS];
	unsigned nfds = 0;
	bool extra = false;
	ssize_t n;

	msg_clear(m);
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return fail(why, wl, -errno, "receive: %s", strerror(errno));
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (nfds < CTL_MAX_FDS)
				fds[nfds++] = fd;
			else {
				close(fd);
				extra = true;
			}
		}
	}
	if (n == 0 && nfds == 0)
		return fail(why, wl, -EPIPE, "connection closed");
	/* The kernel drops what did not fit; what did is closed here. */
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || extra) {
		close_all(fds, nfds);
		if ((size_t)n >= sizeof(m->hdr))
			memcpy(&m->hdr, buf, sizeof(m->hdr));
		return fail(why, wl, -EMSGSIZE, "message over %zu bytes or with over %d file descriptors",
			    sizeof(buf), CTL_MAX_FDS);
	}
	return ctl_decode(buf, (size_t)n, fds, nfds, m, why, wl);
}

int ctl_call(int sock, const struct ctl_msg *req, struct ctl_msg *rep, int timeout_ms, char *why, size_t wl)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int rc;

	msg_clear(rep); /* holds no descriptor whatever happens */
	rc = ctl_send(sock, req, why, wl);
	if (rc < 0)
		return rc;
	while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (rc < 0)
		return fail(why, wl, -errno, "poll: %s", strerror(errno));
	if (rc == 0)
		return fail(why, wl, -ETIMEDOUT, "no reply within %d ms", timeout_ms);
	rc = ctl_recv(sock, rep, why, wl);
	if (rc < 0)
		return rc;
	if (!(rep->hdr.flags & CTL_F_REPLY) || rep->hdr.id != req->hdr.id ||
	    (rep->hdr.type != req->hdr.type && rep->hdr.type != CTL_ERROR)) {
		ctl_msg_close_fds(rep);
		return fail(why, wl, -EPROTO, "%s %s %u is no reply to %s request %u", ctl_type_name(rep->hdr.type),
			    rep->hdr.flags & CTL_F_REPLY ? "reply" : "request", rep->hdr.id,
			    ctl_type_name(req->hdr.type) ? ctl_type_name(req->hdr.type) : "?", req->hdr.id);
	}
	if (rep->hdr.type == CTL_ERROR)
		return fail(why, wl, rep->u.error.err, "%s", rep->u.error.text);
	return 0;
}
