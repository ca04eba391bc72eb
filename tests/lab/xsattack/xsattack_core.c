/* The attacker's rounds (see xsattack_core.h).  Freestanding: no libc call
 * but what the compiler itself may emit (memcpy, memset), which the guest
 * provides.  The ring is the guest's side of xs_wire.h's interface: it owns
 * req_prod and rsp_cons, xenstored owns the other two. */
#include "xsattack_core.h"

#include <stddef.h>

#define RING XENSTORE_RING_SIZE
#define REPLY_MS 5000u	/* a reply slower than this is counted lost */
#define HELLO_MS 60000u /* xenstored serves the ring once xl introduced it */
#define MAX_TXIDS 16

struct xsa {
	struct xenstore_domain_interface *i;
	const struct xsa_env *env;
	const struct xsa_opts *o;
	struct xsa_result *r;
	uint32_t req_id;
	unsigned cnt[XSA_NERR]; /* this round's replies by name */
	bool stop;		/* a batch's callback wants no more requests */
	struct xsd_sockmsg hdr; /* the last reply */
	char msg[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t type, tx; /* the request being built */
	char req[XENSTORE_PAYLOAD_MAX + 16];
	uint32_t txid[MAX_TXIDS];
	unsigned ntx;
	unsigned aux; /* per-round scratch for the callbacks */
};

static const char *const err_name[XSA_NERR] = {
	"OK", "EINVAL", "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM", "ENOSPC", "EIO",
	"ENOTEMPTY", "ENOSYS", "EROFS", "EBUSY", "EAGAIN", "EISCONN", "E2BIG", "EPERM", "other",
};

/* ---- strings, without libc ---- */

static bool seq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Appends s (with its NUL when nul) at *n in buf of size cap; truncates. */
static void cat(char *buf, uint32_t cap, uint32_t *n, const char *s, bool nul)
{
	while (*s && *n + 1 < cap)
		buf[(*n)++] = *s++;
	if (nul && *n < cap)
		buf[(*n)++] = '\0';
}

static void cat_u(char *buf, uint32_t cap, uint32_t *n, uint32_t v, bool nul)
{
	char d[12];
	int k = 11;

	d[k] = '\0';
	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	cat(buf, cap, n, d + k, nul);
}

static void cat_rep(char *buf, uint32_t cap, uint32_t *n, char c, uint32_t count)
{
	while (count-- && *n + 1 < cap)
		buf[(*n)++] = c;
}

/* ---- the report ---- */

struct line {
	char b[320];
	uint32_t n;
};

static void l_s(struct line *l, const char *s)
{
	cat(l->b, sizeof(l->b), &l->n, s, false);
}

static void l_u(struct line *l, const char *key, uint32_t v)
{
	l_s(l, " ");
	l_s(l, key);
	l_s(l, "=");
	cat_u(l->b, sizeof(l->b), &l->n, v, false);
}

static void l_start(struct line *l, const char *round)
{
	l->n = 0;
	l_s(l, "XSATTACK ");
	l_s(l, round);
}

static void l_counts(struct line *l, const unsigned *cnt)
{
	for (int e = 0; e < XSA_NERR; e++)
		if (cnt[e])
			l_u(l, err_name[e], cnt[e]);
}

static void l_say(struct xsa *x, struct line *l)
{
	l->b[l->n < sizeof(l->b) ? l->n : sizeof(l->b) - 1] = '\0';
	x->env->say(x->env->ctx, l->b);
}

static void round_start(struct xsa *x)
{
	for (int e = 0; e < XSA_NERR; e++)
		x->cnt[e] = 0;
	x->stop = false;
}

/* ---- the ring ---- */

static uint64_t now(struct xsa *x)
{
	return x->env->now_ms(x->env->ctx);
}

/* Writes n bytes into the request ring, waiting for room; -1 if none came
 * within timeout_ms (xenstored stopped reading us, or we broke the ring). */
static int put(struct xsa *x, const void *p, uint32_t n, unsigned timeout_ms)
{
	struct xenstore_domain_interface *i = x->i;
	const char *s = p;
	uint64_t end = now(x) + timeout_ms;

	while (n) {
		uint32_t cons = __atomic_load_n(&i->req_cons, __ATOMIC_ACQUIRE);
		uint32_t prod = __atomic_load_n(&i->req_prod, __ATOMIC_RELAXED);
		uint32_t room = prod - cons > RING ? 0 : RING - (prod - cons), k;

		if (room == 0) {
			x->env->kick(x->env->ctx);
			if (now(x) >= end)
				return -1;
			x->env->wait(x->env->ctx, 10);
			continue;
		}
		for (k = 0; k < n && k < room; k++)
			i->req[MASK_XENSTORE_IDX(prod + k)] = s[k];
		__atomic_store_n(&i->req_prod, prod + k, __ATOMIC_SEQ_CST);
		s += k;
		n -= k;
	}
	return 0;
}

/* Room for `need` bytes in the request ring within timeout_ms. */
static bool wait_room(struct xsa *x, uint32_t need, unsigned timeout_ms)
{
	uint64_t end = now(x) + timeout_ms;

	for (;;) {
		uint32_t cons = __atomic_load_n(&x->i->req_cons, __ATOMIC_ACQUIRE);
		uint32_t used = __atomic_load_n(&x->i->req_prod, __ATOMIC_RELAXED) - cons;

		if (used <= RING && RING - used >= need)
			return true;
		if (now(x) >= end)
			return false;
		x->env->kick(x->env->ctx);
		x->env->wait(x->env->ctx, 10);
	}
}

static int send_msg(struct xsa *x, uint32_t type, uint32_t tx, const void *body, uint32_t len,
		    unsigned timeout_ms)
{
	struct xsd_sockmsg h = { .type = type, .req_id = ++x->req_id, .tx_id = tx, .len = len };
	int rc = put(x, &h, sizeof(h), timeout_ms);

	if (rc == 0)
		rc = put(x, body, len, timeout_ms);
	x->env->kick(x->env->ctx);
	return rc;
}

/* Reads n bytes of the response ring; the timeout restarts with each byte
 * that comes (a long message comes in ring-sized parts). */
static int get(struct xsa *x, void *p, uint32_t n, unsigned timeout_ms)
{
	struct xenstore_domain_interface *i = x->i;
	char *d = p;
	uint64_t end = now(x) + timeout_ms;

	while (n) {
		uint32_t prod = __atomic_load_n(&i->rsp_prod, __ATOMIC_ACQUIRE);
		uint32_t cons = __atomic_load_n(&i->rsp_cons, __ATOMIC_RELAXED);
		uint32_t k = 0;

		if (prod - cons > RING)
			return -1; /* not what xenstored writes: stop reading */
		while (cons + k != prod && k < n) {
			d[k] = i->rsp[MASK_XENSTORE_IDX(cons + k)];
			k++;
		}
		if (k) {
			__atomic_store_n(&i->rsp_cons, cons + k, __ATOMIC_SEQ_CST);
			x->env->kick(x->env->ctx); /* room for what xenstored queued */
			d += k;
			n -= k;
			end = now(x) + timeout_ms;
			continue;
		}
		if (now(x) >= end)
			return -1;
		x->env->wait(x->env->ctx, 10);
	}
	return 0;
}

/* The next message, events included: its type, or -1. */
static int recv_msg(struct xsa *x, unsigned timeout_ms)
{
	if (get(x, &x->hdr, sizeof(x->hdr), timeout_ms) < 0 || x->hdr.len > XENSTORE_PAYLOAD_MAX ||
	    get(x, x->msg, x->hdr.len, timeout_ms) < 0)
		return -1;
	x->msg[x->hdr.len] = '\0';
	if (x->hdr.type == XS_WATCH_EVENT)
		x->r->events++;
	return (int)x->hdr.type;
}

/* The next reply (watch events are counted and skipped), or -1. */
static int reply(struct xsa *x, unsigned timeout_ms)
{
	int t;

	while ((t = recv_msg(x, timeout_ms)) == XS_WATCH_EVENT)
		;
	return t;
}

static enum xsa_err classify(const struct xsa *x)
{
	if (x->hdr.type != XS_ERROR)
		return XSA_OK;
	for (int e = XSA_EINVAL; e < XSA_EOTHER; e++)
		if (seq(x->msg, err_name[e]))
			return (enum xsa_err)e;
	return XSA_EOTHER;
}

/* One request and its reply: the reply's class, or -1 (no reply). */
static int call(struct xsa *x, uint32_t type, uint32_t tx, const char *body, uint32_t len,
		unsigned timeout_ms)
{
	enum xsa_err e;

	if (send_msg(x, type, tx, body, len, timeout_ms) < 0 || reply(x, timeout_ms) < 0)
		return -1;
	e = classify(x);
	x->cnt[e]++;
	return (int)e;
}

/* Requests made by gen (it sets x->type, x->tx and x->req, returns the
 * length), up to `window` in flight; each reply's class goes to done().
 * Stops early when done() sets x->stop.  Returns the replies received;
 * the requests sent and never answered are added to r->lost. */
typedef uint32_t gen_fn(struct xsa *x, unsigned k);
typedef void done_fn(struct xsa *x, unsigned k, enum xsa_err e);

static unsigned batch(struct xsa *x, unsigned n, gen_fn *gen, done_fn *done, unsigned window)
{
	unsigned sent = 0, got = 0;

	/* Below the outstanding quota (20): with more in flight, a guest
	 * blocked writing while it reads nothing waits on xenstored, which
	 * waits for it to read (Linux reads replies in another thread). */
	if (window == 0)
		window = 1;
	if (window > 16)
		window = 16;
	while (got < n) {
		while (!x->stop && sent < n && sent - got < window) {
			uint32_t len = gen(x, sent), need = (uint32_t)sizeof(struct xsd_sockmsg) + len;

			/* A request that does not fit now waits for the replies
			 * ahead of it to be read (gen makes it again). */
			if (sent > got && !wait_room(x, need < RING ? need : RING, 0))
				break;
			if (send_msg(x, x->type, x->tx, x->req, len, REPLY_MS) < 0)
				break;
			sent++;
		}
		if (got == sent)
			break;
		if (reply(x, REPLY_MS) < 0) {
			x->r->lost += sent - got;
			break;
		}
		enum xsa_err e = classify(x);

		x->cnt[e]++;
		if (done)
			done(x, got, e);
		got++;
		if (x->stop && got == sent)
			break;
	}
	return got;
}

/* Sets x->req to the strings given (each with its NUL); returns the length. */
static uint32_t args(struct xsa *x, const char *a, const char *b)
{
	uint32_t n = 0;

	cat(x->req, sizeof(x->req), &n, a, true);
	if (b)
		cat(x->req, sizeof(x->req), &n, b, true);
	return n;
}

static bool alive(struct xsa *x, unsigned timeout_ms)
{
	uint32_t n = args(x, "xsattack/hello", NULL);

	return call(x, XS_READ, 0, x->req, n, timeout_ms) == XSA_OK && seq(x->msg, "1");
}

/* ---- (0) hello: the ring answers ---- */

static void round_hello(struct xsa *x)
{
	struct line l;
	uint32_t n = args(x, "xsattack/hello", "1") - 1; /* a value has no NUL */

	int c;

	round_start(x);
	c = call(x, XS_WRITE, 0, x->req, n, HELLO_MS);
	x->r->hello = c == XSA_OK && alive(x, REPLY_MS);
	l_start(&l, "hello");
	l_s(&l, x->r->hello ? " ok: the ring answers" : " FAILED: no answer on the ring");
	if (!x->r->hello) {
		/* What the page said, for the log of a failed run. */
		l_u(&l, " call", (uint32_t)c);
		l_u(&l, " req_prod", x->i->req_prod);
		l_u(&l, " req_cons", x->i->req_cons);
		l_u(&l, " rsp_prod", x->i->rsp_prod);
		l_u(&l, " rsp_cons", x->i->rsp_cons);
		l_u(&l, " error", x->i->error);
		l_u(&l, " reply_type", x->hdr.type);
	}
	l_say(x, &l);
}

/* ---- (b) unknown types, replies as requests, malformed bodies ---- */

struct raw {
	uint32_t type, tx;
	const char *body;
	uint32_t len;
};

static const struct raw raws[] = {
	{ 9999, 0, "x", 2 },
	{ XS_TYPE_COUNT, 0, "", 0 },
	{ XS_TYPE_COUNT + 1, 0, "a\0b", 4 },
	{ XS_INVALID, 0, "", 0 },
	{ 0xffffffffu, 0, "x", 2 },
	{ 20 /* XS_RESTRICT, removed */, 0, "1", 2 },
	{ XS_WATCH_EVENT, 0, "a\0b", 4 },	/* a reply type as a request */
	{ XS_ERROR, 0, "EINVAL", 7 },
	{ XS_INTRODUCE, 0, "1\0" "0\0" "1", 6 }, /* privileged */
	{ XS_RELEASE, 0, "1", 2 },
	{ XS_RESUME, 0, "1", 2 },
	{ XS_SET_TARGET, 0, "1\0" "2", 4 },
	{ XS_IS_DOMAIN_INTRODUCED, 0, "0", 2 },
	{ XS_CONTROL, 0, "print\0x", 8 },
	{ XS_READ, 0, "abc", 3 },		  /* no NUL */
	{ XS_READ, 0, "a\0b", 4 },		  /* two arguments */
	{ XS_READ, 77777, "xsattack/hello", 15 }, /* a transaction it never had */
	{ XS_WRITE, 0, "", 0 },
	{ XS_MKDIR, 0, "", 0 },
	{ XS_WATCH, 0, "onlyone", 8 },
	{ XS_UNWATCH, 0, "never\0set", 10 },
	{ XS_TRANSACTION_END, 0, "T", 2 },	/* outside a transaction */
	{ XS_TRANSACTION_END, 4242, "X", 2 },
	{ XS_DIRECTORY_PART, 0, "xsattack\0zz", 12 },
	{ XS_SET_PERMS, 0, "xsattack/hello\0n0\0r1\0r2\0r3\0r4\0r5\0r6", 36 }, /* over 5 */
	{ XS_SET_PERMS, 0, "xsattack/hello\0q0", 18 },
	{ XS_GET_PERMS, 0, "/tool", 6 },
	{ XS_READ, 0, "/local/domain/0/name", 21 },
	{ XS_RM, 0, "/", 2 },
	{ XS_WRITE, 0, "/x", 2 }, /* a write outside its home */
	{ XS_GET_DOMAIN_PATH, 0, "99999999999999", 15 },
};
#define NRAWS (sizeof(raws) / sizeof(raws[0]))

static uint32_t gen_types(struct xsa *x, unsigned k)
{
	if (k < NRAWS) {
		x->type = raws[k].type;
		x->tx = raws[k].tx;
		for (uint32_t j = 0; j < raws[k].len; j++)
			x->req[j] = raws[k].body[j];
		return raws[k].len;
	}
	/* A whole payload of 0xff: no NUL anywhere, no valid character. */
	x->type = XS_READ;
	x->tx = 0;
	for (uint32_t j = 0; j < XENSTORE_PAYLOAD_MAX; j++)
		x->req[j] = (char)0xff;
	return XENSTORE_PAYLOAD_MAX;
}

static void round_types(struct xsa *x)
{
	struct line l;
	unsigned n = NRAWS + 1;

	round_start(x);
	x->r->types_sent = n;
	x->r->types_answered = batch(x, n, gen_types, NULL, 1);
	l_start(&l, "b-types");
	l_u(&l, "sent", n);
	l_u(&l, "answered", x->r->types_answered);
	l_counts(&l, x->cnt);
	l_s(&l, alive(x, REPLY_MS) ? " ring=answers" : " ring=silent");
	l_say(x, &l);
}

/* ---- (e) transactions never ended ---- */

static uint32_t gen_txn(struct xsa *x, unsigned k)
{
	(void)k;
	x->type = XS_TRANSACTION_START;
	x->tx = 0;
	x->req[0] = '\0';
	return 1;
}

static void done_txn(struct xsa *x, unsigned k, enum xsa_err e)
{
	(void)k;
	if (e == XSA_OK) {
		uint32_t id = 0;

		for (const char *p = x->msg; *p >= '0' && *p <= '9'; p++)
			id = id * 10 + (uint32_t)(*p - '0');
		x->r->txn_ok++;
		if (x->ntx < MAX_TXIDS)
			x->txid[x->ntx++] = id;
	} else {
		x->r->txn_refused++;
	}
}

/* Nodes written inside the open transactions: t/<j>/<k>. */
static uint32_t gen_txwrite(struct xsa *x, unsigned k)
{
	uint32_t n = 0;

	x->type = XS_WRITE;
	x->tx = x->txid[k % x->ntx];
	cat(x->req, sizeof(x->req), &n, "t/", false);
	cat_u(x->req, sizeof(x->req), &n, k % x->ntx, false);
	cat(x->req, sizeof(x->req), &n, "/n", false);
	cat_u(x->req, sizeof(x->req), &n, k, true);
	cat(x->req, sizeof(x->req), &n, "v", false);
	return n;
}

/* The first transaction, until its node quota answers. */
static uint32_t gen_txfill(struct xsa *x, unsigned k)
{
	uint32_t n = 0;

	x->type = XS_WRITE;
	x->tx = x->txid[0];
	cat(x->req, sizeof(x->req), &n, "t/q/", false);
	cat_u(x->req, sizeof(x->req), &n, k, true);
	cat(x->req, sizeof(x->req), &n, "v", false);
	return n;
}

static void done_until_error(struct xsa *x, unsigned k, enum xsa_err e)
{
	(void)k;
	if (e != XSA_OK)
		x->stop = true;
	else
		x->aux++;
}

static void round_txn(struct xsa *x)
{
	struct line l;
	unsigned txw_ok, fill_ok;

	round_start(x);
	x->ntx = 0;
	batch(x, x->o->txns, gen_txn, done_txn, x->o->window);
	l_start(&l, "e-transactions");
	l_u(&l, "started", x->o->txns);
	l_counts(&l, x->cnt);
	if (x->ntx) {
		round_start(x);
		batch(x, 20 * x->ntx, gen_txwrite, NULL, x->o->window);
		txw_ok = x->cnt[XSA_OK];
		round_start(x);
		x->aux = 0;
		batch(x, 1100, gen_txfill, done_until_error, 1);
		fill_ok = x->aux;
		l_u(&l, "writes_in_open", txw_ok);
		l_u(&l, "fill_ok", fill_ok);
		l_s(&l, " fill_stopped_by=");
		l_s(&l, x->cnt[XSA_OK] == 1100 ? "nothing" : err_name[x->hdr.type == XS_ERROR ? classify(x) : XSA_OK]);
	}
	l_s(&l, " never_ended");
	l_say(x, &l);
}

/* ---- (d) watch churn ---- */

static uint32_t gen_watchmax(struct xsa *x, unsigned k)
{
	uint32_t n = 0;

	x->type = XS_WATCH;
	x->tx = 0;
	cat(x->req, sizeof(x->req), &n, "w/", false);
	cat_u(x->req, sizeof(x->req), &n, k, true);
	cat(x->req, sizeof(x->req), &n, "tok", true);
	return n;
}

static uint32_t gen_unwatchmax(struct xsa *x, unsigned k)
{
	uint32_t n = gen_watchmax(x, k);

	x->type = XS_UNWATCH;
	return n;
}

static uint32_t gen_churn(struct xsa *x, unsigned k)
{
	uint32_t n = 0;

	x->type = (k & 1) ? XS_UNWATCH : XS_WATCH;
	x->tx = 0;
	cat(x->req, sizeof(x->req), &n, "c/", false);
	cat_u(x->req, sizeof(x->req), &n, (k / 2) % 64, true);
	cat(x->req, sizeof(x->req), &n, "t", false);
	cat_u(x->req, sizeof(x->req), &n, k / 2, true);
	return n;
}

static void done_churn(struct xsa *x, unsigned k, enum xsa_err e)
{
	if (!(k & 1))
		x->aux = e == XSA_OK;
	else if (x->aux && e == XSA_OK)
		x->r->churn_ok++;
}

static void round_watch(struct xsa *x)
{
	static const char *const special[][2] = {
		{ "/", "root" }, { "@introduceDomain", "intro" }, { "@releaseDomain", "rel" },
	};
	struct line l;
	unsigned set, special_ok = 0;

	round_start(x);
	for (unsigned s = 0; s < 3; s++) {
		uint32_t n = args(x, special[s][0], special[s][1]);

		special_ok += call(x, XS_WATCH, 0, x->req, n, REPLY_MS) == XSA_OK;
	}
	l_start(&l, "d-watches");
	l_u(&l, "special_ok", special_ok);
	/* As many as it is given, then every one of them off again. */
	round_start(x);
	x->aux = 0;
	batch(x, 400, gen_watchmax, done_until_error, 1);
	set = x->aux;
	x->r->watches_max = set + special_ok;
	l_u(&l, "watches_max", x->r->watches_max);
	l_s(&l, " then=");
	l_s(&l, x->cnt[XSA_OK] == 400 ? "no-limit" : err_name[classify(x)]);
	round_start(x);
	batch(x, set, gen_unwatchmax, NULL, x->o->window);
	l_u(&l, "unwatched", x->cnt[XSA_OK]);
	round_start(x);
	batch(x, 2 * x->o->churn, gen_churn, done_churn, x->o->window);
	l_u(&l, "churn_pairs", x->o->churn);
	l_u(&l, "churn_ok", x->r->churn_ok);
	l_counts(&l, x->cnt);
	l_u(&l, "events", x->r->events);
	l_say(x, &l);
}

/* ---- (c) the flood: thousands of writes with crafted names ---- */

static const char *const bad_names[] = {
	"f/..", "..", "@x", "f/t/", "f//x", "f/a b", "f/a.b", "f/\x01", "/local/domain/0/x", "",
};
#define NBAD (sizeof(bad_names) / sizeof(bad_names[0]))

static uint32_t gen_flood(struct xsa *x, unsigned k)
{
	char *b = x->req;
	uint32_t cap = sizeof(x->req), n = 0, want;

	x->type = XS_WRITE;
	x->tx = 0;
	switch (k % 8) {
	case 3: /* one long component */
		cat(b, cap, &n, "f/L", false);
		cat_u(b, cap, &n, k, false);
		cat_rep(b, cap, &n, 'x', 1000);
		break;
	case 4: /* paths at and just over the relative path limit (2048) */
		cat(b, cap, &n, "f/d", false);
		cat_u(b, cap, &n, k, false);
		want = (k / 8) % 2 ? 2100 : 2040;
		while (n + 17 < want)
			cat(b, cap, &n, "/abcdefghijklmnop", false);
		cat_rep(b, cap, &n, 'z', want - n);
		break;
	case 5: /* every allowed punctuation */
		cat(b, cap, &n, "f/p-_@", false);
		cat_u(b, cap, &n, k, false);
		cat(b, cap, &n, "-@_-/@-_", false);
		break;
	case 6: /* names Xen refuses */
		cat(b, cap, &n, bad_names[(k / 8) % NBAD], false);
		break;
	case 7: /* big values: within node-size, then over it */
		cat(b, cap, &n, "f/v", false);
		cat_u(b, cap, &n, k, true);
		cat_rep(b, cap, &n, 'v', (k / 8) % 2 ? 4000 : 1900);
		return n;
	default:
		cat(b, cap, &n, "f/n", false);
		cat_u(b, cap, &n, k, false);
		break;
	}
	b[n++] = '\0';
	cat(b, cap, &n, "v", false);
	return n;
}

static void done_flood(struct xsa *x, unsigned k, enum xsa_err e)
{
	(void)k;
	switch (e) {
	case XSA_OK:
		x->r->flood_ok++;
		break;
	case XSA_ENOSPC:
	case XSA_E2BIG:
	case XSA_EIO:
	case XSA_ENOMEM:
		if (++x->r->flood_quota >= x->o->quota_stop)
			x->stop = true;
		break;
	default:
		x->r->flood_invalid++;
		break;
	}
}

static void round_flood(struct xsa *x)
{
	struct line l;

	round_start(x);
	x->r->flood_sent = batch(x, x->o->flood_max, gen_flood, done_flood, x->o->window);
	l_start(&l, "c-flood");
	l_u(&l, "writes", x->r->flood_sent);
	l_u(&l, "ok", x->r->flood_ok);
	l_u(&l, "quota_errors", x->r->flood_quota);
	l_u(&l, "refused_names", x->r->flood_invalid);
	l_counts(&l, x->cnt);
	l_s(&l, alive(x, REPLY_MS) ? " ring=answers" : " ring=silent");
	l_say(x, &l);
}

/* ---- (f) requests whose replies it does not read ---- */

static void round_noread(struct xsa *x)
{
	struct xenstore_domain_interface *i = x->i;
	uint32_t start = __atomic_load_n(&i->req_cons, __ATOMIC_ACQUIRE), n;
	unsigned sent = 0, drained = 0;
	uint64_t stall_end;
	struct line l;

	round_start(x);
	n = args(x, "xsattack/hello", NULL);
	/* Until xenstored has taken nothing for stall_ms: its outstanding
	 * quota and our full response ring stop it.  Only whole requests go
	 * in, so that the stream is whole when the replies are read. */
	while (sent < 2000 && wait_room(x, (uint32_t)sizeof(struct xsd_sockmsg) + n, x->o->stall_ms) &&
	       send_msg(x, XS_READ, 0, x->req, n, x->o->stall_ms) == 0)
		sent++;
	x->r->noread_sent = sent;
	x->r->noread_taken =
		(__atomic_load_n(&i->req_cons, __ATOMIC_ACQUIRE) - start) / (uint32_t)(sizeof(struct xsd_sockmsg) + n);
	/* Left like that a while longer: the others must not notice. */
	stall_end = now(x) + x->o->stall_ms;
	while (now(x) < stall_end)
		x->env->wait(x->env->ctx, 50);
	/* Then every reply, none lost. */
	while (drained < sent && reply(x, REPLY_MS) >= 0) {
		x->cnt[classify(x)]++;
		drained++;
	}
	x->r->noread_drained = drained;
	if (drained < sent)
		x->r->lost += sent - drained;
	l_start(&l, "f-unread");
	l_u(&l, "sent", sent);
	l_u(&l, "taken_while_unread", x->r->noread_taken);
	l_u(&l, "replies_after", drained);
	l_counts(&l, x->cnt);
	l_s(&l, alive(x, REPLY_MS) ? " ring=answers" : " ring=silent");
	l_say(x, &l);
}

/* ---- the two violations that end the connection ---- */

static uint32_t wait_error(struct xsa *x, unsigned ms)
{
	uint64_t end = now(x) + ms;
	uint32_t e;

	while ((e = __atomic_load_n(&x->i->error, __ATOMIC_ACQUIRE)) == 0 && now(x) < end)
		x->env->wait(x->env->ctx, 10);
	return e;
}

static void break_len(struct xsa *x, unsigned slot)
{
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = ++x->req_id, .len = 5000 };
	bool sent = put(x, &h, sizeof(h), 2000) == 0;
	struct line l;

	x->env->kick(x->env->ctx);
	x->r->error_after[slot] = wait_error(x, 3000);
	x->r->answers_after[slot] = sent && alive(x, 2000);
	l_start(&l, "a-oversize");
	l_s(&l, sent ? " header_len=5000 sent" : " not_sent(ring_full)");
	l_u(&l, "error", x->r->error_after[slot]);
	l_s(&l, x->r->answers_after[slot] ? " ring=answers" : " ring=silent");
	l_say(x, &l);
}

static void break_idx(struct xsa *x, unsigned slot)
{
	struct xenstore_domain_interface *i = x->i;
	uint32_t cons = __atomic_load_n(&i->req_cons, __ATOMIC_ACQUIRE);
	struct line l;

	__atomic_store_n(&i->req_prod, cons + 5000, __ATOMIC_SEQ_CST);
	x->env->kick(x->env->ctx);
	x->r->error_after[slot] = wait_error(x, 3000);
	/* put() finds no room in a ring whose indexes are 5000 apart. */
	x->r->answers_after[slot] = alive(x, 2000);
	l_start(&l, "f-req_prod+5000");
	l_u(&l, "error", x->r->error_after[slot]);
	l_s(&l, x->r->answers_after[slot] ? " ring=answers" : " ring=silent");
	l_say(x, &l);
}

_Static_assert(sizeof(struct xsa) <= sizeof(struct xsa_state), "struct xsa_state holds struct xsa");

int xsa_run(struct xsa_state *st, struct xenstore_domain_interface *intf,
	    const struct xsa_env *env, const struct xsa_opts *opts, struct xsa_result *res)
{
	static void (*const rounds[])(struct xsa *) = {
		round_types, round_txn, round_watch, round_flood, round_noread,
	};

	struct xsa *x = (struct xsa *)st->mem;

	*x = (struct xsa){ .i = intf, .env = env, .o = opts, .r = res };
	*res = (struct xsa_result){ 0 };
	round_hello(x);
	if (!res->hello)
		return -1;
	res->rounds++;
	for (unsigned k = 0; k < sizeof(rounds) / sizeof(rounds[0]); k++) {
		rounds[k](x);
		res->rounds++;
	}
	if (opts->breaker == XSA_LEN_FIRST) {
		break_len(x, 0);
		break_idx(x, 1);
	} else {
		break_idx(x, 0);
		break_len(x, 1);
	}
	res->rounds += 2;
	return 0;
}
