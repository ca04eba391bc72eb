/* The hotplug script runner (ts_hotplug.h). */
#include "ts_hotplug.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define XEN_SCRIPT_DIR "/etc/xen/scripts"

const char *ts_hotplug_script_dir(void)
{
	const char *d = getenv("DOMUS_XEN_SCRIPT_DIR");

	return d && *d ? d : XEN_SCRIPT_DIR;
}

int ts_hotplug_script_path(const char *name, char *buf, size_t len)
{
	int n = name[0] == '/' ? snprintf(buf, len, "%s", name)
			       : snprintf(buf, len, "%s/%s", ts_hotplug_script_dir(), name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

extern char **environ;

/* Whether entry "NAME=..." names a variable that h->env sets. */
static bool overridden(const struct ts_hotplug *h, const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);

	for (size_t i = 0; h->env && h->env[i]; i++)
		if (!strncmp(h->env[i], entry, n) && h->env[i][n] == '=')
			return true;
	return false;
}

/* The caller's environment with h->env over it, built before the fork:
 * setenv() in the child of a process that may have threads (libxenstore's
 * reader) is not safe.  NULL on ENOMEM. */
static const char **make_env(const struct ts_hotplug *h)
{
	size_t n = 0, m = 0, k = 0;
	const char **env;

	while (environ && environ[n])
		n++;
	while (h->env && h->env[m])
		m++;
	env = calloc(n + m + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!overridden(h, environ[i]))
			env[k++] = environ[i];
	for (size_t i = 0; i < m; i++)
		env[k++] = h->env[i];
	env[k] = NULL;
	return env;
}

/* In the child: never returns.  The exec's errno goes up the pipe. */
static void child(const struct ts_hotplug *h, const char **env, int errfd)
{
	const char *argv[16];
	size_t argc = 0;
	int nul, e;

	/* Its own process group, so that a timeout kills what it started
	 * too (ip, brctl, xenstore-write), not just the shell. */
	setpgid(0, 0);
	argv[argc++] = h->script;
	for (size_t i = 0; h->argv && h->argv[i] && argc < 15; i++)
		argv[argc++] = h->argv[i];
	argv[argc] = NULL;
	/* libxl: stdin /dev/null, stdout onto stderr (aes->stdfds). */
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nul >= 0)
		dup2(nul, 0);
	dup2(2, 1);
	execve(h->script, (char *const *)argv, (char *const *)env);
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

int ts_hotplug_run(const struct ts_hotplug *h, int *status, char *why, size_t wl)
{
	const int64_t deadline = now_ms() + h->timeout_ms;
	int errpipe[2], e = 0, st = 0, rc;
	const char **env;
	pid_t pid, w;
	ssize_t n;

	*status = 0;
	env = make_env(h);
	if (!env) {
		snprintf(why, wl, "no memory for %s's environment", h->script);
		return -ENOMEM;
	}
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		rc = -errno;
		free(env);
		snprintf(why, wl, "cannot run %s: %s", h->script, strerror(-rc));
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(errpipe[0]);
		close(errpipe[1]);
		free(env);
		snprintf(why, wl, "cannot fork for %s: %s", h->script, strerror(-rc));
		return rc;
	}
	if (pid == 0)
		child(h, env, errpipe[1]);
	free(env);
	close(errpipe[1]);
	/* Also the parent's setpgid: kill(-pid) works even if the child has
	 * not run yet. */
	setpgid(pid, pid);
	n = read(errpipe[0], &e, sizeof(e));
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);
		snprintf(why, wl, "cannot run %s: %s", h->script, strerror(e));
		return -e;
	}
	/* A supervisor waits for one script at a time: a short sleep loop
	 * is all the event handling this needs. */
	while ((w = waitpid(pid, &st, WNOHANG)) == 0) {
		if (now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			snprintf(why, wl, "%s %s timed out after %u s and was killed", h->script,
				 h->argv && h->argv[0] ? h->argv[0] : "", h->timeout_ms / 1000);
			return -ETIMEDOUT;
		}
		usleep(10 * 1000);
	}
	if (w < 0) {
		rc = -errno;
		snprintf(why, wl, "waiting for %s: %s", h->script, strerror(-rc));
		return rc;
	}
	*status = st;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFSIGNALED(st))
		snprintf(why, wl, "%s was killed by signal %d", h->script, WTERMSIG(st));
	else
		snprintf(why, wl, "%s exited with status %d", h->script, WEXITSTATUS(st));
	return -ECHILD;
}
