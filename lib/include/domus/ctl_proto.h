/* The control protocol between xl and a domain's monitor (domus-vmm), on the
 * monitor's socket /run/domus/<domid>/control: the role of Xen's domctl
 * hypercalls.  docs/control-protocol.md describes it for people.
 *
 * SOCK_SEQPACKET, one message per datagram: a struct ctl_hdr, then hdr.len
 * bytes of payload whose layout the message type fixes.  A request may carry
 * descriptors in SCM_RIGHTS (at most CTL_MAX_FDS; each type says exactly how
 * many), e.g. the file a save stream is to be written to.  The monitor
 * answers every request with one reply that echoes its id: the request's own
 * type with CTL_F_REPLY, or CTL_ERROR with CTL_F_REPLY (struct ctl_error).
 * Host byte order: both ends run on the same host.
 *
 * Either end checks everything it receives against one table of types
 * (ctl_proto.c) before it reads a payload: magic and version, a length field
 * equal to what arrived, a known type allowed in that direction, a payload
 * size the type allows, exactly the descriptors it takes, and the type's own
 * rules (strings NUL-terminated, known states).  A refused message has its
 * descriptors closed; the sender is told why in a CTL_ERROR reply. */
#ifndef DOMUS_CTL_PROTO_H
#define DOMUS_CTL_PROTO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_MAGIC 0x4c544344u /* "DCTL" little-endian */
#define CTL_VERSION 1u
#define CTL_MAX_FDS 4
#define CTL_PAYLOAD_MAX 1024 /* no type may allow more */

struct ctl_hdr {
	uint32_t magic;	   /* CTL_MAGIC */
	uint16_t version;  /* CTL_VERSION */
	uint16_t type;	   /* enum ctl_type */
	uint32_t flags;	   /* CTL_F_* */
	uint32_t len;	   /* payload bytes after the header */
	uint32_t id;	   /* chosen by the client, echoed by the reply */
	uint32_t reserved; /* 0 */
};
_Static_assert(sizeof(struct ctl_hdr) == 24, "ctl_hdr is part of the wire format");

#define CTL_F_REPLY 0x1u

/* Numbers are the wire format: never reuse one. */
enum ctl_type {
	CTL_ERROR = 1,	 /* reply only: struct ctl_error */
	CTL_INFO = 2,	 /* request: empty; reply: struct ctl_info */
	CTL_PAUSE = 3,	 /* request and reply: empty */
	CTL_UNPAUSE = 4, /* request and reply: empty */
	CTL_DESTROY = 5, /* request and reply: empty; the monitor then exits (VMM_EXIT_DESTROYED) */
	CTL_SAVE = 6,	 /* request: struct ctl_save + 1 fd to write the stream to; reply: empty */
	/* 7 was `restore`, never implemented (a restore is domus-vmm
	 * --restore-fd, docs/save-restore.md): reserved, refused as unknown. */
	CTL_DEVICE_ADD = 8,    /* request: struct ctl_device_add; reply: empty */
	CTL_DEVICE_REMOVE = 9, /* request: struct ctl_device_remove; reply: empty */
	/* The next type takes 10. */
	CTL_TYPE_END
};

#define CTL_NAME_MAX 128 /* with the NUL */
#define CTL_UUID_MAX 40

/* What xl list, uptime and create need to know about a domain. */
struct ctl_info {
	char name[CTL_NAME_MAX]; /* NUL-terminated */
	char uuid[CTL_UUID_MAX]; /* NUL-terminated; "-" when the monitor was given none */
	uint32_t domid;
	uint32_t vcpus;
	uint64_t mem_kb;
	uint64_t maxmem_kb;
	uint64_t cpu_ns;	 /* CPU time of all vCPU threads */
	int64_t start;		 /* epoch seconds */
	uint64_t first_entry_ns; /* CLOCK_REALTIME of vCPU 0's first KVM_RUN, 0 before */
	uint64_t hypercalls, io_exits, mmio_exits;
	uint32_t store_port, console_port; /* event channels of the xenstore and console rings */
	uint8_t state;			   /* 'r' running, 'b' blocked, 'p' paused (xl list) */
	uint8_t pad[7];			   /* 0 */
};
_Static_assert(sizeof(struct ctl_info) == 256, "ctl_info is part of the wire format");

#define CTL_ERROR_TEXT_MAX 256 /* with the NUL */

/* Sent only up to and with the text's NUL: the length varies. */
struct ctl_error {
	int32_t err;	   /* a negative errno */
	uint16_t req_type; /* the type the refused request had (perhaps unknown) */
	uint16_t reserved; /* 0 */
	char text[CTL_ERROR_TEXT_MAX];
};

struct ctl_save {
	uint32_t flags; /* none defined yet: 0 */
	uint32_t reserved;
};

#define CTL_KIND_MAX 16 /* with the NUL */
#define CTL_DEVICE_ARG_MAX (CTL_PAYLOAD_MAX - CTL_KIND_MAX) /* with the NUL */

/* Plug a device into the running domain: kind names it ("vbd", "vif"),
 * arg is the value the monitor's command-line option for that kind takes
 * (--disk DEVID,KIND,FORMAT,MODE,DEVTYPE,PATH for "vbd"; docs/xenbus.md).
 * Sent only up to and with arg's NUL: the length varies. */
struct ctl_device_add {
	char kind[CTL_KIND_MAX]; /* NUL-terminated, not empty */
	char arg[CTL_DEVICE_ARG_MAX];
};
_Static_assert(sizeof(struct ctl_device_add) == CTL_PAYLOAD_MAX, "ctl_device_add is part of the wire format");

/* Unplug the device of that kind and id (a vbd's id is its devid).  The
 * toolstack has done the xenbus close first; this releases the back end. */
struct ctl_device_remove {
	char kind[CTL_KIND_MAX]; /* NUL-terminated, not empty */
	uint32_t id;
	uint32_t flags; /* none defined yet: 0 */
};
_Static_assert(sizeof(struct ctl_device_remove) == 24, "ctl_device_remove is part of the wire format");

/* A message in memory.  fds[0 .. nfds) are open descriptors that belong to
 * whoever holds the message (ctl_msg_close_fds). */
struct ctl_msg {
	struct ctl_hdr hdr;
	union {
		struct ctl_info info;
		struct ctl_error error;
		struct ctl_save save;
		struct ctl_device_add dev_add;
		struct ctl_device_remove dev_remove;
		unsigned char raw[CTL_PAYLOAD_MAX];
	} u;
	int fds[CTL_MAX_FDS];
	unsigned nfds;
};

/* "info", "pause" ...; NULL for a number that is no type. */
const char *ctl_type_name(unsigned type);

/* A message of `type` with a copy of `payload` (len bytes) and no
 * descriptors; -EINVAL when len is over CTL_PAYLOAD_MAX.  Whether the
 * payload suits the type is checked when the message is encoded. */
int ctl_msg_init(struct ctl_msg *m, unsigned type, uint32_t flags, uint32_t id, const void *payload, size_t len);
/* A device_add request (id: the client's), or -ENAMETOOLONG when kind or
 * arg do not fit the message, -EINVAL for an empty kind. */
int ctl_device_add_init(struct ctl_msg *m, uint32_t id, const char *kind, const char *arg);
/* A device_remove request. */
int ctl_device_remove_init(struct ctl_msg *m, uint32_t id, const char *kind, uint32_t dev_id);
/* The empty reply to req (its type, its id). */
void ctl_reply_init(struct ctl_msg *rep, const struct ctl_msg *req);
/* A CTL_ERROR reply to request `id` of type req_type, err a negative errno,
 * the text cut to CTL_ERROR_TEXT_MAX. */
void ctl_error_init(struct ctl_msg *rep, uint32_t id, unsigned req_type, int err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void ctl_msg_close_fds(struct ctl_msg *m);

/* The bytes of m (header and payload, not its descriptors) into buf: their
 * number, or a negative errno with why set when m is not a message the other
 * end would take (a bug of the sender, not sent). */
int ctl_encode(const struct ctl_msg *m, void *buf, size_t cap, char *why, size_t whylen);
/* Checks n received bytes and the nfds descriptors that came with them and
 * fills m.  It takes the descriptors: on success they are m's, on refusal
 * they are closed.  On refusal it returns a negative errno with why set and
 * leaves in m->hdr the header as received when a whole one arrived (zeroes
 * otherwise), so a server can still answer the request's id. */
int ctl_decode(const void *buf, size_t n, const int *fds, unsigned nfds, struct ctl_msg *m, char *why, size_t whylen);

/* Sends m with its descriptors (which stay the caller's). */
int ctl_send(int sock, const struct ctl_msg *m, char *why, size_t whylen);
/* Receives one message and ctl_decode()s it.  -EPIPE when the peer has
 * closed; a datagram longer than any message, or more descriptors than
 * CTL_MAX_FDS, is refused (-EMSGSIZE) with whatever descriptors came closed. */
int ctl_recv(int sock, struct ctl_msg *m, char *why, size_t whylen);
/* One request and its reply, waiting at most timeout_ms for it.  0 with rep
 * the reply of req's type; a CTL_ERROR reply returns its err with its text in
 * why; a reply that is not to this request is -EPROTO.  rep holds no
 * descriptor unless it returns 0. */
int ctl_call(int sock, const struct ctl_msg *req, struct ctl_msg *rep, int timeout_ms, char *why, size_t whylen);

#endif
