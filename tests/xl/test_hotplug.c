/* xl/ts_hotplug.c: a script's arguments and environment, its exit status,
 * a script that cannot run, and one that overruns its time being killed
 * with what it started. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "ts.h"
#include "ts_hotplug.h"

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/hotplug.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	(void)!system(cmd);
	free(f);
	return 0;
}

static void script(struct fx *f, const char *name, const char *body)
{
	FILE *s;

	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	s = fopen(f->path, "w");
	assert_non_null(s);
	fprintf(s, "#!/bin/sh\n%s\n", body);
	fclose(s);
	assert_int_equal(chmod(f->path, 0755), 0);
}

/* What a script wrote (one buffer: each call's result is used at once). */
static char *slurp(const char *dir, const char *name)
{
	static char buf[4096];

	return test_read_file(dir, name, buf, sizeof(buf));
}

static void args_and_env(void **state)
{
	struct fx *f = *state;
	char body[512], why[256];
	const char *argv[] = { "online", "type_if=vif", NULL };
	const char *env[] = { "XENBUS_PATH=backend/vif/3/0", "vif=vif3.0", "netdev=", NULL };
	const struct ts_hotplug h = { .script = f->path, .argv = argv, .env = env, .timeout_ms = 5000 };
	int status = -1;

	snprintf(body, sizeof(body),
		 "cd %s; echo \"$0|$1|$2|$#\" >args; echo \"$XENBUS_PATH|$vif|${netdev-unset}|$HOTPLUG_T|$(env | grep -c ^vif=)\" >env; "
		 "read x && echo \"stdin: $x\" >stdin; echo to-stdout",
		 f->dir);
	script(f, "vif-test", body);
	setenv("HOTPLUG_T", "inherited", 1);
	setenv("vif", "stale", 1); /* overridden, once */
	assert_int_equal(ts_hotplug_run(&h, &status, why, sizeof(why)), 0);
	assert_int_equal(status, 0);
	snprintf(body, sizeof(body), "%s|online|type_if=vif|2\n", f->path);
	assert_string_equal(slurp(f->dir, "args"), body);
	/* netdev is set, empty, as libxl passes a vif without gatewaydev */
	assert_string_equal(slurp(f->dir, "env"), "backend/vif/3/0|vif3.0||inherited|1\n");
	/* stdin is /dev/null */
	assert_null(slurp(f->dir, "stdin"));
	/* the caller's environment is not changed */
	assert_null(getenv("XENBUS_PATH"));
	assert_string_equal(getenv("vif"), "stale");
	unsetenv("vif");
}

static void exit_status(void **state)
{
	struct fx *f = *state;
	const char *argv[] = { "online", NULL };
	const struct ts_hotplug h = { .script = f->path, .argv = argv, .timeout_ms = 5000 };
	char why[256];
	int status = 0;

	script(f, "fails", "exit 3");
	assert_int_equal(ts_hotplug_run(&h, &status, why, sizeof(why)), -ECHILD);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	assert_non_null(strstr(why, "exited with status 3"));
	script(f, "killed", "kill -TERM $$");
	assert_int_equal(ts_hotplug_run(&h, &status, why, sizeof(why)), -ECHILD);
	assert_non_null(strstr(why, "killed by signal 15"));
}

static void cannot_run(void **state)
{
	struct fx *f = *state;
	const struct ts_hotplug h = { .script = "/nonexistent/vif-bridge", .timeout_ms = 5000 };
	char why[256];
	int status;

	assert_int_equal(ts_hotplug_run(&h, &status, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "cannot run /nonexistent/vif-bridge: No such file or directory");
	script(f, "noexec", "exit 0");
	chmod(f->path, 0644);
	const struct ts_hotplug h2 = { .script = f->path, .timeout_ms = 5000 };
	/* root may exec nothing without an x bit either */
	assert_int_equal(ts_hotplug_run(&h2, &status, why, sizeof(why)), -EACCES);
}

static bool running(pid_t pid)
{
	char p[64], st[512], *rp;
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	f = fopen(p, "r");
	if (!f)
		return false;
	n = fread(st, 1, sizeof(st) - 1, f);
	fclose(f);
	st[n] = '\0';
	rp = strrchr(st, ')'); /* "pid (comm) S ..." */
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static void timeout_kills_the_group(void **state)
{
	struct fx *f = *state;
	char body[256], why[256], *pid;
	const char *argv[] = { "online", NULL };
	const struct ts_hotplug h = { .script = f->path, .argv = argv, .timeout_ms = 300 };
	struct timespec a, b;
	int status;

	/* the script starts a child that would outlive it, then hangs */
	snprintf(body, sizeof(body), "sleep 30 & echo $! >%s/child; sleep 30", f->dir);
	script(f, "hangs", body);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(ts_hotplug_run(&h, &status, why, sizeof(why)), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 5);
	assert_non_null(strstr(why, "timed out"));
	pid = slurp(f->dir, "child");
	assert_non_null(pid);
	/* killed: gone, or a zombie its new parent has not reaped yet */
	bool alive = true;
	for (int i = 0; i < 100 && (alive = running((pid_t)atoi(pid))); i++)
		usleep(10000);
	assert_false(alive);
}

/* xl destroy's last resort (ts_cmds.c): a supervisor that does not
 * finish is killed with its session, so the script it runs (in a process
 * group of its own) and what that started cannot write into xenstore
 * after xl removed the domain's nodes. */
static void kill_session_reaches_the_script(void **state)
{
	struct fx *f = *state;
	char body[512], *pid;
	pid_t sup, script_pid, child_pid;
	int st;

	snprintf(body, sizeof(body), "echo $$ >%s/script.tmp; mv %s/script.tmp %s/script; sleep 30 & echo $! >%s/child; sleep 30",
		 f->dir, f->dir, f->dir, f->dir);
	script(f, "offline", body);
	sup = fork();
	assert_true(sup >= 0);
	if (sup == 0) {
		const char *argv[] = { "offline", NULL };
		const struct ts_hotplug h = { .script = f->path, .argv = argv, .timeout_ms = 60000 };
		char why[256];
		int status;

		setsid();
		ts_hotplug_run(&h, &status, why, sizeof(why));
		_exit(0);
	}
	for (int i = 0; i < 500 && !slurp(f->dir, "child"); i++)
		usleep(10000);
	pid = slurp(f->dir, "child");
	assert_non_null(pid);
	child_pid = (pid_t)atoi(pid);
	pid = slurp(f->dir, "script");
	assert_non_null(pid);
	script_pid = (pid_t)atoi(pid);
	/* never xl's own session */
	assert_int_equal(ts_kill_session(getpid()), -EPERM);
	assert_int_equal(ts_kill_session(sup), 0);
	assert_int_equal(waitpid(sup, &st, 0), sup);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	bool alive = true;
	for (int i = 0; i < 100 && (alive = running(script_pid) || running(child_pid)); i++)
		usleep(10000);
	assert_false(alive);
}

static void script_path(void **state)
{
	char p[64];

	(void)state;
	unsetenv("DOMUS_XEN_SCRIPT_DIR");
	assert_int_equal(ts_hotplug_script_path("vif-bridge", p, sizeof(p)), 0);
	assert_string_equal(p, "/etc/xen/scripts/vif-bridge");
	assert_int_equal(ts_hotplug_script_path("/usr/local/bin/my-vif", p, sizeof(p)), 0);
	assert_string_equal(p, "/usr/local/bin/my-vif");
	setenv("DOMUS_XEN_SCRIPT_DIR", "/tmp/s", 1);
	assert_int_equal(ts_hotplug_script_path("vif-route", p, sizeof(p)), 0);
	assert_string_equal(p, "/tmp/s/vif-route");
	unsetenv("DOMUS_XEN_SCRIPT_DIR");
	assert_int_equal(ts_hotplug_script_path("vif-bridge", p, 8), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(args_and_env, setup, teardown),
		cmocka_unit_test_setup_teardown(exit_status, setup, teardown),
		cmocka_unit_test_setup_teardown(cannot_run, setup, teardown),
		cmocka_unit_test_setup_teardown(timeout_kills_the_group, setup, teardown),
		cmocka_unit_test_setup_teardown(kill_session_reaches_the_script, setup, teardown),
		cmocka_unit_test(script_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
