/* A domain's CPU share as a cgroup (xl/ts_sched.h), on a directory that
 * stands in for the cgroup v2 mount: what is written where, the weight and
 * cap conversions, and the run directory's record of the Xen values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "ts_sched.h"

static char *slurp(const char *dir, const char *file)
{
	static char buf[256];

	return test_read_file(dir, file, buf, sizeof(buf));
}

static void touch(const char *dir, const char *file)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

/* A cgroup directory with the files the cpu controller gives it. */
static void make_cgroup(const char *root, const char *sub)
{
	char d[700];

	snprintf(d, sizeof(d), "%s%s", root, sub);
	if (*sub)
		assert_int_equal(mkdir(d, 0755), 0);
	touch(d, "cgroup.subtree_control");
	touch(d, "cgroup.procs");
	if (strstr(sub, "/domus/")) {
		touch(d, "cpu.weight");
		touch(d, "cpu.max");
	}
}

static void test_weight(void **state)
{
	(void)state;
	assert_int_equal(ts_sched_cg_weight(256), 100); /* each one's default */
	assert_int_equal(ts_sched_cg_weight(512), 200);
	assert_int_equal(ts_sched_cg_weight(128), 50);
	assert_int_equal(ts_sched_cg_weight(1), 1);         /* 0.39: not 0, which cgroup refuses */
	assert_int_equal(ts_sched_cg_weight(65535), 10000); /* cgroup's maximum */
	assert_int_equal(ts_sched_cg_weight(25600), 10000);
	assert_int_equal(ts_sched_cg_weight(300), 117);
}

static void test_cap(void **state)
{
	char b[64];

	(void)state;
	ts_sched_cg_max(0, b, sizeof(b));
	assert_string_equal(b, "max 100000");
	ts_sched_cg_max(50, b, sizeof(b));
	assert_string_equal(b, "50000 100000");
	ts_sched_cg_max(400, b, sizeof(b)); /* four CPUs */
	assert_string_equal(b, "400000 100000");
}

static void test_create_apply_remove(void **state)
{
	char root[] = "/tmp/test-sched-XXXXXX", dom[600], err[600] = "";
	struct ts_sched p = { 512, 25 };

	(void)state;
	assert_non_null(mkdtemp(root));
	/* what the kernel would show: the control files exist, none is made */
	assert_int_equal(ts_sched_create(root, 7, &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cgroup.subtree_control"));
	make_cgroup(root, "");
	make_cgroup(root, "/domus");
	make_cgroup(root, "/domus/7");
	assert_int_equal(ts_sched_create(root, 7, &p, err, sizeof(err)), 0);
	assert_string_equal(slurp(root, "cgroup.subtree_control"), "+cpu");
	assert_string_equal(slurp(root, "domus/cgroup.subtree_control"), "+cpu");
	snprintf(dom, sizeof(dom), "%s/domus/7", root);
	assert_string_equal(slurp(dom, "cpu.weight"), "200");
	assert_string_equal(slurp(dom, "cpu.max"), "25000 100000");
	/* a second create of that id (a cleanup cut short) takes it over */
	p = (struct ts_sched){ 256, 0 };
	assert_int_equal(ts_sched_create(root, 7, &p, err, sizeof(err)), 0);
	assert_string_equal(slurp(dom, "cpu.weight"), "100");
	assert_string_equal(slurp(dom, "cpu.max"), "max 100000");
	p = (struct ts_sched){ 64, 150 };
	assert_int_equal(ts_sched_apply(root, 7, &p, err, sizeof(err)), 0);
	assert_string_equal(slurp(dom, "cpu.weight"), "25");
	assert_string_equal(slurp(dom, "cpu.max"), "150000 100000");
	assert_int_equal(ts_sched_join(root, 7), 0);
	assert_string_equal(slurp(dom, "cgroup.procs"), "0");
	/* not empty: a cgroup with a process in it stays (rmdir's EBUSY) */
	assert_int_not_equal(ts_sched_remove(root, 7), 0);
	for (const char *f = "cpu.weight\0cpu.max\0cgroup.procs\0cgroup.subtree_control\0"; *f; f += strlen(f) + 1) {
		char path[700];
		snprintf(path, sizeof(path), "%s/%s", dom, f);
		unlink(path);
	}
	assert_int_equal(ts_sched_remove(root, 7), 0);
	assert_int_equal(access(dom, F_OK), -1);
	assert_int_equal(ts_sched_remove(root, 7), 0); /* gone already: fine */
	/* a domain whose cgroup is not there: the path named */
	assert_int_equal(ts_sched_apply(root, 9, &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/domus/9/cpu.weight"));
	/* a kernel without cpu.max (CONFIG_CFS_BANDWIDTH): no cap is fine, a
	 * cap is refused saying why */
	snprintf(dom, sizeof(dom), "%s/domus/8", root);
	assert_int_equal(mkdir(dom, 0755), 0);
	touch(dom, "cpu.weight");
	p = (struct ts_sched){ 256, 0 };
	assert_int_equal(ts_sched_apply(root, 8, &p, err, sizeof(err)), 0);
	p.cap = 50;
	assert_int_equal(ts_sched_apply(root, 8, &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cap=50"));
	assert_non_null(strstr(err, "CONFIG_CFS_BANDWIDTH"));
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void test_store_load(void **state)
{
	char dir[] = "/tmp/test-sched-run-XXXXXX", path[600];
	struct ts_sched p = { 999, 3 }, q;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	ts_sched_load(dir, &q); /* no file: Xen's defaults */
	assert_int_equal(q.weight, 256);
	assert_int_equal(q.cap, 0);
	assert_int_equal(ts_sched_store(dir, &p), 0);
	ts_sched_load(dir, &q);
	assert_int_equal(q.weight, 999);
	assert_int_equal(q.cap, 3);
	snprintf(path, sizeof(path), "%s/sched", dir);
	f = fopen(path, "w");
	fputs("0 -5\n", f); /* out of range: the defaults */
	fclose(f);
	ts_sched_load(dir, &q);
	assert_int_equal(q.weight, 256);
	assert_int_equal(q.cap, 0);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weight),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_create_apply_remove),
		cmocka_unit_test(test_store_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
