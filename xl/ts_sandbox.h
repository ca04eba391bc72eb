/* A program run with nothing it does not need (ts_sandbox.c): what xl runs
 * the boot loader in (ts_bootloader.c, docs/bootloader.md "The sandbox").
 *
 *  - its own uid and gid, no supplementary groups, no capabilities;
 *  - new user, mount, pid, net, ipc and uts namespaces (each kind the host
 *    lacks is left out, with a note; the mount namespace is required);
 *  - a read-only root of its own: /usr (and /bin, /lib ... as the host has
 *    them), /etc/ld.so.cache, /dev/{null,zero,full,random,urandom}, the
 *    program and the preload library at their paths; and /out, a small tmpfs
 *    of its uid, the one place it can write;
 *  - descriptors 0, 1 and 2 (in_fd, out_fd) and 3 (data_fd), nothing else;
 *  - rlimits, no_new_privs and a seccomp deny list;
 *  - it dies with xl, and ts_sandbox_end() leaves none of its processes.
 * xl gets a descriptor on /out over the socket before the program starts, so
 * what it wrote there can be read after it is gone; the tmpfs vanishes with
 * the last descriptor. */
#ifndef DOMUS_XL_TS_SANDBOX_H
#define DOMUS_XL_TS_SANDBOX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#define TS_SANDBOX_OUT "/out"

struct ts_sandbox {
	/* Set by the caller. */
	const char *name;	 /* of the staging directory, <run dir>/<name>.<xl's pid> */
	uid_t id;		 /* its uid and gid: no user or group of the host's */
	bool tty;		 /* in_fd is a terminal, to become its controlling one */
	int in_fd, out_fd;	 /* its 0, and its 1 and 2 */
	int data_fd;		 /* its 3 */
	char prog[PATH_MAX];	 /* absolute and resolved */
	char preload[PATH_MAX];	 /* "" or a library the environment preloads */
	char out_opts[128];	 /* mount options of /out, its uid's */
	const char *out_file;	 /* NULL or a file made in /out for it, before it starts */
	const char *const *argv; /* argv[0] is prog */
	const char *const *envp;
	struct rlimit lim_as, lim_cpu, lim_fsize;
	/* Set by ts_sandbox_start(). */
	char stage[PATH_MAX];	 /* empty directory its root is mounted on, in its namespace */
	unsigned long flags;	 /* the CLONE_NEW* namespaces it got */
	pid_t pid;		 /* -1 when not running or reaped */
	int sock;		 /* xl's end: "R" with /out's descriptor, or "E<why>" */
	int subreaper;		 /* whether xl was a child subreaper before */
};

/* A line about the walls the host could not give (for the caller's log). */
typedef void (*ts_sandbox_note_fn)(void *ctx, const char *line);

void ts_sandbox_init(struct ts_sandbox *s);
/* Starts s->argv in its sandbox; 0 with s->pid and s->sock, or -errno with
 * one line in err.  ts_sandbox_end() in either case. */
int ts_sandbox_start(struct ts_sandbox *s, ts_sandbox_note_fn note, void *ctx, char *err, size_t errlen);
/* One message from it, without waiting: its length, 0 when the socket is
 * closed (the program started, or the sandbox is gone), -EAGAIN or -errno.
 * The descriptor of /out that comes with "R" goes to *out_dir when that is
 * -1 (else it is closed). */
int ts_sandbox_recv(struct ts_sandbox *s, char *buf, size_t len, int *out_dir);
/* Kills what still runs of it (its pid namespace; without one, every
 * process of its uid, which xl reaps as their subreaper), removes the
 * staging directory, closes the socket. */
void ts_sandbox_end(struct ts_sandbox *s);

#endif
