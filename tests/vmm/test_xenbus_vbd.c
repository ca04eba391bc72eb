/* The vbd back end's control side (vmm/xenbus/vbd.c) through the state
 * machine, without xenstore: --disk values, the frontend's keys as blkback
 * reads them (hostile values refused, naming the key), the keys written
 * before InitWait and at connect, and a connection kept across a save (the
 * vbd's part of its XENBUS record), with a fake data path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "xb_fake_xs.h"

#include "xenbus/vbd.h"

/* The fake data path: records what it was asked to connect. */
static struct vbd_front last_front;
static struct vbd_pos last_pos[VBD_MAX_QUEUES], saved_pos = { 7, 7 };
static bool last_resumed;
static int dp_connects, dp_disconnects, dp_quiesces, dp_resumes, dp_rc;

void vbd_datapath_limits(struct vbd_limits *lim)
{
	*lim = (struct vbd_limits){ .max_queues = 4, .max_ring_page_order = 2, .max_indirect_segs = 32,
				    .persistent = true };
}

int vbd_datapath_connect(void *host, const struct vbd_cfg *cfg, const struct vbd_front *fe,
			 const struct vbd_pos *pos, void **dp, struct vbd_disk_info *info, char *why, size_t wl)
{
	(void)host;
	(void)cfg;
	if (dp_rc) {
		snprintf(why, wl, "event channel %u is not bound", fe->rings[0].evtchn);
		return dp_rc;
	}
	last_front = *fe;
	last_resumed = pos != NULL;
	if (pos)
		memcpy(last_pos, pos, sizeof(*pos) * fe->nr_queues);
	dp_connects++;
	*dp = &last_front;
	*info = (struct vbd_disk_info){ .sectors = 2048, .flush_cache = true };
	return 0;
}

int vbd_datapath_quiesce(void *dp)
{
	(void)dp;
	dp_quiesces++;
	return 0;
}

int vbd_datapath_resume(void *dp, char *why, size_t wl)
{
	(void)dp;
	(void)why;
	(void)wl;
	dp_resumes++;
	return 0;
}

int vbd_datapath_save(void *dp, struct vbd_pos pos[VBD_MAX_QUEUES])
{
	for (unsigned q = 0; q < ((struct vbd_front *)dp)->nr_queues; q++)
		pos[q] = (struct vbd_pos){ saved_pos.req_cons + q, saved_pos.rsp_prod_pvt + q };
	return 0;
}

void vbd_datapath_disconnect(void *dp)
{
	if (dp)
		dp_disconnects++;
}

struct t {
	struct xb_fake_xs f;
	struct xb_io io;
	struct xb_backend b;
	struct vbd *v;
};

static void setup(struct t *t, const char *arg, const char *fe)
{
	struct vbd_cfg c;
	char why[512];

	memset(t, 0, sizeof(*t));
	t->f.fe = fe;
	assert_int_equal(vbd_parse_arg(arg, &c, why, sizeof(why)), 0);
	assert_int_equal(vbd_new(NULL, &c, &t->v), 0);
	xb_fake_xs_io(&t->f, &t->io);
	xb_init(&t->b, &vbd_xb_ops, t->v, &t->io);
}

static void teardown(struct t *t)
{
	vbd_free(t->v);
}

static void test_parse_arg(void **state)
{
	struct vbd_cfg c;
	char why[512];

	(void)state;
	assert_int_equal(vbd_parse_arg("51712,vbd,raw,w,disk,/srv/a,b.img", &c, why, sizeof(why)), 0);
	assert_int_equal(c.devid, 51712);
	assert_string_equal(c.kind, "vbd");
	assert_true(c.readwrite);
	assert_false(c.cdrom);
	assert_string_equal(c.path, "/srv/a,b.img");
	assert_int_equal(vbd_parse_arg("5696,qdisk,empty,r,cdrom,", &c, why, sizeof(why)), 0);
	assert_true(c.cdrom);
	assert_string_equal(c.path, "");
	const char *bad[] = {
		"", "51712", "51712,vbd,raw,w,disk", "x,vbd,raw,w,disk,/a", "051712,vbd,raw,w,disk,/a",
		"51712,vif,raw,w,disk,/a", "51712,vbd,qed,w,disk,/a", "51712,vbd,raw,rw,disk,/a",
		"51712,vbd,raw,w,floppy,/a", "51712,vbd,raw,w,disk,", "99999999999,vbd,raw,w,disk,/a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(vbd_parse_arg(bad[i], &c, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "DEVID,KIND,FORMAT,MODE,DEVTYPE,PATH"));
	}
}

static void test_features_and_connect(void **state)
{
	struct t t;

	(void)state;
	setup(&t, "51712,vbd,raw,r,disk,/a", "ring-ref=8\nevent-channel=5\nprotocol=x86_64-abi\nfeature-persistent=1");
	assert_int_equal(xb_created(&t.b), 0);
	assert_string_equal(t.f.log,
			    "feature-max-indirect-segments=32 multi-queue-max-queues=4 max-ring-page-order=2 state=2");
	t.f.log[0] = '\0';
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), 0);
	assert_string_equal(t.f.log, "feature-flush-cache=1 feature-persistent=1 sectors=2048 info=4 sector-size=512 "
				     "physical-sector-size=512 state=4");
	assert_int_equal(last_front.nr_queues, 1);
	assert_int_equal(last_front.nr_ring_pages, 1);
	assert_false(last_front.multi_ref);
	assert_true(last_front.persistent);
	assert_int_equal(last_front.rings[0].ref[0], 8);
	assert_int_equal(last_front.rings[0].evtchn, 5);
	teardown(&t);
	assert_int_equal(dp_disconnects, dp_connects);
}

/* multi-queue-num-queues and ring-page-order: queue-N/ring-refM */
static void test_multi_queue(void **state)
{
	struct t t;

	(void)state;
	setup(&t, "51728,vbd,raw,w,cdrom,/a",
	      "multi-queue-num-queues=2\nring-page-order=1\n"
	      "queue-0/ring-ref0=10\nqueue-0/ring-ref1=11\nqueue-0/event-channel=20\n"
	      "queue-1/ring-ref0=12\nqueue-1/ring-ref1=13\nqueue-1/event-channel=21\nprotocol=x86_32-abi");
	xb_created(&t.b);
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	assert_int_equal(t.b.state, XenbusStateConnected);
	assert_non_null(strstr(t.f.log, "info=3 ")); /* cdrom, removable */
	assert_non_null(strstr(t.f.log, "feature-persistent=0"));
	assert_int_equal(last_front.nr_queues, 2);
	assert_int_equal(last_front.nr_ring_pages, 2);
	assert_true(last_front.multi_ref);
	assert_int_equal(last_front.protocol, VBD_PROTO_X86_32);
	assert_int_equal(last_front.rings[0].ref[1], 11);
	assert_int_equal(last_front.rings[1].ref[0], 12);
	assert_int_equal(last_front.rings[1].evtchn, 21);
	teardown(&t);
}

/* What a hostile or broken frontend writes: each refused with blkback's
 * message, the backend in Closing with the error node. */
static void test_bad_frontend(void **state)
{
	const struct {
		const char *fe, *error;
	} cases[] = {
		{ "event-channel=5", "22 reading ring-ref" },
		{ "ring-ref=8", "22 reading event-channel" },
		{ "ring-ref=8x\nevent-channel=5", "22 reading ring-ref" },
		{ "ring-ref=-1\nevent-channel=5", "22 reading ring-ref" },
		{ "ring-ref=4294967296\nevent-channel=5", "22 reading ring-ref" },
		{ "ring-ref=8\nevent-channel=", "22 reading event-channel" },
		{ "ring-ref=8\nevent-channel=5\nprotocol=arm-abi", "38 unknown fe protocol arm-abi" },
		{ "ring-ref=8\nevent-channel=5\nmulti-queue-num-queues=5",
		  "38 guest requested 5 queues, exceeding the maximum of 4." },
		{ "ring-ref=8\nevent-channel=5\nmulti-queue-num-queues=0",
		  "38 guest requested 0 queues, exceeding the maximum of 4." },
		{ "ring-ref0=8\nevent-channel=5\nring-page-order=3", "22 requested ring page order 3 exceed max:2" },
		{ "ring-ref0=8\nevent-channel=5\nring-page-order=1", "22 reading ring-ref1" },
		{ "ring-ref=8\nevent-channel=5\nring-page-order=0", "22 reading ring-ref0" },
		{ "multi-queue-num-queues=2\nqueue-0/ring-ref=1\nqueue-0/event-channel=2\nqueue-1/ring-ref=3",
		  "22 reading queue-1/event-channel" },
		{ "ring-ref=8\nevent-channel=5\nfeature-persistent=yes", "22 reading feature-persistent" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct t t;
		char want[300];
		int before = dp_connects;

		setup(&t, "51712,vbd,raw,w,disk,/a", cases[i].fe);
		xb_created(&t.b);
		t.f.log[0] = '\0';
		assert_true(xb_frontend_changed(&t.b, XenbusStateInitialised) < 0);
		snprintf(want, sizeof(want), "error=\"%s\" state=5", cases[i].error);
		assert_string_equal(t.f.log, want);
		assert_int_equal(dp_connects, before);
		teardown(&t);
	}
}

static void test_datapath_refuses(void **state)
{
	struct t t;

	(void)state;
	setup(&t, "51712,vbd,raw,w,disk,/a", "ring-ref=8\nevent-channel=5");
	xb_created(&t.b);
	t.f.log[0] = '\0';
	dp_rc = -EINVAL;
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), -EINVAL);
	dp_rc = 0;
	assert_string_equal(t.f.log, "error=\"22 event channel 5 is not bound\" state=5");
	teardown(&t);
}

/* A save that goes on: quiesce keeps the connection, resume serves again,
 * no keys are read or written. */
static void test_quiesce_resume(void **state)
{
	struct t t;
	int c0, d0;

	(void)state;
	setup(&t, "51712,vbd,raw,w,disk,/a", "ring-ref=8\nevent-channel=5");
	xb_created(&t.b);
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateInitialised), 0);
	c0 = dp_connects, d0 = dp_disconnects;
	t.f.log[0] = '\0';
	xb_quiesce(&t.b);
	assert_int_equal(dp_quiesces, 1);
	assert_true(t.b.connected && t.b.quiesced);
	assert_int_equal(xb_resume(&t.b), 0);
	assert_int_equal(dp_resumes, 1);
	assert_false(t.b.quiesced);
	assert_int_equal(dp_connects, c0);
	assert_int_equal(dp_disconnects, d0);
	assert_string_equal(t.f.log, "");
	teardown(&t);
	dp_quiesces = dp_resumes = 0;
}

/* A restore: the XENBUS record's device part carries the frontend's keys
 * and the positions; the new instance connects from them, not from the
 * frontend's (changed) keys, and writes the connect-time keys again. */
static void test_save_load(void **state)
{
	struct t t, u;
	uint8_t core[XB_SAVED_LEN], dev[XB_DEV_SAVED_MAX];
	int n;

	(void)state;
	setup(&t, "51712,vbd,raw,w,disk,/a",
	      "multi-queue-num-queues=2\nring-page-order=1\nqueue-0/ring-ref0=8\nqueue-0/ring-ref1=9\n"
	      "queue-0/event-channel=5\nqueue-1/ring-ref0=10\nqueue-1/ring-ref1=11\nqueue-1/event-channel=6");
	xb_created(&t.b);
	assert_int_equal(xb_frontend_changed(&t.b, XenbusStateConnected), 0);
	/* not quiesced: nothing of the device is saved */
	assert_int_equal(xb_save_dev(&t.b, dev, sizeof(dev)), 0);
	xb_quiesce(&t.b);
	xb_save(&t.b, core);
	n = xb_save_dev(&t.b, dev, sizeof(dev));
	assert_int_equal(n, 16 + 2 * (16 + 2 * 4));
	assert_int_equal(vbd_saved_encode(&last_front, last_pos, dev, 20), -ENOSPC);
	teardown(&t);

	setup(&u, "51712,vbd,raw,w,disk,/a", "ring-ref=99\nevent-channel=77");
	assert_int_equal(xb_load(&u.b, core), 0);
	assert_int_equal(xb_load_dev(&u.b, dev, (size_t)n - 1), -EINVAL);
	assert_false(u.b.connected);
	assert_int_equal(xb_load_dev(&u.b, dev, (size_t)n), 0);
	assert_true(u.b.connected && u.b.quiesced);
	memset(&last_front, 0, sizeof(last_front));
	assert_int_equal(xb_resume(&u.b), 0);
	assert_true(last_resumed);
	assert_int_equal(last_front.nr_queues, 2);
	assert_int_equal(last_front.nr_ring_pages, 2);
	assert_int_equal(last_front.rings[0].ref[1], 9);
	assert_int_equal(last_front.rings[1].ref[0], 10);
	assert_int_equal(last_front.rings[1].evtchn, 6);
	assert_int_equal(last_pos[0].req_cons, 7);
	assert_int_equal(last_pos[1].rsp_prod_pvt, 8);
	assert_string_equal(u.f.log, "feature-flush-cache=1 feature-persistent=0 sectors=2048 info=0 sector-size=512 "
				     "physical-sector-size=512");
	assert_false(u.b.quiesced);
	teardown(&u);
}

/* The device part is checked as a frontend's keys are: within the limits,
 * exact length, positions a quiesced ring has. */
static void test_saved_decode(void **state)
{
	struct vbd_limits lim;
	struct vbd_front f = { .nr_queues = 1, .nr_ring_pages = 4, .multi_ref = true,
			       .rings = { { .evtchn = 5, .ref = { 1, 2, 3, 4 } } } }, g;
	struct vbd_pos pos[VBD_MAX_QUEUES] = { { 3, 3 } }, p2[VBD_MAX_QUEUES];
	uint8_t b[256], c[256];
	int n;

	(void)state;
	vbd_datapath_limits(&lim);
	n = vbd_saved_encode(&f, pos, b, sizeof(b));
	assert_int_equal(n, 16 + 16 + 16);
	assert_int_equal(vbd_saved_decode(b, (size_t)n, &lim, &g, p2), 0);
	assert_memory_equal(&g.rings[0], &f.rings[0], sizeof(f.rings[0]));
	assert_int_equal(p2[0].req_cons, 3);
	assert_int_equal(vbd_saved_decode(b, 0, &lim, &g, p2), -EINVAL);
	for (size_t len = 1; len < (size_t)n + 4; len++)
		if (len != (size_t)n)
			assert_int_equal(vbd_saved_decode(b, len, &lim, &g, p2), -EINVAL);
	/* each corruption: version, queues 0 and 5, pages 3 and 8, flags, positions apart, pad */
	static const struct {
		size_t off;
		uint8_t v;
	} bad[] = { { 0, 2 }, { 4, 0 }, { 4, 5 }, { 8, 3 }, { 8, 8 }, { 12, 0x80 }, { 12, 0 }, { 20, 9 }, { 28, 1 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(c, b, (size_t)n);
		c[bad[i].off] = bad[i].v;
		assert_int_equal(vbd_saved_decode(c, (size_t)n, &lim, &g, p2), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_arg),
		cmocka_unit_test(test_features_and_connect),
		cmocka_unit_test(test_multi_queue),
		cmocka_unit_test(test_bad_frontend),
		cmocka_unit_test(test_datapath_refuses),
		cmocka_unit_test(test_quiesce_resume),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_saved_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
