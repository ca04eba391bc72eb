/* The vif back end's control side (vmm/xenbus/vif.c) through the state
 * machine, without xenstore: --nic values, the keys written before
 * InitWait, the wait for the hotplug script's hotplug-status, the
 * frontend's keys as netback reads them (hostile values refused, naming
 * the key), and a connection kept across a save (the vif's part of its
 * XENBUS record), with a fake data path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "xb_fake_xs.h"

#include "xenbus/vif.h"

/* The fake data path: records what it was asked. */
static struct vif_front last_front;
static struct vif_pos last_pos[VIF_MAX_QUEUES];
static bool last_resumed;
static uint64_t last_rate;
static int dp_opens, dp_closes, dp_connects, dp_disconnects, dp_quiesces, dp_resumes, dp_rc, open_rc;
static int fake_tap;

void vif_datapath_limits(struct vif_limits *lim)
{
	*lim = (struct vif_limits){ .max_queues = 4 };
}

int vif_datapath_open(void *host, const struct vif_cfg *cfg, void **tap, char *why, size_t wl)
{
	(void)host;
	if (open_rc) {
		snprintf(why, wl, "%s: cannot create the TAP device: Operation not permitted", cfg->ifname);
		return open_rc;
	}
	dp_opens++;
	*tap = &fake_tap;
	return 0;
}

void vif_datapath_close(void *tap)
{
	assert_ptr_equal(tap, &fake_tap);
	dp_closes++;
}

int vif_datapath_connect(void *host, void *tap, const struct vif_cfg *cfg, const struct vif_front *fe,
			 const struct vif_back *back, const struct vif_pos *pos, void **dp, char *why, size_t wl)
{
	(void)host;
	(void)cfg;
	last_rate = back && back->rate ? back->rate_bytes : 0;
	assert_ptr_equal(tap, &fake_tap);
	if (dp_rc) {
		snprintf(why, wl, "binding event-channel %u", fe->q[0].evtchn_tx);
		return dp_rc;
	}
	last_front = *fe;
	last_resumed = pos != NULL;
	if (pos)
		memcpy(last_pos, pos, sizeof(*pos) * fe->nr_queues);
	dp_connects++;
	*dp = &last_front;
	return 0;
}

int vif_datapath_quiesce(void *dp)
{
	(void)dp;
	dp_quiesces++;
	return 0;
}

int vif_datapath_resume(void *dp, char *why, size_t wl)
{
	(void)dp;
	(void)why;
	(void)wl;
	dp_resumes++;
	return 0;
}

int vif_datapath_save(void *dp, struct vif_pos pos[VIF_MAX_QUEUES])
{
	for (unsigned q = 0; q < ((struct vif_front *)dp)->nr_queues; q++)
		pos[q] = (struct vif_pos){ 7 + q, 7 + q, 300 + q, 300 + q };
	return 0;
}

void vif_datapath_disconnect(void *dp)
{
	if (dp)
		dp_disconnects++;
}

struct t {
	struct xb_fake_xs f;
	struct xb_io io;
	struct xb_backend b;
	struct vif *v;
};

#define HOTPLUG "hotplug-status=connected\nmac=00:16:3e:12:34:56\n"

static void setup(struct t *t, const char *fe, const char *be)
{
	struct vif_cfg c;
	char why[512];

	memset(t, 0, sizeof(*t));
	t->f.fe = fe;
	t->f.be = be;
	assert_int_equal(vif_parse_arg("0,vif7.0", &c, why, sizeof(why)), 0);
	assert_int_equal(vif_new(NULL, &c, &t->v, why, sizeof(why)), 0);
	xb_fake_xs_io(&t->f, &t->io);
	xb_init(&t->b, &vif_xb_ops, t->v, &t->io);
}

static void teardown(struct t *t)
{
	vif_free(t->v);
}

static void test_parse_arg(void **state)
{
	struct vif_cfg c;
	char why[512];

	(void)state;
	assert_int_equal(vif_parse_arg("3,vif12.3", &c, why, sizeof(why)), 0);
	assert_int_equal(c.devid, 3);
	assert_string_equal(c.ifname, "vif12.3");
	assert_int_equal(vif_parse_arg("0,abcdefghijklmno", &c, why, sizeof(why)), 0);
	const char *bad[] = {
		"", "0", "0,", ",vif1.0", "x,vif1.0", "01,vif1.0", "0,abcdefghijklmnop", "0,a/b", "0,a:b",
		"0,a b", "0,.", "0,..", "99999999999,vif1.0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(vif_parse_arg(bad[i], &c, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "DEVID,IFNAME"));
	}
}

/* The TAP device is made with the instance and goes with it; a failure
 * says why and leaves nothing. */
static void test_tap_lifetime(void **state)
{
	struct vif_cfg c = { .devid = 1, .ifname = "vif9.1" };
	struct vif *v;
	char why[256] = "";
	int o = dp_opens, cl = dp_closes;

	(void)state;
	open_rc = -EPERM;
	assert_int_equal(vif_new(NULL, &c, &v, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "vif9.1: cannot create the TAP device: Operation not permitted");
	open_rc = 0;
	assert_int_equal(dp_opens, o);
	assert_int_equal(vif_new(NULL, &c, &v, why, sizeof(why)), 0);
	assert_int_equal(dp_opens, o + 1);
	vif_free(v);
	assert_int_equal(dp_closes, cl + 1);
}

/* netback_probe's keys, then InitWait; the frontend connects, but the
 * backend waits for hotplug-status (hotplug_status_changed) before it
 * connects and says Connected. */
static void test_features_hotplug_connect(void **state)
{
	struct t t;
	int before = dp_connects;

	(void)state;
	setup(&t, "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel-tx=5\nevent-channel-rx=6\nrequest-rx-copy=1\n"
		  "feature-rx-notify=1\nfeature-sg=1\nfeature-gso-tcpv4=1\nfeature-gso-tcpv6=1\n"
		  "feature-ipv6-csum-offload=1",
	      "mac=00:16:3e:12:34:56");
	assert_int_equal(xb_created(&t.b), 0);
	assert_string_equal(t.f.log, "feature-sg=1 feature-gso-tcpv4=1 feature-gso-tcpv6=1 "
				     "feature-ipv6-csum-offload=1 feature-rx-copy=1 feature-rx-flip=0 "
				     "feature-split-event-channels=1 multi-queue-max-queues=4 state=2");
	t.f.log[0] = '\0';
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	assert_int_equal(t.b.state, XenbusStateInitWait);
	assert_int_equal(dp_connects, before);
	/* the script failed: still waiting */
	t.f.be = "hotplug-status=error\nmac=00:16:3e:12:34:56";
	assert_int_equal(xb_backend_changed(&t.b, true, XenbusStateInitWait), 0);
	assert_int_equal(dp_connects, before);
	assert_string_equal(t.f.log, "");
	/* vif-bridge online wrote connected */
	t.f.be = HOTPLUG;
	assert_int_equal(xb_backend_changed(&t.b, true, XenbusStateInitWait), 0);
	assert_string_equal(t.f.log, "state=4");
	assert_int_equal(dp_connects, before + 1);
	assert_int_equal(last_front.nr_queues, 1);
	assert_int_equal(last_front.q[0].tx_ref, 8);
	assert_int_equal(last_front.q[0].rx_ref, 9);
	assert_int_equal(last_front.q[0].evtchn_tx, 5);
	assert_int_equal(last_front.q[0].evtchn_rx, 6);
	assert_true(last_front.sg && last_front.gso_tcpv4 && last_front.gso_tcpv6 && last_front.rx_notify);
	assert_true(last_front.ip_csum && last_front.ipv6_csum);
	/* a later backend event does not connect again */
	assert_int_equal(xb_backend_changed(&t.b, true, XenbusStateConnected), 0);
	assert_int_equal(dp_connects, before + 1);
	teardown(&t);
	assert_int_equal(dp_disconnects, dp_connects);
}

/* Hotplug done first (the usual order with xl): the frontend's Connected
 * connects at once.  One event channel, defaults for absent features. */
static void test_hotplug_first(void **state)
{
	struct t t;

	(void)state;
	setup(&t, "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1\nfeature-no-csum-offload=1",
	      HOTPLUG "rate=10000000,50000");
	xb_created(&t.b);
	t.f.log[0] = '\0';
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), 0);
	assert_string_equal(t.f.log, "state=4");
	assert_int_equal(last_front.q[0].evtchn_tx, 5);
	assert_int_equal(last_front.q[0].evtchn_rx, 5);
	assert_false(last_front.sg || last_front.gso_tcpv4 || last_front.ipv6_csum || last_front.ip_csum);
	assert_int_equal(last_rate, 10000000); /* the rate goes to the data path */
	teardown(&t);
}

static void test_back_keys(void **state)
{
	struct vif_back b;
	struct xb_fake_xs k = { .be = HOTPLUG "rate=10000000,50000" };
	struct xb_reader r = { &k, xb_fake_xs_read_be };
	char why[128] = "";

	(void)state;
	assert_int_equal(vif_read_back(&r, &b, why, sizeof(why)), 1);
	assert_memory_equal(b.mac, ((uint8_t[]){ 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 }), 6);
	assert_true(b.rate);
	assert_int_equal(b.rate_bytes, 10000000);
	assert_int_equal(b.rate_usec, 50000);
	const char *unlimited[] = { "rate=abc", "rate=10,", "rate=,5", "rate=10,5x", "rate=-1,5" };
	for (size_t i = 0; i < sizeof(unlimited) / sizeof(unlimited[0]); i++) {
		char be[128];

		snprintf(be, sizeof(be), HOTPLUG "%s", unlimited[i]);
		k.be = be;
		assert_int_equal(vif_read_back(&r, &b, why, sizeof(why)), 1);
		assert_false(b.rate);
	}
	const char *badmac[] = { "", "mac=00:16:3e:12:34", "mac=00:16:3e:12:34:56:78", "mac=00-16-3e-12-34-56",
				 "mac=100:16:3e:12:34:56", "mac=0g:16:3e:12:34:56", "mac=00:16:3e:12:34:" };
	for (size_t i = 0; i < sizeof(badmac) / sizeof(badmac[0]); i++) {
		char be[128];

		snprintf(be, sizeof(be), "hotplug-status=connected\n%s", badmac[i]);
		k.be = be;
		assert_true(vif_read_back(&r, &b, why, sizeof(why)) < 0);
		assert_string_equal(why, "parsing mac");
	}
	k.be = "mac=00:16:3e:12:34:56";
	assert_int_equal(vif_read_back(&r, &b, why, sizeof(why)), 0);
}

static void test_multi_queue(void **state)
{
	struct t t;

	(void)state;
	setup(&t, "multi-queue-num-queues=2\nrequest-rx-copy=1\n"
		  "queue-0/tx-ring-ref=10\nqueue-0/rx-ring-ref=11\nqueue-0/event-channel-tx=20\n"
		  "queue-0/event-channel-rx=21\n"
		  "queue-1/tx-ring-ref=12\nqueue-1/rx-ring-ref=13\nqueue-1/event-channel=22",
	      HOTPLUG);
	xb_created(&t.b);
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	assert_int_equal(t.b.state, XenbusStateConnected);
	assert_int_equal(last_front.nr_queues, 2);
	assert_int_equal(last_front.q[0].rx_ref, 11);
	assert_int_equal(last_front.q[0].evtchn_rx, 21);
	assert_int_equal(last_front.q[1].tx_ref, 12);
	assert_int_equal(last_front.q[1].evtchn_tx, 22);
	assert_int_equal(last_front.q[1].evtchn_rx, 22);
	teardown(&t);
}

/* What a hostile or broken frontend writes: refused with netback's
 * message, the backend in Closing with the error node. */
static void test_bad_frontend(void **state)
{
	const struct {
		const char *fe, *be, *error;
	} cases[] = {
		{ "rx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1", HOTPLUG, "22 reading ring-ref" },
		{ "tx-ring-ref=8\nevent-channel=5\nrequest-rx-copy=1", HOTPLUG, "22 reading ring-ref" },
		{ "tx-ring-ref=8x\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1", HOTPLUG, "22 reading ring-ref" },
		{ "tx-ring-ref=4294967296\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1", HOTPLUG,
		  "22 reading ring-ref" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nrequest-rx-copy=1", HOTPLUG, "22 reading event-channel(-tx/rx)" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel-tx=5\nrequest-rx-copy=1", HOTPLUG,
		  "22 reading event-channel(-tx/rx)" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=-5\nrequest-rx-copy=1", HOTPLUG,
		  "22 reading event-channel(-tx/rx)" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5", HOTPLUG,
		  "95 request-rx-copy is not 1: only rx-copy is served (feature-rx-flip 0)" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=0", HOTPLUG,
		  "95 request-rx-copy is not 1: only rx-copy is served (feature-rx-flip 0)" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=one", HOTPLUG,
		  "22 reading request-rx-copy" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1\nfeature-sg=yes", HOTPLUG,
		  "22 reading feature-sg" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1\nmulti-queue-num-queues=5", HOTPLUG,
		  "22 guest requested 5 queues, but valid range is 1 - 4." },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1\nmulti-queue-num-queues=0", HOTPLUG,
		  "22 guest requested 0 queues, but valid range is 1 - 4." },
		{ "multi-queue-num-queues=2\nrequest-rx-copy=1\nqueue-0/tx-ring-ref=1\nqueue-0/rx-ring-ref=2\n"
		  "queue-0/event-channel=3\nqueue-1/tx-ring-ref=4\nqueue-1/rx-ring-ref=5",
		  HOTPLUG, "22 reading queue-1/event-channel(-tx/rx)" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1",
		  "hotplug-status=connected\nmac=zz", "22 parsing mac" },
		{ "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1", "hotplug-status=connected",
		  "2 parsing mac" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct t t;
		char want[300];
		int before = dp_connects;

		setup(&t, cases[i].fe, cases[i].be);
		xb_created(&t.b);
		t.f.log[0] = '\0';
		assert_true(xb_frontend_changed(&t.b, XenbusStateConnected) < 0);
		snprintf(want, sizeof(want), "error=\"%s\" state=5", cases[i].error);
		assert_string_equal(t.f.log, want);
		assert_int_equal(dp_connects, before);
		teardown(&t);
	}
	/* the data path refusing (a port not offered) is fatal too */
	{
		struct t t;

		setup(&t, "tx-ring-ref=8\nrx-ring-ref=9\nevent-channel=5\nrequest-rx-copy=1", HOTPLUG);
		xb_created(&t.b);
		t.f.log[0] = '\0';
		dp_rc = -EINVAL;
		assert_true(xb_frontend_changed(&t.b, XenbusStateConnected) < 0);
		dp_rc = 0;
		assert_string_equal(t.f.log, "error=\"22 binding event-channel 5\" state=5");
		teardown(&t);
	}
}

/* A save that goes on: quiesce and resume the same data path; the record
 * has the rings and positions; a new vif loaded from it connects from the
 * record, not from the frontend's keys. */
static void test_save_restore(void **state)
{
	struct t t, r;
	uint8_t buf[XB_DEV_SAVED_MAX], xb[XB_SAVED_LEN];
	int n, q = dp_quiesces, res = dp_resumes;

	(void)state;
	setup(&t, "multi-queue-num-queues=2\nrequest-rx-copy=1\nfeature-sg=1\n"
		  "queue-0/tx-ring-ref=10\nqueue-0/rx-ring-ref=11\nqueue-0/event-channel=20\n"
		  "queue-1/tx-ring-ref=12\nqueue-1/rx-ring-ref=13\nqueue-1/event-channel=22",
	      HOTPLUG "rate=5000,20000");
	xb_created(&t.b);
	xb_frontend_changed(&t.b, XenbusStateConnected);
	xb_quiesce(&t.b);
	assert_int_equal(dp_quiesces, q + 1);
	n = xb_save_dev(&t.b, buf, sizeof(buf));
	assert_int_equal(n, 32 + 2 * 32);
	xb_save(&t.b, xb);
	assert_int_equal(xb_resume(&t.b), 0);
	assert_int_equal(dp_resumes, res + 1);

	/* the guest changed its keys meanwhile: the record wins */
	setup(&r, "tx-ring-ref=99\nrx-ring-ref=98\nevent-channel=97\nrequest-rx-copy=1", "");
	assert_int_equal(xb_load(&r.b, xb), 0);
	assert_int_equal(xb_load_dev(&r.b, buf, (size_t)n), 0);
	assert_int_equal(xb_resume(&r.b), 0);
	assert_true(last_resumed);
	assert_int_equal(last_front.nr_queues, 2);
	assert_true(last_front.sg);
	assert_int_equal(last_front.q[1].tx_ref, 12);
	assert_int_equal(last_front.q[1].evtchn_rx, 22);
	assert_int_equal(last_pos[1].tx_req_cons, 8);
	assert_int_equal(last_pos[1].rx_rsp_prod_pvt, 301);
	assert_int_equal(last_rate, 5000); /* the rate came back with the record */
	assert_int_equal(r.b.state, XenbusStateConnected);
	teardown(&r);
	teardown(&t);
}

static void test_saved_corrupt(void **state)
{
	struct vif_front f = { .nr_queues = 1, .q = { { 1, 2, 3, 3 } } };
	struct vif_back b = { .rate = true, .rate_bytes = 1u << 20, .rate_usec = 50000 }, bo;
	struct vif_pos pos[VIF_MAX_QUEUES] = { { 5, 5, 9, 9 } }, p2[VIF_MAX_QUEUES];
	struct vif_limits lim = { .max_queues = 4 };
	struct vif_front out;
	uint8_t buf[256], bad[256];
	int n;

	(void)state;
	n = vif_saved_encode(&f, &b, pos, buf, sizeof(buf));
	assert_int_equal(n, 64);
	assert_int_equal(vif_saved_encode(&f, &b, pos, buf, 63), -ENOSPC);
	assert_int_equal(vif_saved_decode(buf, (size_t)n, &lim, &out, &bo, p2), 0);
	assert_int_equal(out.q[0].evtchn_rx, 3);
	assert_int_equal(p2[0].rx_req_cons, 9);
	assert_true(bo.rate);
	assert_int_equal(bo.rate_bytes, 1u << 20);
	assert_int_equal(bo.rate_usec, 50000);
	/* every length but the right one */
	for (int l = 0; l < n + 8; l++)
		if (l != n)
			assert_int_equal(vif_saved_decode(buf, (size_t)l, &lim, &out, &bo, p2), -EINVAL);
	const struct {
		int at;
		uint8_t v;
	} flips[] = { { 0, 2 }, { 4, 0 }, { 4, 5 }, { 8, 64 }, { 12, 1 }, { 24, 0 }, { 48, 6 }, { 56, 10 } };
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(bad, buf, (size_t)n);
		bad[flips[i].at] = flips[i].v;
		if (flips[i].at == 24) /* bytes without a period */
			bad[25] = bad[26] = bad[27] = 0;
		assert_int_equal(vif_saved_decode(bad, (size_t)n, &lim, &out, &bo, p2), -EINVAL);
	}
	/* unlimited: zeros */
	assert_int_equal(vif_saved_encode(&f, NULL, pos, buf, sizeof(buf)), 64);
	assert_int_equal(vif_saved_decode(buf, 64, &lim, &out, &bo, p2), 0);
	assert_false(bo.rate);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_arg),	  cmocka_unit_test(test_tap_lifetime),
		cmocka_unit_test(test_features_hotplug_connect), cmocka_unit_test(test_hotplug_first),
		cmocka_unit_test(test_back_keys),	  cmocka_unit_test(test_multi_queue),
		cmocka_unit_test(test_bad_frontend),	  cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_saved_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
