/* Hostile guests against the real daemon (issue 12 item 3): two attackers
 * (tests/lab/xsattack/xsattack_core.c, the same rounds the lab's PVH guest
 * runs) on simulated rings, while two well-behaved guests write and read
 * their homes and watch a node, and a domain-0 client writes and reads over
 * the socket.  Asserts: every good request answered (none lost), each within
 * LATENCY_MAX; the attackers' rounds saw the quotas and errors Xen gives and
 * lost nothing before their last two rounds end their connections; the
 * daemon lives, its heap and RSS stay below ANON_MAX_KB and RSS_MAX_KB, and
 * the attackers' nodes and bytes stay within their quotas, gone with the
 * domains.  XSATTACK_CHURN=<pairs> (for experiments) sets the watch churn
 * and prints the daemon's size as it goes. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "testutil.h"

#include "guestsim.h"
#include "xsattack_core.h"

#define LATENCY_MAX 2.0	     /* seconds: generous, never a tight time */
/* The daemon's size after: its heap, and all it holds resident (the
 * journal is a shared mapping of up to 16 MiB, counted in VmRSS). */
#define ANON_MAX_KB (32 * 1024)
#define RSS_MAX_KB (64 * 1024)
#define RUN_MAX 50.0	     /* seconds the attackers may take */
#define NODES_QUOTA 1000     /* Xen's default (docs/xenstored.md) */
#define MEMORY_QUOTA 2621440

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct attacker {
	struct guest g;
	struct xsa_opts o;
	struct xsa_result r;
	struct xsa_state st;
	int rc;
	atomic_bool done;
	pthread_t t;
};

static void env_kick(void *ctx)
{
	guest_kick(&((struct attacker *)ctx)->g);
}

static void env_wait(void *ctx, unsigned ms)
{
	struct attacker *a = ctx;
	struct pollfd p = { .fd = a->g.kick_out, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, (int)ms) == 1)
		(void)!read(a->g.kick_out, &v, sizeof(v));
}

static uint64_t env_now_ms(void *ctx)
{
	return (uint64_t)(now() * 1000);
}

static void env_say(void *ctx, const char *line)
{
	printf("dom%u: %s\n", ((struct attacker *)ctx)->g.domid, line);
	fflush(stdout);
}

static void *attack(void *p)
{
	struct attacker *a = p;
	const struct xsa_env env = { a, env_kick, env_wait, env_now_ms, env_say };

	a->rc = xsa_run(&a->st, a->g.intf, &env, &a->o, &a->r);
	atomic_store(&a->done, true);
	return NULL;
}

static void give_home(struct xs_handle *h, unsigned domid)
{
	struct xs_permissions p = { .id = domid, .perms = XS_PERM_NONE };
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	CHECK(xs_mkdir(h, XBT_NULL, path));
	CHECK(xs_set_permissions(h, XBT_NULL, path, &p, 1));
	CHECK(xs_introduce_domain(h, domid, 0, 1));
}

struct good {
	struct guest g;
	unsigned ops, lost, events;
	double max;
	char buf[XENSTORE_PAYLOAD_MAX + 1];
};

/* A request and its reply, the watch events before it counted; the reply's
 * type, or -1 if none came within 2 * LATENCY_MAX. */
static int good_call(struct good *w, uint32_t type, const char *body, uint32_t len)
{
	double t0 = now();
	int t;

	if (guest_send(&w->g, type, body, len) < 0)
		return -1;
	while ((t = guest_recv(&w->g, w->buf, (int)(2000 * LATENCY_MAX))) == XS_WATCH_EVENT)
		w->events++;
	if (now() - t0 > w->max)
		w->max = now() - t0;
	return t;
}

/* One round of a good guest: write data/tick, read it back. */
static void good_round(struct good *w, unsigned n)
{
	char req[64];
	int k = snprintf(req, sizeof(req), "data/tick%c%u", 0, n);

	if (good_call(w, XS_WRITE, req, (uint32_t)k) != XS_WRITE ||
	    good_call(w, XS_READ, "data/tick", 10) != XS_READ || (unsigned)atoi(w->buf) != n)
		w->lost++;
	else
		w->ops++;
}

/* Its watch fires for domain 0's poke: the event arrives within 2 s. */
static bool good_event(struct good *w, struct xs_handle *h, const char *val)
{
	char path[64];
	int t;

	snprintf(path, sizeof(path), "/local/domain/%u/data/poke", w->g.domid);
	if (!xs_write(h, XBT_NULL, path, val, (unsigned)strlen(val)))
		return false;
	while ((t = guest_recv(&w->g, w->buf, 2000)) == XS_WATCH_EVENT) {
		w->events++;
		if (!strcmp(w->buf, "data/poke"))
			return true;
	}
	return false;
}

struct dom0 {
	unsigned ops, lost;
	double max;
};

static void dom0_round(struct xs_handle *h, struct dom0 *z, unsigned n)
{
	char v[16], *got;
	unsigned len;
	double t0 = now(), dt;
	int k = snprintf(v, sizeof(v), "%u", n);

	got = xs_write(h, XBT_NULL, "/tool/xsattack/tick", v, (unsigned)k)
		      ? xs_read(h, XBT_NULL, "/tool/xsattack/tick", &len)
		      : NULL;
	dt = now() - t0;
	if (dt > z->max)
		z->max = dt;
	if (got && !strcmp(got, v))
		z->ops++;
	else
		z->lost++;
	free(got);
}

/* A line of /proc/<pid>/status in kB ("VmRSS:", "RssAnon:"), or -1. */
static long status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && sscanf(line + strlen(key), "%ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Nodes at and below path (path included). */
static unsigned count_nodes(struct xs_handle *h, const char *path)
{
	unsigned n = 0, total = 1;
	char **kids = xs_directory(h, XBT_NULL, path, &n);
	char sub[4096];

	for (unsigned i = 0; kids && i < n; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, kids[i]);
		total += count_nodes(h, sub);
	}
	free(kids);
	return total;
}

static long long domain_memory(struct xs_handle *h, unsigned domid)
{
	char arg[16], *r, *m;
	long long v = -1;

	snprintf(arg, sizeof(arg), "%u", domid);
	r = xs_control_command(h, "quota", arg, strlen(arg) + 1);
	m = r ? strstr(r, "\nmemory") : NULL;
	if (m && (m = strchr(m, ':')) != NULL)
		v = strtoll(m + 1, NULL, 10);
	free(r);
	return v;
}

static void check_attacker(struct xs_handle *h, struct attacker *a, uint32_t first_error)
{
	const struct xsa_result *r = &a->r;
	char home[64];
	unsigned nodes;
	long long mem;

	CHECK(a->rc == 0 && r->hello && r->rounds == 8);
	CHECK(r->lost == 0);
	CHECK(r->types_answered == r->types_sent);
	/* The flood met the node (or memory) quota and was refused, not
	 * ignored: some writes done, then quota errors; bad names refused. */
	CHECK(r->flood_ok > 0 && r->flood_quota >= a->o.quota_stop && r->flood_invalid > 0);
	/* 128 watches and one more (Xen compares with '>'), then E2BIG. */
	CHECK(r->watches_max >= 128 && r->watches_max <= 131);
	CHECK(r->churn_ok == a->o.churn);
	/* 10 transactions and one more, the rest refused. */
	CHECK(r->txn_ok >= 10 && r->txn_ok <= 11 && r->txn_refused == a->o.txns - r->txn_ok);
	/* Unread replies stop the daemon reading: what fits the response ring
	 * (18-byte replies) and 20 queued (the outstanding quota), a few more
	 * at most; and every one of them comes when read.  Without the quota
	 * it took 1980 of 2000. */
	CHECK(r->noread_taken < r->noread_sent &&
	      r->noread_taken <= 20 + XENSTORE_RING_SIZE / 18 + 8);
	CHECK(r->noread_drained == r->noread_sent);
	CHECK(r->error_after[0] == first_error && r->error_after[1] == first_error);
	CHECK(!r->answers_after[0] && !r->answers_after[1]);
	snprintf(home, sizeof(home), "/local/domain/%u", a->g.domid);
	nodes = count_nodes(h, home);
	mem = domain_memory(h, a->g.domid);
	printf("dom%u: %u nodes under its home, %lld bytes charged; %u watch events\n", a->g.domid,
	       nodes, mem, r->events);
	/* Its home is domain 0's node; every node below is the attacker's. */
	CHECK(nodes - 1 <= NODES_QUOTA + 1);
	CHECK(mem > 0 && mem <= MEMORY_QUOTA);
}

int main(void)
{
	const char *gsock = getenv("XSD_GUEST_SOCKET"), *pidenv = getenv("XS_PID");
	struct xs_handle *h = xs_open(0);
	static struct attacker att[2];
	static struct good good[2];
	struct dom0 z = { 0 };
	struct xsa_opts o = XSA_OPTS_DEFAULT;
	pid_t pid = pidenv ? (pid_t)atoi(pidenv) : 0;
	double t0, t_end;
	unsigned n = 0, pokes = 0;
	long rss0, rss1, anon0, anon1;

	if (!h || !gsock || pid <= 0) {
		fprintf(stderr, "usage: XENSTORED_PATH, XSD_GUEST_SOCKET and XS_PID set\n");
		return 1;
	}
	rss0 = status_kb(pid, "VmRSS:");
	anon0 = status_kb(pid, "RssAnon:");
	/* Experiments: more churn, to see whether the daemon's size follows. */
	if (getenv("XSATTACK_CHURN"))
		o.churn = (unsigned)atoi(getenv("XSATTACK_CHURN"));
	for (int k = 0; k < 2; k++) {
		unsigned gd = 21 + (unsigned)k, ad = 11 + (unsigned)k;
		char tok[] = "data/poke\0w";

		give_home(h, gd);
		CHECK(guest_init(&good[k].g, gd) == 0 && guest_handover(&good[k].g, gsock, 0) == 0);
		CHECK(good_call(&good[k], XS_WATCH, tok, sizeof(tok)) == XS_WATCH);
		give_home(h, ad);
		CHECK(guest_init(&att[k].g, ad) == 0 && guest_handover(&att[k].g, gsock, 0) == 0);
		att[k].o = o;
		att[k].o.breaker = k ? XSA_IDX_FIRST : XSA_LEN_FIRST;
	}
	if (failures)
		return 1;
	t0 = now();
	for (int k = 0; k < 2; k++)
		CHECK(pthread_create(&att[k].t, NULL, attack, &att[k]) == 0);
	/* The good ones go on while either attacker runs. */
	t_end = t0 + RUN_MAX;
	while ((!atomic_load(&att[0].done) || !atomic_load(&att[1].done)) && now() < t_end) {
		n++;
		for (int k = 0; k < 2; k++)
			good_round(&good[k], n);
		dom0_round(h, &z, n);
		if (n % 100 == 0) {
			char v[16];

			snprintf(v, sizeof(v), "p%u", n);
			for (int k = 0; k < 2; k++)
				CHECK(good_event(&good[k], h, v));
			pokes++;
		}
		usleep(1000);
		if (getenv("XSATTACK_CHURN") && n % 500 == 0)
			printf("%.1f s: RSS %ld kB, anonymous %ld kB\n", now() - t0, status_kb(pid, "VmRSS:"), status_kb(pid, "RssAnon:"));
	}
	printf("attackers ran %.1f s\n", now() - t0);
	CHECK(atomic_load(&att[0].done) && atomic_load(&att[1].done));
	for (int k = 0; k < 2; k++)
		pthread_join(att[k].t, NULL);
	/* Once more after the attack: still served, the watch still fires. */
	for (int k = 0; k < 2; k++) {
		good_round(&good[k], ++n);
		CHECK(good_event(&good[k], h, "after"));
	}
	for (int k = 0; k < 2; k++) {
		printf("good dom%u: %u rounds, %u lost, max latency %.1f ms, %u watch events\n",
		       good[k].g.domid, good[k].ops, good[k].lost, good[k].max * 1e3, good[k].events);
		CHECK(good[k].lost == 0 && good[k].ops >= 50 && good[k].max < LATENCY_MAX);
		/* Its watch's first event, one per poke, one after: none lost. */
		CHECK(good[k].events == pokes + 2);
	}
	printf("dom0: %u write+read rounds, %u lost, max latency %.1f ms; %u pokes\n", z.ops, z.lost,
	       z.max * 1e3, pokes);
	CHECK(z.lost == 0 && z.ops >= 50 && z.max < LATENCY_MAX);
	check_attacker(h, &att[0], XENSTORE_ERROR_PROTO);
	check_attacker(h, &att[1], XENSTORE_ERROR_RINGIDX);
	/* Released, the attackers leave nothing behind. */
	for (int k = 0; k < 2; k++) {
		char home[64];

		snprintf(home, sizeof(home), "/local/domain/%u", att[k].g.domid);
		CHECK(xs_release_domain(h, att[k].g.domid));
		CHECK(xs_read(h, XBT_NULL, home, NULL) == NULL && domain_memory(h, att[k].g.domid) <= 0);
	}
	CHECK(kill(pid, 0) == 0);
	rss1 = status_kb(pid, "VmRSS:");
	anon1 = status_kb(pid, "RssAnon:");
	printf("xenstored RSS %ld kB before, %ld kB after (bound %d kB); heap (RssAnon) %ld kB "
	       "before, %ld kB after (bound %d kB)\n",
	       rss0, rss1, RSS_MAX_KB, anon0, anon1, ANON_MAX_KB);
	CHECK(rss1 > 0 && rss1 < RSS_MAX_KB && anon1 > 0 && anon1 < ANON_MAX_KB);
	xs_close(h);
	printf("xsattack: %d failures\n", failures);
	return failures ? 1 : 0;
}
