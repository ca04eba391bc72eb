/* A guest that attacks xenstored through its own xenstore ring (issue 12
 * item 3): malformed and unknown messages, a flood of writes with crafted
 * names, watch churn, transactions never ended, replies never read, and at
 * last the two protocol violations that cost it its connection (a payload
 * length over XENSTORE_PAYLOAD_MAX, a request index beyond the ring).
 *
 * Freestanding C (no libc): the same code runs in a PVH guest of our own
 * (tests/lab/xsattack/xsattack.c, booted by tests/lab/domain-xsattack.sh)
 * and on the host against the real daemon (tests/xenstored/xsattack_host.c),
 * which is what the environment below abstracts.  Each round says what
 * happened in one line, "XSATTACK <round> <what happened>". */
#ifndef XSATTACK_CORE_H
#define XSATTACK_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

struct xsa_env {
	void *ctx;
	/* Notify xenstored (the ring's event channel). */
	void (*kick)(void *ctx);
	/* Wait a little, at most `ms`, or until xenstored notified (a spurious
	 * return is fine: the caller looks at the ring again). */
	void (*wait)(void *ctx, unsigned ms);
	/* Milliseconds on a clock that only goes forward. */
	uint64_t (*now_ms)(void *ctx);
	/* One line of the report, without its newline. */
	void (*say)(void *ctx, const char *line);
};

/* Which protocol violation comes first: the first ends the connection, so
 * the second only shows that bytes sent to an ignored ring change nothing. */
enum xsa_breaker { XSA_LEN_FIRST, XSA_IDX_FIRST };

struct xsa_opts {
	unsigned flood_max;   /* writes at most in the flood (c) */
	unsigned quota_stop;  /* the flood ends after this many quota errors */
	unsigned churn;	      /* WATCH/UNWATCH pairs (d) */
	unsigned txns;	      /* TRANSACTION_STARTs (e) */
	unsigned window;      /* requests in flight while flooding */
	unsigned stall_ms;    /* how long the unread replies are left (f) */
	enum xsa_breaker breaker;
};

#define XSA_OPTS_DEFAULT                                                              \
	{ .flood_max = 4000, .quota_stop = 200, .churn = 2000, .txns = 300, .window = 8, \
	  .stall_ms = 2000, .breaker = XSA_LEN_FIRST }

/* Error names counted per round (xs_wire.h's xsd_errors, plus the rest). */
enum xsa_err {
	XSA_OK, XSA_EINVAL, XSA_EACCES, XSA_EEXIST, XSA_EISDIR, XSA_ENOENT, XSA_ENOMEM,
	XSA_ENOSPC, XSA_EIO, XSA_ENOTEMPTY, XSA_ENOSYS, XSA_EROFS, XSA_EBUSY, XSA_EAGAIN,
	XSA_EISCONN, XSA_E2BIG, XSA_EPERM, XSA_EOTHER, XSA_NERR
};

struct xsa_result {
	bool hello;		   /* the ring answered at the start */
	unsigned rounds;	   /* rounds that ran to their end */
	unsigned lost;		   /* requests whose reply never came (before the breakers) */
	unsigned types_sent, types_answered;
	unsigned flood_sent, flood_ok, flood_quota, flood_invalid;
	unsigned watches_max;	   /* watches set before E2BIG */
	unsigned churn_ok;	   /* WATCH/UNWATCH pairs both answered OK */
	unsigned txn_ok, txn_refused;
	unsigned noread_sent, noread_taken, noread_drained;
	uint32_t error_after[2];   /* the page's error field after each breaker */
	bool answers_after[2];	   /* the ring still answered after each breaker */
	unsigned events;	   /* watch events seen in all */
};

/* The attacker's working memory (buffers of a whole payload and more),
 * given by the caller: a guest has no heap and a small stack, the host test
 * runs two attackers at once. */
struct xsa_state {
	_Alignas(8) char mem[12288];
};

/* Runs every round on the ring at `intf` (the guest's page).  Returns 0
 * when every round ran (whatever xenstored answered), -1 when the ring
 * never answered at all. */
int xsa_run(struct xsa_state *st, struct xenstore_domain_interface *intf,
	    const struct xsa_env *env, const struct xsa_opts *opts, struct xsa_result *res);

#endif
