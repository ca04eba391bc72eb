/* Devices plugged at run time (vmm/hotplug.c) on a real device table
 * (vmm/dev.c) with a fake kind, and through the control protocol's server
 * (vmm/control_srv.c) as xl's device_add and device_remove reach it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "hotplug.h"

/* The fake kind "fk": argument "ID,WORD"; WORD "failcreate" or
 * "failstart" makes that step fail. */
struct fake_inst {
	unsigned id;
	bool failstart;
	int *started, *quiesced, *stopped;
};

struct fake_env {
	int created, started, quiesced, stopped;
};

static int fk_start(void *inst)
{
	struct fake_inst *f = inst;

	if (f->failstart)
		return -EIO;
	(*f->started)++;
	return 0;
}

static int fk_quiesce(void *inst)
{
	struct fake_inst *f = inst;

	(*f->quiesced)++;
	return 0;
}

static void fk_stop(void *inst)
{
	struct fake_inst *f = inst;

	(*f->stopped)++;
	free(f);
}

static const struct dev_ops fk_ops = { .kind = "fk", .start = fk_start, .quiesce = fk_quiesce, .stop = fk_stop };

static int fk_parse_id(const char *arg, unsigned *id, char *why, size_t wl)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (end == arg || *end != ',' || v > 65535) {
		snprintf(why, wl, "fk \"%s\": expected ID,WORD", arg);
		return -EINVAL;
	}
	*id = (unsigned)v;
	return 0;
}

static int fk_create(void *ctx, const char *arg, const struct dev_ops **ops, void **inst, char *why, size_t wl)
{
	struct fake_env *e = ctx;
	struct fake_inst *f;
	unsigned id;

	if (fk_parse_id(arg, &id, why, wl) < 0)
		return -EINVAL;
	if (strstr(arg, "failcreate")) {
		snprintf(why, wl, "fk %u: cannot open it", id);
		return -ENOENT;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	*f = (struct fake_inst){ .id = id, .failstart = strstr(arg, "failstart") != NULL, .started = &e->started,
				 .quiesced = &e->quiesced, .stopped = &e->stopped };
	e->created++;
	*ops = &fk_ops;
	*inst = f;
	return 0;
}

static const struct dev_ops fk2_ops = { .kind = "fk2", .start = fk_start, .quiesce = fk_quiesce, .stop = fk_stop };

static int fk2_create(void *ctx, const char *arg, const struct dev_ops **ops, void **inst, char *why, size_t wl)
{
	int rc = fk_create(ctx, arg, ops, inst, why, wl);

	*ops = &fk2_ops;
	return rc;
}

static const struct hotplug_kind kinds[] = {
	{ .kind = "fk", .option = "--fake", .parse_id = fk_parse_id, .create = fk_create },
	{ .kind = "fk2", .option = "--fake2", .parse_id = fk_parse_id, .create = fk2_create },
};

struct fixture {
	struct devices devs;
	struct fake_env env;
	struct hotplug h;
	char why[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->h = (struct hotplug){ .devs = &f->devs, .kinds = kinds, .n = 2, .ctx = &f->env };
	f->devs.running = true; /* a running domain: plugged instances start at once */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	devs_stop(&f->devs);
	free(f);
	return 0;
}

static void test_add_starts_and_remove_stops(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(hotplug_add(&f->h, "fk", "51728,disk", f->why, sizeof(f->why)), 0);
	assert_int_equal(f->env.started, 1);
	assert_non_null(dev_find(&f->devs, "fk", 51728));
	/* same id, another kind: another device */
	assert_int_equal(hotplug_add(&f->h, "fk2", "51728,disk", f->why, sizeof(f->why)), 0);
	assert_int_equal(hotplug_remove(&f->h, "fk", 51728, f->why, sizeof(f->why)), 0);
	assert_null(dev_find(&f->devs, "fk", 51728));
	assert_non_null(dev_find(&f->devs, "fk2", 51728));
	assert_int_equal(f->env.quiesced, 1);
	assert_int_equal(f->env.stopped, 1);
	/* plugged again after it went */
	assert_int_equal(hotplug_add(&f->h, "fk", "51728,disk", f->why, sizeof(f->why)), 0);
	assert_int_equal(f->env.started, 3);
}

static void test_duplicate_refused_before_create(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(hotplug_add(&f->h, "fk", "5,disk", f->why, sizeof(f->why)), 0);
	assert_int_equal(hotplug_add(&f->h, "fk", "5,other", f->why, sizeof(f->why)), -EEXIST);
	assert_string_equal(f->why, "fk 5 is plugged already");
	assert_int_equal(f->env.created, 1); /* nothing built for the refused one */
	assert_int_equal(f->env.stopped, 0); /* the plugged one untouched */
	assert_int_equal(f->env.started, 1);
}

static void test_bad_args_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(hotplug_add(&f->h, "fk", "five,disk", f->why, sizeof(f->why)), -EINVAL);
	assert_string_equal(f->why, "fk \"five,disk\": expected ID,WORD");
	assert_int_equal(hotplug_add(&f->h, "vif", "0,vif1.0", f->why, sizeof(f->why)), -EOPNOTSUPP);
	assert_string_equal(f->why, "no device kind \"vif\" in this monitor (it plugs fk, fk2)");
	assert_int_equal(hotplug_remove(&f->h, "vif", 0, f->why, sizeof(f->why)), -EOPNOTSUPP);
	assert_int_equal(hotplug_remove(&f->h, "fk", 9, f->why, sizeof(f->why)), -ENOENT);
	assert_string_equal(f->why, "no fk 9 in this domain");
	assert_int_equal(f->env.created, 0);
	assert_null(f->devs.list);
}

static void test_failed_create_or_start_leaves_nothing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(hotplug_add(&f->h, "fk", "7,failcreate", f->why, sizeof(f->why)), -ENOENT);
	assert_string_equal(f->why, "fk 7: cannot open it");
	assert_null(dev_find(&f->devs, "fk", 7));
	assert_int_equal(hotplug_add(&f->h, "fk", "7,failstart", f->why, sizeof(f->why)), -EIO);
	assert_non_null(strstr(f->why, "fk 7: cannot start its back end"));
	assert_null(dev_find(&f->devs, "fk", 7));
	assert_int_equal(f->env.stopped, 1); /* the instance that did not start was released */
	assert_int_equal(hotplug_add(&f->h, "fk", "7,disk", f->why, sizeof(f->why)), 0);
}

/* A monitor that does not run its table yet (or no more) takes the
 * device; it starts with the table. */
static void test_add_to_stopped_table_waits_for_start(void **state)
{
	struct fixture *f = *state;

	f->devs.running = false;
	assert_int_equal(hotplug_add(&f->h, "fk", "3,disk", f->why, sizeof(f->why)), 0);
	assert_int_equal(f->env.started, 0);
	assert_int_equal(devs_start(&f->devs), 0);
	assert_int_equal(f->env.started, 1);
}

/* Through the server: one request, its reply, as xl sends them. */
static int call(struct fixture *f, const struct ctl_msg *req, struct ctl_msg *rep)
{
	static control_op_fn *const fns[CTL_TYPE_END] = {
		[CTL_DEVICE_ADD] = hotplug_op_add,
		[CTL_DEVICE_REMOVE] = hotplug_op_remove,
	};
	const struct control_ops ops = { fns, CTL_TYPE_END };
	int sv[2], rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(ctl_send(sv[0], req, f->why, sizeof(f->why)), 0);
	assert_int_equal(control_handle(sv[1], &ops, &f->h), 0);
	rc = ctl_recv(sv[0], rep, f->why, sizeof(f->why));
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(rc, 0);
	assert_int_equal(rep->hdr.id, req->hdr.id);
	if (rep->hdr.type == CTL_ERROR) {
		snprintf(f->why, sizeof(f->why), "%s", rep->u.error.text);
		return rep->u.error.err;
	}
	assert_int_equal(rep->hdr.type, req->hdr.type);
	return 0;
}

static void test_control_requests(void **state)
{
	struct fixture *f = *state;
	struct ctl_msg req, rep;

	assert_int_equal(ctl_device_add_init(&req, 11, "fk", "51728,a path, with commas"), 0);
	assert_int_equal(call(f, &req, &rep), 0);
	assert_non_null(dev_find(&f->devs, "fk", 51728));
	assert_int_equal(call(f, &req, &rep), -EEXIST);
	assert_string_equal(f->why, "fk 51728 is plugged already");
	assert_int_equal(ctl_device_add_init(&req, 12, "fk", "x"), 0);
	assert_int_equal(call(f, &req, &rep), -EINVAL);
	assert_string_equal(f->why, "fk \"x\": expected ID,WORD");
	assert_int_equal(ctl_device_remove_init(&req, 13, "fk", 51728), 0);
	assert_int_equal(call(f, &req, &rep), 0);
	assert_null(dev_find(&f->devs, "fk", 51728));
	assert_int_equal(call(f, &req, &rep), -ENOENT);
	assert_string_equal(f->why, "no fk 51728 in this domain");
	assert_int_equal(f->env.started, 1);
	assert_int_equal(f->env.stopped, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_starts_and_remove_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_refused_before_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_create_or_start_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_to_stopped_table_waits_for_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_requests, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
