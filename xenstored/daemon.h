/* The daemon: connections over the Unix socket and guest rings, the event
 * loop, and the state that survives restarts.  One thread; the engine is
 * only ever called from the loop. */
#ifndef XSD_DAEMON_H
#define XSD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "domus/log.h"
#include "engine.h"
#include "ops.h"
#include "wire.h"

struct xsd;
struct ring;

enum poll_kind { P_LISTEN, P_CONN, P_RING_KICK, P_GUEST_LISTEN, P_GUEST_CTL, P_SIGNAL };

/* What an epoll event points at. */
struct poll_tag {
	enum poll_kind kind;
	void *obj;
};

struct outmsg {
	struct outmsg *next;
	uint32_t len; /* header + payload */
	bool event;
	bool reply; /* counts against the outstanding quota */
	/* The rest of a message partly in the guest's ring before an export:
	 * exported again as Xen's "partial response" (domxfer.c). */
	bool partial;
	char data[];
};

enum conn_kind { CONN_SOCKET, CONN_RING };

struct conn {
	struct conn *next, *prev;
	struct xsd *d;
	enum conn_kind kind;
	int fd; /* socket; -1 for rings */
	struct poll_tag tag;
	struct xse_client cl;
	/* Input: header, then payload, assembled across reads. */
	struct xsd_sockmsg hdr;
	uint32_t in_used;
	char body[WIRE_BODY_MAX];
	/* Output queue. */
	struct outmsg *oq_head, *oq_tail;
	size_t oq_bytes, head_off;
	unsigned oq_count; /* messages queued */
	unsigned outstanding;
	uint32_t pollmask; /* events registered with epoll */
	/* Input peeked (MSG_PEEK) and processed but still queued on the
	 * socket: taken off only after the replies are written (sock.c). */
	size_t unconsumed;
	bool dead;
	struct ring *ring;
	/* What the journal knows of its bytes in flight (persist.c): the
	 * partial request changed since it was last journalled; output bytes
	 * ever queued and ever consumed, and how many of each the journal
	 * has recorded, so each round journals only the difference. */
	bool in_dirty, in_journaled;
	uint64_t out_queued, out_consumed, j_queued, j_consumed;
	struct outmsg *j_next; /* first message queued since (NULL: none) */
	bool j_full;	       /* journal the whole state next round */
	/* A guest's request ring (ring.c): the consumer index its input has
	 * reached (every byte before it is processed, its effect and reply
	 * queued, or held as the partial request).  The ring's own req_cons
	 * catches up with it only once the round's journal holds it, so a
	 * guest's request leaves its ring only when the journal accounts for
	 * it.  Unknown (false) for an import whose file did not say. */
	uint32_t req_cons, j_req_cons;
	bool req_cons_known;
	/* Exported (domxfer.c): its ring is neither read nor written until
	 * XS_RESUME or a new hand-over of the ring. */
	bool frozen;
	/* Imported (domxfer.c) and not claimed yet: the socket connection
	 * whose import-domain made it; NULL otherwise. */
	struct conn *importer;
	char name[32];
	struct log_ratelimit rl; /* guest-triggered lines, per connection */
};

struct xsd_opts {
	const char *socket_path;
	const char *guest_socket_path; /* monitors hand rings over here */
	const char *state_dir;	       /* NULL: no persistence */
	const char *pid_file;
	int quota[XSE_Q_COUNT];
	bool keep_orphans;
	bool trace;
	unsigned busy_poll_us; /* poll this long after work before sleeping */
	const char *self_path; /* binary to exec on upgrade (SIGUSR2) */
	const char *inherit;   /* hand-over file from the previous process */
};

struct xsd {
	struct xsd_opts opts;
	struct xse_engine eng;
	struct ops_env env;
	int ep;
	int listen_fd, guest_fd, sig_fd;
	struct poll_tag listen_tag, guest_tag, sig_tag;
	struct conn *conns;
	unsigned nconns;
	unsigned conn_serial; /* names socket connections in logs */
	struct ring *rings; /* attached guest rings, by domain */
	struct persist *persist;
	bool stop;
	bool upgrade;		    /* leave the loop to re-exec */
	double upgrade_deadline;    /* 0: no upgrade requested */
	double spin_s;		    /* the busy-poll window now (adapts) */
	double last_work;	    /* when the last round with work ended */
	char upgrade_binary[4096];  /* set by live-update -f; else self_path */
	struct ops_reply reply; /* scratch, one request at a time */
};

int xsd_init(struct xsd *d, const struct xsd_opts *o);
int xsd_init_core(struct xsd *d, const struct xsd_opts *o);
void xsd_round(struct xsd *d);
double now_s(void); /* monotonic seconds */
int xsd_run(struct xsd *d);
void xsd_dispose(struct xsd *d);

/* conn.c */
struct conn *conn_new(struct xsd *d, enum conn_kind kind, int fd, uint32_t domid);
void conn_free(struct conn *c);
/* Consume input; returns bytes used (less than n when the connection must
 * pause: outstanding quota) or -EPROTO on a header Xen would reject. */
long conn_feed(struct conn *c, const char *p, size_t n);
bool conn_may_read(const struct conn *c);
/* Socket output: write what the socket takes; -errno if it is broken. */
int conn_flush_socket(struct conn *c);
/* Drop the first `n` bytes of the output queue (after they were sent). */
void conn_consumed(struct conn *c, size_t n);
int conn_iov(const struct conn *c, struct iovec *iov, int max);
void conn_drop_domain(struct xsd *d, uint32_t domid);
/* Give a new connection the partial request it had before a restart,
 * upgrade or export: the same checks as fresh input (a header Xen would
 * reject: -EPROTO), and it must be partial (-EPROTO otherwise).  On failure
 * the caller refuses the connection. */
int conn_restore_input(struct conn *c, const char *p, size_t n);
/* Queue bytes that are already framed (output carried over an upgrade). */
void conn_queue_raw(struct conn *c, const void *p, uint32_t n);

/* upgrade.c */
bool upgrade_ready(const struct xsd *d);
int upgrade_exec(struct xsd *d, char **argv);
/* Write the hand-over file (and keep the sockets open across exec). */
int upgrade_save(struct xsd *d, const char *file);
/* Take over what the previous process handed over in `file`.  < 0: the
 * file is refused (err names it and the offset); 0, with err set if a
 * connection was refused (the others are kept) or the file ended early. */
int upgrade_restore(struct xsd *d, const char *file, char *err, size_t errsz);
const char *upgrade_control(struct xsd *d, const char **v, unsigned n);
void upgrade_request(struct xsd *d, double wait_s);

/* domxfer.c: one domain's state out and in (docs/xenstored.md, "Export
 * and import").  On failure err holds one line saying why; an import that
 * fails changes nothing. */
struct stream_writer;
struct stream_reader;
int xfer_export(struct xsd *d, uint32_t domid, struct stream_writer *w, char *err, size_t errsz);
int xfer_import(struct xsd *d, uint32_t from, uint32_t to, struct stream_reader *r, char *err,
		size_t errsz);
void xfer_freeze(struct xsd *d, uint32_t domid, bool frozen);
/* XS_CONTROL "export-domain <domid> <file>" and
 * "import-domain <old-domid> <new-domid> <file>", asked by connection by
 * (NULL: nobody in particular).  An import stays tied to the connection
 * that asked for it until the domain comes: its ring is handed over or it
 * is introduced (xfer_claimed).  If that connection closes first (xl died
 * between the import and the monitor's start), xfer_importer_gone() undoes
 * the import: the new home goes, and the waiting connection with its
 * watches, transactions and bytes in flight. */
int xfer_command(struct xsd *d, struct conn *by, const char *cmd, const char **v, unsigned n);
void xfer_claimed(struct xsd *d, uint32_t domid);
void xfer_importer_gone(struct xsd *d, struct conn *by);

/* sock.c */
int sock_listen(const char *path, int type, int *ret_fd);
void sock_accept(struct xsd *d);
void sock_event(struct xsd *d, struct conn *c, uint32_t events);
/* Take the processed input off the socket (after the replies went out). */
void sock_consume(struct conn *c);
void sock_update_poll(struct xsd *d, struct conn *c);

/* ring.c (guest rings) */
void ring_kick_event(struct xsd *d, struct ring *r);
void ring_flush(struct ring *r);
int ring_guest_listen(struct xsd *d);
void ring_guest_accept(struct xsd *d);
void ring_guest_ctl(struct xsd *d, void *obj);
void ring_introduced(struct xsd *d, uint32_t domid);
void ring_free(struct xsd *d, struct ring *r);
void ring_detach(struct ring *r); /* drop its connection (not freed here) */
struct xsd_ring_attach;
/* A ring whose monitor talks on ctl_fd (-1: none, for tests), and its
 * attach request (fds: memfd, kick in, kick out; on success the kick fds
 * belong to the ring and the caller closes the memfd, which stays mapped). */
struct ring *ring_alloc(struct xsd *d, int ctl_fd);
int ring_attach(struct ring *r, const struct xsd_ring_attach *a, const int *fds);
uint32_t ring_rsp_prod(const struct ring *r);
void ring_wake(struct ring *r); /* look at its requests again */
bool ring_pending(struct xsd *d);
void ring_service(struct xsd *d);
/* After the round's journal write: what ring_service took from each ring
 * becomes consumed in the guest's page (req_cons), and the guest is told. */
void ring_publish(struct xsd *d);

#endif
