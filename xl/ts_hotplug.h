/* Running a Xen hotplug script (/etc/xen/scripts/vif-bridge & co.) as
 * libxl's device_hotplug() does (tools/libs/light/libxl_device.c and
 * libxl_aoutils.c libxl__async_exec_start): the script with its arguments,
 * stdin /dev/null, stdout onto stderr, the caller's environment plus the
 * device's variables, killed (SIGKILL) when it overruns its time. */
#ifndef DOMUS_XL_TS_HOTPLUG_H
#define DOMUS_XL_TS_HOTPLUG_H

#include <stddef.h>

/* Where relative script names live (libxl__xen_script_dir_path() of
 * Debian's xen-utils); DOMUS_XEN_SCRIPT_DIR moves it, for tests. */
const char *ts_hotplug_script_dir(void);
/* libxl__abs_path(): name as it is when absolute, else under the script
 * directory.  -ENAMETOOLONG. */
int ts_hotplug_script_path(const char *name, char *buf, size_t len);

/* libxl_internal.h LIBXL_HOTPLUG_TIMEOUT: how long one script may run
 * before it is killed; xl destroy waits that long per script for a
 * supervisor's cleanup (ts_cmds.c). */
#define TS_HOTPLUG_TIMEOUT_MS (40 * 1000)

struct ts_hotplug {
	const char *script;	    /* absolute path */
	const char *const *argv;    /* the arguments after argv[0], NULL-terminated */
	const char *const *env;     /* "NAME=VALUE" added to the environment, NULL-terminated */
	unsigned timeout_ms;	    /* TS_HOTPLUG_TIMEOUT_MS, as libxl */
};

/* Runs h and waits for it.  0 when it exited 0; -ETIMEDOUT (killed),
 * -ECHILD (it failed: *status holds the wait status) or another -errno
 * (it could not be started).  why gets one line saying which. */
int ts_hotplug_run(const struct ts_hotplug *h, int *status, char *why, size_t wl);

#endif
