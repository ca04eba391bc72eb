/* vmm/part.c and vmm/dev.c without KVM: a fake table records every call,
 * and the tests assert the order: init and start in table order, quiesce
 * and stop in reverse, a failure unwinding exactly what was done. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dev.h"
#include "part.h"

/* What was called, as "init a,start a,..." */
struct rec {
	char log[1024];
	const char *fail_init, *fail_start; /* the part that fails there */
	bool explain;                       /* the failing part says why */
};

static void note(struct rec *r, const char *op, const char *who)
{
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "%s%s %s", n ? "," : "", op, who);
}

#define FAKE_PART(X)                                                                                               \
	static int init_##X(void *ctx, char *why, size_t wl)                                                       \
	{                                                                                                          \
		struct rec *r = ctx;                                                                               \
		note(r, "init", #X);                                                                               \
		if (r->fail_init && strcmp(r->fail_init, #X) == 0) {                                               \
			if (r->explain)                                                                            \
				snprintf(why, wl, "%s is missing", #X);                                            \
			return -ENOENT;                                                                            \
		}                                                                                                  \
		return 0;                                                                                          \
	}                                                                                                          \
	static int start_##X(void *ctx, char *why, size_t wl)                                                      \
	{                                                                                                          \
		struct rec *r = ctx;                                                                               \
		note(r, "start", #X);                                                                              \
		return r->fail_start && strcmp(r->fail_start, #X) == 0 ? -EAGAIN : 0;                              \
	}                                                                                                          \
	static void quiesce_##X(void *ctx) { note(ctx, "quiesce", #X); }                                           \
	static int save_##X(void *ctx, struct stream_writer *w) { note(ctx, "save", #X); return 0; }               \
	static int load_##X(void *ctx, struct stream_reader *rd) { note(ctx, "load", #X); return 0; }              \
	static void stop_##X(void *ctx) { note(ctx, "stop", #X); }

FAKE_PART(a)
FAKE_PART(b)
FAKE_PART(c)

#define ROW(X) { #X, init_##X, start_##X, quiesce_##X, save_##X, load_##X, stop_##X }

static const struct part table[] = {
	ROW(a),
	{ .name = "nothing" }, /* every op may be NULL */
	ROW(b),
	ROW(c),
};

static void test_order(void **state)
{
	struct rec r = { .log = "" };
	struct parts p;
	char why[128] = "";

	parts_bind(&p, table, 4, &r);
	assert_int_equal(parts_init(&p, why, sizeof(why)), 0);
	assert_int_equal(parts_load(&p, NULL), 0);
	assert_int_equal(parts_start(&p, why, sizeof(why)), 0);
	assert_int_equal(parts_load(&p, NULL), -EBUSY); /* only before start */
	assert_int_equal(parts_save(&p, NULL), -EBUSY); /* only quiesced */
	parts_quiesce(&p);
	parts_quiesce(&p); /* once */
	assert_int_equal(parts_save(&p, NULL), 0);
	parts_stop(&p);
	parts_stop(&p); /* once */
	assert_string_equal(r.log, "init a,init b,init c,load a,load b,load c,start a,start b,start c,"
				   "quiesce c,quiesce b,quiesce a,save a,save b,save c,stop c,stop b,stop a");
	assert_string_equal(why, "");
}

static void test_init_fails(void **state)
{
	struct rec r = { .log = "", .fail_init = "c" };
	struct parts p;
	char why[128] = "";

	parts_bind(&p, table, 4, &r);
	assert_int_equal(parts_init(&p, why, sizeof(why)), -ENOENT);
	/* The parts inited before c stopped in reverse; none quiesced (none
	 * started), c itself not stopped (its init undid itself). */
	assert_string_equal(r.log, "init a,init b,init c,stop b,stop a");
	assert_string_equal(why, "c init: No such file or directory");
	parts_stop(&p); /* nothing left to do */
	assert_string_equal(r.log, "init a,init b,init c,stop b,stop a");
}

static void test_init_fails_first_explains(void **state)
{
	struct rec r = { .log = "", .fail_init = "a", .explain = true };
	struct parts p;
	char why[128] = "";

	parts_bind(&p, table, 4, &r);
	assert_int_equal(parts_init(&p, why, sizeof(why)), -ENOENT);
	assert_string_equal(r.log, "init a");
	assert_string_equal(why, "a is missing"); /* the part's own words kept */
}

static void test_start_fails(void **state)
{
	struct rec r = { .log = "", .fail_start = "b" };
	struct parts p;
	char why[128] = "";

	parts_bind(&p, table, 4, &r);
	assert_int_equal(parts_init(&p, why, sizeof(why)), 0);
	assert_int_equal(parts_start(&p, why, sizeof(why)), -EAGAIN);
	/* a was started: quiesced; then every inited part stopped in reverse,
	 * b (whose start failed) and c (never started) included. */
	assert_string_equal(r.log, "init a,init b,init c,start a,start b,quiesce a,stop c,stop b,stop a");
	assert_string_equal(why, "b start: Resource temporarily unavailable");
	parts_stop(&p);
	assert_string_equal(r.log, "init a,init b,init c,start a,start b,quiesce a,stop c,stop b,stop a");
}

/* Device instances: the same lifecycle, per instance, at run time. */
struct fake_dev {
	struct rec *r;
	char name[16];
	bool fail_start, fail_quiesce, fail_reconnect;
};

static int dev_start(void *inst)
{
	struct fake_dev *d = inst;

	note(d->r, "start", d->name);
	return d->fail_start ? -EIO : 0;
}

static int dev_quiesce(void *inst)
{
	struct fake_dev *d = inst;

	note(d->r, "quiesce", d->name);
	return d->fail_quiesce ? -EIO : 0;
}

static void dev_stop(void *inst)
{
	struct fake_dev *d = inst;

	note(d->r, "stop", d->name);
}

static int dev_reconnect(void *inst)
{
	struct fake_dev *d = inst;

	note(d->r, "reconnect", d->name);
	return d->fail_reconnect ? -ECONNREFUSED : 0;
}

static const struct dev_ops vbd_ops = { "vbd", dev_start, dev_quiesce, NULL, NULL, dev_stop, dev_reconnect };
static const struct dev_ops vif_ops = { "vif", dev_start, dev_quiesce, NULL, NULL, dev_stop, NULL };

static void test_devices(void **state)
{
	struct rec r = { .log = "" };
	struct fake_dev d[6] = {
		{ .r = &r, .name = "vbd0" }, { .r = &r, .name = "vif0" }, { .r = &r, .name = "vbd1" },
		{ .r = &r, .name = "dup" },  { .r = &r, .name = "bad", .fail_start = true },
		{ .r = &r, .name = "vif1" },
	};
	struct devices devs = { 0 };

	assert_int_equal(dev_add(&devs, &vbd_ops, 0, &d[0]), 0);
	assert_int_equal(dev_add(&devs, &vif_ops, 0, &d[1]), 0); /* same id, other kind */
	assert_string_equal(r.log, ""); /* not running: not started yet */
	assert_int_equal(devs_start(&devs), 0);
	assert_string_equal(r.log, "start vbd0,start vif0"); /* oldest first */
	r.log[0] = '\0';
	/* Hot-plugged into a running table: started at once. */
	assert_int_equal(dev_add(&devs, &vbd_ops, 1, &d[2]), 0);
	assert_ptr_equal(dev_find(&devs, "vbd", 1), &d[2]);
	/* A duplicate is refused and released; a failed start is released. */
	assert_int_equal(dev_add(&devs, &vbd_ops, 1, &d[3]), -EEXIST);
	assert_int_equal(dev_add(&devs, &vif_ops, 7, &d[4]), -EIO);
	assert_null(dev_find(&devs, "vif", 7));
	assert_string_equal(r.log, "start vbd1,stop dup,start bad,stop bad");
	r.log[0] = '\0';
	assert_int_equal(dev_remove(&devs, "vif", 0), 0);
	assert_int_equal(dev_remove(&devs, "vif", 0), -ENOENT);
	assert_null(dev_find(&devs, "vif", 0));
	assert_string_equal(r.log, "quiesce vif0,stop vif0");
	r.log[0] = '\0';
	assert_int_equal(devs_quiesce(&devs, NULL, 0), 0);
	/* Added while quiesced: not started, and stopped with the rest. */
	assert_int_equal(dev_add(&devs, &vif_ops, 1, &d[5]), 0);
	devs_stop(&devs);
	assert_null(devs.list);
	assert_string_equal(r.log, "quiesce vbd1,quiesce vbd0,stop vif1,stop vbd1,stop vbd0");
}

/* A device whose quiesce fails (a disk whose I/O did not finish): every
 * other one is still quiesced, and the first failure is returned naming
 * its kind and id, so that a save stops. */
static void test_device_quiesce_fails(void **state)
{
	struct rec r = { .log = "" };
	struct fake_dev d[3] = {
		{ .r = &r, .name = "vbd0" },
		{ .r = &r, .name = "vbd1", .fail_quiesce = true },
		{ .r = &r, .name = "vif0" },
	};
	struct devices devs = { 0 };
	char why[128] = "";

	(void)state;
	assert_int_equal(dev_add(&devs, &vbd_ops, 51712, &d[0]), 0);
	assert_int_equal(dev_add(&devs, &vbd_ops, 51728, &d[1]), 0);
	assert_int_equal(dev_add(&devs, &vif_ops, 0, &d[2]), 0);
	assert_int_equal(devs_start(&devs), 0);
	r.log[0] = '\0';
	assert_int_equal(devs_quiesce(&devs, why, sizeof(why)), -EIO);
	assert_string_equal(r.log, "quiesce vif0,quiesce vbd1,quiesce vbd0");
	assert_non_null(strstr(why, "vbd 51728"));
	/* The table starts again (the save failed, the domain runs on). */
	r.log[0] = '\0';
	assert_int_equal(devs_start(&devs), 0);
	assert_string_equal(r.log, "start vbd0,start vbd1,start vif0");
	devs_stop(&devs);
}

/* xenstored came back: every started instance with the op is told, one
 * that fails does not keep the others from it; a quiesced one is not told
 * (it watches again when it starts). */
static void test_device_reconnect(void **state)
{
	struct rec r = { .log = "" };
	struct fake_dev d[4] = {
		{ .r = &r, .name = "vbd0" },
		{ .r = &r, .name = "vbd1", .fail_reconnect = true },
		{ .r = &r, .name = "vif0" },
		{ .r = &r, .name = "vbd2" },
	};
	struct devices devs = { 0 };

	(void)state;
	assert_int_equal(dev_add(&devs, &vbd_ops, 51712, &d[0]), 0);
	assert_int_equal(dev_add(&devs, &vbd_ops, 51728, &d[1]), 0);
	assert_int_equal(dev_add(&devs, &vif_ops, 0, &d[2]), 0);
	assert_int_equal(devs_start(&devs), 0);
	r.log[0] = '\0';
	assert_int_equal(devs_reconnect(&devs), -ECONNREFUSED);
	assert_string_equal(r.log, "reconnect vbd1,reconnect vbd0");
	assert_int_equal(devs_quiesce(&devs, NULL, 0), 0);
	assert_int_equal(dev_add(&devs, &vbd_ops, 51744, &d[3]), 0);
	r.log[0] = '\0';
	assert_int_equal(devs_reconnect(&devs), 0);
	assert_string_equal(r.log, "");
	devs_stop(&devs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_init_fails),
		cmocka_unit_test(test_init_fails_first_explains),
		cmocka_unit_test(test_start_fails),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_device_quiesce_fails),
		cmocka_unit_test(test_device_reconnect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
