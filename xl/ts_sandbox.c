/* The sandbox (ts_sandbox.h): built by a child of xl cloned into new
 * namespaces, which sets up its root, drops to its uid and executes the
 * program.  The child runs between a raw clone and the exec: it calls no
 * malloc and no glibc function that would wait on xl's other threads. */
#include "ts_sandbox.h"
#include "ts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOFILE 64
#define NPROC 32

/* ---- in the child ---- */

/* One message to xl: "E<text>" (the step that failed); "R" with /out is send_fd's. */
static void child_fail(const struct ts_sandbox *s, const char *step, int err) __attribute__((noreturn));
static void child_fail(const struct ts_sandbox *s, const char *step, int err)
{
	char m[PATH_MAX + 128];
	int n = snprintf(m, sizeof(m), "E%s: %s", step, strerror(err));

	(void)!send(s->sock, m, n > 0 ? (size_t)n : 1, MSG_NOSIGNAL);
	_exit(126);
}

static int send_fd(int sock, int fd)
{
	char c = 'R';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* path under the stage, in buf; the child has no malloc. */
static const char *staged(const struct ts_sandbox *s, const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", s->stage, path);
	return buf;
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* src bound at the same path in the new root, read-only unless rw. */
static void bind_in(const struct ts_sandbox *s, const char *src, bool rw)
{
	char dst[PATH_MAX * 2], dir[PATH_MAX * 2];
	struct stat st;
	int fd;

	if (stat(src, &st) < 0)
		child_fail(s, src, errno);
	staged(s, src, dst, sizeof(dst));
	if (S_ISDIR(st.st_mode)) {
		if (mkdir_p(dst) < 0)
			child_fail(s, dst, errno);
	} else {
		snprintf(dir, sizeof(dir), "%s", dst);
		*strrchr(dir, '/') = '\0';
		if (mkdir_p(dir) < 0)
			child_fail(s, dir, errno);
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			child_fail(s, dst, errno);
		close(fd);
	}
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		child_fail(s, "bind mount", errno);
	if (rw)
		return;
	/* The host mount's own flags are kept: in a user namespace, clearing
	 * one it has (noexec, nodev ...) is refused. */
	{
		struct statvfs sv;
		unsigned long f = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;

		if (statvfs(dst, &sv) == 0) {
			f |= sv.f_flag & ST_NOEXEC ? MS_NOEXEC : 0;
			f |= sv.f_flag & ST_NOATIME ? MS_NOATIME : 0;
			f |= sv.f_flag & ST_NODIRATIME ? MS_NODIRATIME : 0;
			f |= sv.f_flag & ST_RELATIME ? MS_RELATIME : 0;
		}
		if (mount(NULL, dst, NULL, f, NULL) < 0)
			child_fail(s, "read-only remount", errno);
	}
}

/* /bin, /lib ... as the host has them: symlinks into /usr on Debian 12. */
static void top_level(const struct ts_sandbox *s, const char *name)
{
	char target[PATH_MAX], dst[PATH_MAX * 2];
	struct stat st;
	ssize_t n;

	if (lstat(name, &st) < 0)
		return;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(name, target, sizeof(target) - 1);
		if (n <= 0)
			return;
		target[n] = '\0';
		if (symlink(target, staged(s, name, dst, sizeof(dst))) < 0)
			child_fail(s, name, errno);
	} else if (S_ISDIR(st.st_mode)) {
		bind_in(s, name, false);
	}
}

static void build_root(const struct ts_sandbox *s)
{
	static const char *const top[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };
	static const char *const dev[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
	char p[PATH_MAX * 2];
	int fd;

	/* Nothing here propagates back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(s, "private mounts", errno);
	if (mount("tmpfs", s->stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=512") < 0)
		child_fail(s, "root tmpfs", errno);
	bind_in(s, "/usr", false);
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		top_level(s, top[i]);
	if (access("/etc/ld.so.cache", R_OK) == 0)
		bind_in(s, "/etc/ld.so.cache", false);
	for (size_t i = 0; i < sizeof(dev) / sizeof(dev[0]); i++)
		bind_in(s, dev[i], true);
	if (strncmp(s->prog, "/usr/", 5) != 0)
		bind_in(s, s->prog, false);
	if (s->preload[0] && strncmp(s->preload, "/usr/", 5) != 0)
		bind_in(s, s->preload, false);
	if (mkdir(staged(s, TS_SANDBOX_OUT, p, sizeof(p)), 0700) < 0 ||
	    mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, s->out_opts) < 0)
		child_fail(s, "output tmpfs", errno);
	fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || send_fd(s->sock, fd) < 0)
		child_fail(s, "output directory", errno);
	close(fd);
	if (mount(NULL, s->stage, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		child_fail(s, "read-only root", errno);
	/* pivot_root(".", "."): the old root ends up on top, then goes. */
	if (chdir(s->stage) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(s, "pivot_root", errno);
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		child_fail(s, "detach the host's root", errno);
}

/* Refused with EPERM: what a boot loader has no use for and an exploit of
 * it would (network, namespaces, mounts, ptrace, keys, bpf, modules, terminal
 * input injection).  A deny list: pygrub is Python, whose exact syscall set
 * is not ours to pin down.  x86-64 only; elsewhere the other walls stand. */
static int install_seccomp(void)
{
#if defined(__x86_64__)
	static const int deny[] = {
		__NR_socket, __NR_socketpair, __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
		__NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot, __NR_unshare, __NR_setns,
		__NR_keyctl, __NR_add_key, __NR_request_key, __NR_bpf, __NR_perf_event_open,
		__NR_userfaultfd, __NR_kexec_load, __NR_kexec_file_load, __NR_init_module,
		__NR_finit_module, __NR_delete_module, __NR_open_by_handle_at, __NR_name_to_handle_at,
		__NR_io_uring_setup, __NR_swapon, __NR_swapoff, __NR_reboot, __NR_acct, __NR_quotactl,
		__NR_syslog, __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick, __NR_move_mount,
		__NR_open_tree, __NR_mount_setattr, __NR_personality, __NR_modify_ldt, __NR_iopl, __NR_ioperm,
	};
	const unsigned ndeny = sizeof(deny) / sizeof(deny[0]);
	const unsigned long nsmask = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
				     CLONE_NEWUTS | CLONE_NEWCGROUP | 0x80 /* CLONE_NEWTIME */;
	struct sock_filter f[8 + 2 * (sizeof(deny) / sizeof(deny[0])) + 16];
	unsigned n = 0;
	const __u32 eperm = SECCOMP_RET_ERRNO | EPERM;

#define ST(c, k) (f[n++] = (struct sock_filter)BPF_STMT((c), (k)))
#define JMP(c, k, t, e) (f[n++] = (struct sock_filter)BPF_JUMP((c), (k), (t), (e)))
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	JMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	ST(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	/* The x32 ABI's numbers would slip past the list. */
	JMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
	ST(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	for (unsigned i = 0; i < ndeny; i++) {
		JMP(BPF_JMP | BPF_JEQ | BPF_K, (__u32)deny[i], 0, 1);
		ST(BPF_RET | BPF_K, eperm);
	}
	/* clone3's flags are in memory a filter cannot read: glibc falls
	 * back to clone on ENOSYS. */
	JMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
	ST(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	JMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4);
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	JMP(BPF_JMP | BPF_JSET | BPF_K, (__u32)nsmask, 0, 1);
	ST(BPF_RET | BPF_K, eperm);
	ST(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	JMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 3);
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
	JMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 0, 1);
	ST(BPF_RET | BPF_K, eperm);
	ST(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef ST
#undef JMP
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ? 0 : -errno;
#else
	return -ENOTSUP;
#endif
}

static void child_main(struct ts_sandbox *s) __attribute__((noreturn));
static void child_main(struct ts_sandbox *s)
{
	char go, path[sizeof(TS_SANDBOX_OUT) + NAME_MAX + 2];
	int fd[4];
	struct pollfd p;
	sigset_t all_clear;

	if (read(s->sock, &go, 1) != 1)
		_exit(126);
	/* Dispositions xl set (the supervisor ignores SIGHUP) would survive
	 * the exec. */
	for (int i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	sigemptyset(&all_clear);
	sigprocmask(SIG_SETMASK, &all_clear, NULL);
	build_root(s);
	/* Descriptors: 0 stdin, 1 and 2 the terminal or the pipe to xl, 3
	 * the data (the disk), 4 the socket to xl (gone at the exec); nothing
	 * else. */
	fd[0] = fcntl(s->in_fd, F_DUPFD_CLOEXEC, 10);
	fd[1] = fcntl(s->out_fd, F_DUPFD_CLOEXEC, 10);
	fd[2] = fcntl(s->data_fd, F_DUPFD_CLOEXEC, 10);
	fd[3] = fcntl(s->sock, F_DUPFD_CLOEXEC, 10);
	if (fd[0] < 0 || fd[1] < 0 || fd[2] < 0 || fd[3] < 0)
		child_fail(s, "descriptors", errno);
	if (dup2(fd[0], 0) < 0 || dup2(fd[1], 1) < 0 || dup2(fd[1], 2) < 0 || dup2(fd[2], 3) < 0 ||
	    dup3(fd[3], 4, O_CLOEXEC) < 0)
		child_fail(s, "descriptors", errno);
	s->sock = 4;
	if (syscall(SYS_close_range, 5, ~0U, 0) < 0)
		for (int i = 5; i < 1024; i++)
			close(i);
	/* Its own session: no controlling terminal but the pty (-c); and,
	 * without a pid namespace, kill(-pid) reaches what it started. */
	if (setsid() < 0 || (s->tty && ioctl(0, TIOCSCTTY, 0) < 0))
		child_fail(s, "session", errno);
	/* The raw calls: glibc's would signal the threads xl may have (the
	 * supervisor's libxenstore reader), which the cloned child has not. */
	if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, s->id, s->id, s->id) < 0 ||
	    syscall(SYS_setresuid, s->id, s->id, s->id) < 0)
		child_fail(s, "drop to the sandbox's uid", errno);
	/* Dies with xl: the death signal is set after the uid change (which
	 * clears it); xl's end of the socket tells whether it is gone already. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(s, "death signal", errno);
	p = (struct pollfd){ .fd = s->sock, .events = POLLIN };
	if (poll(&p, 1, 0) != 0)
		_exit(126);
	if (s->out_file) {
		snprintf(path, sizeof(path), "%s/%s", TS_SANDBOX_OUT, s->out_file);
		fd[0] = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd[0] < 0)
			child_fail(s, path, errno);
		close(fd[0]);
	}
	{
		const struct rlimit none = { 0, 0 }, nofile = { NOFILE, NOFILE }, nproc = { NPROC, NPROC };

		if (setrlimit(RLIMIT_AS, &s->lim_as) < 0 || setrlimit(RLIMIT_CPU, &s->lim_cpu) < 0 ||
		    setrlimit(RLIMIT_FSIZE, &s->lim_fsize) < 0 || setrlimit(RLIMIT_NOFILE, &nofile) < 0 ||
		    setrlimit(RLIMIT_NPROC, &nproc) < 0 || setrlimit(RLIMIT_CORE, &none) < 0 ||
		    setrlimit(RLIMIT_MEMLOCK, &none) < 0 || setrlimit(RLIMIT_MSGQUEUE, &none) < 0)
			child_fail(s, "rlimits", errno);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(s, "no_new_privs", errno);
	{
		int rc = install_seccomp();

		if (rc < 0 && rc != -ENOTSUP)
			child_fail(s, "seccomp", -rc);
	}
	execve(s->prog, (char *const *)s->argv, (char *const *)s->envp);
	child_fail(s, s->prog, errno);
}

/* ---- in xl ---- */

static const struct {
	unsigned long flag;
	const char *name;
} ns_kinds[] = { { CLONE_NEWUSER, "user" }, { CLONE_NEWPID, "pid" }, { CLONE_NEWNET, "net" },
		 { CLONE_NEWIPC, "ipc" },   { CLONE_NEWUTS, "uts" } };
#define NS_ALL (CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* DOMUS_BOOTLOADER_NAMESPACES="user,pid,...": the optional namespaces to
 * use (default: all), so that the fallback of a host without some can be
 * tried on one that has them. */
static unsigned long wanted_namespaces(void)
{
	const char *v = getenv("DOMUS_BOOTLOADER_NAMESPACES");
	unsigned long f = CLONE_NEWNS;

	if (!v)
		return NS_ALL;
	for (size_t i = 0; i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++) {
		const char *p = strstr(v, ns_kinds[i].name);
		size_t n = strlen(ns_kinds[i].name);

		if (p && (p == v || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			f |= ns_kinds[i].flag;
	}
	return f;
}

/* Which of the optional namespaces of want this host gives (the mount
 * namespace is required): each tried in a child of its own. */
static unsigned long probe_namespaces(ts_sandbox_note_fn note, void *ctx, unsigned long want)
{
	unsigned long have = CLONE_NEWNS;
	char line[160];

	for (size_t i = 0; i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++) {
		int st = 0;
		pid_t pid;

		if (!(want & ns_kinds[i].flag)) {
			snprintf(line, sizeof(line), "sandbox: no %s namespace (DOMUS_BOOTLOADER_NAMESPACES)",
				 ns_kinds[i].name);
			note(ctx, line);
			continue;
		}
		pid = fork();

		if (pid == 0)
			_exit(unshare((int)(CLONE_NEWNS | ns_kinds[i].flag)) == 0 ? 0 : errno);
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			have |= ns_kinds[i].flag;
		else {
			snprintf(line, sizeof(line), "sandbox: no %s namespace on this host (%s); going on without it",
				 ns_kinds[i].name, pid > 0 && WIFEXITED(st) ? strerror(WEXITSTATUS(st)) : "cannot test");
			note(ctx, line);
		}
	}
	return have;
}

static pid_t sbx_clone(unsigned long flags)
{
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		rc = -errno;
	close(fd);
	return rc;
}

/* Every process of the sandbox's uid: none is left when xl goes on (the pid
 * namespace sees to that; without one, this does: xl is their subreaper
 * while the boot loader runs, so it reaps them too). */
static void sweep_uid(uid_t id)
{
	if (id == 0)
		return; /* never root's: an id not set yet */
	for (int round = 0; round < 5; round++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		int found = 0;

		if (!d)
			return;
		while ((e = readdir(d))) {
			char p[sizeof(e->d_name) + 8];
			struct stat st;

			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			snprintf(p, sizeof(p), "/proc/%s", e->d_name);
			if (stat(p, &st) == 0 && st.st_uid == id) {
				pid_t pid = (pid_t)atol(e->d_name);

				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				found = 1;
			}
		}
		closedir(d);
		if (!found)
			return;
		usleep(20000);
	}
}

static int recv_msg(int sock, char *buf, size_t len, int *fd)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len - 1 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n <= 0)
		return n == 0 ? 0 : -errno;
	buf[n] = '\0';
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int got;

			memcpy(&got, CMSG_DATA(cm), sizeof(int));
			if (*fd < 0 && buf[0] == 'R')
				*fd = got;
			else
				close(got);
		}
	return (int)n;
}

/* The staging directories of xl processes that died while their sandbox
 * ran (killed, interrupted): empty, named by their pid. */
static void remove_stale_stages(const char *name)
{
	DIR *d = opendir(ts_run_dir());
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX];
		char *end;
		size_t n = strlen(name);
		long pid;

		if (strncmp(e->d_name, name, n) || e->d_name[n] != '.')
			continue;
		pid = strtol(e->d_name + n + 1, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", ts_run_dir(), e->d_name) < sizeof(p))
			rmdir(p);
	}
	closedir(d);
}

void ts_sandbox_init(struct ts_sandbox *s)
{
	memset(s, 0, sizeof(*s));
	s->in_fd = s->out_fd = s->data_fd = -1;
	s->pid = -1;
	s->sock = -1;
	s->subreaper = 1;
}

int ts_sandbox_start(struct ts_sandbox *s, ts_sandbox_note_fn note, void *ctx, char *err, size_t errlen)
{
	const unsigned long want = wanted_namespaces();
	int sock[2], rc;
	char path[64], map[64], line[160];

	if (s->id == 0 || !s->name || s->prog[0] != '/') {
		snprintf(err, errlen, "the sandbox needs a uid other than root's, a name and an absolute program");
		return -EINVAL;
	}
	/* Where its root is mounted (in its namespace only): an empty
	 * directory of xl's, named by its pid, removed by ts_sandbox_end(). */
	mkdir(ts_run_dir(), 0755);
	remove_stale_stages(s->name);
	if ((size_t)snprintf(s->stage, sizeof(s->stage), "%s/%s.%d", ts_run_dir(), s->name, (int)getpid()) >=
		    sizeof(s->stage) ||
	    mkdir(s->stage, 0700) < 0) {
		rc = errno ? -errno : -ENAMETOOLONG;
		s->stage[0] = '\0';
		snprintf(err, errlen, "cannot make a directory under %s for the sandbox: %s", ts_run_dir(),
			 strerror(-rc));
		return rc;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot make the sandbox's socket: %s", strerror(-rc));
		return rc;
	}
	/* Orphans of the program come to xl, which reaps them (sweep_uid). */
	if (prctl(PR_GET_CHILD_SUBREAPER, &s->subreaper) < 0)
		s->subreaper = 1;
	if (!s->subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	fflush(NULL);
	s->flags = want;
	s->pid = want == NS_ALL ? sbx_clone(want) : -1;
	if (s->pid < 0 && (want != NS_ALL || errno != ENOMEM)) {
		if (want == NS_ALL) {
			snprintf(line, sizeof(line), "sandbox: clone with every namespace: %s; testing each",
				 strerror(errno));
			note(ctx, line);
		}
		s->flags = probe_namespaces(note, ctx, want);
		s->pid = sbx_clone(s->flags);
	}
	if (s->pid < 0) {
		rc = -errno;
		s->pid = -1;
		close(sock[0]);
		close(sock[1]);
		snprintf(err, errlen, "cannot start the sandbox (it needs a mount namespace): %s", strerror(-rc));
		return rc;
	}
	if (s->pid == 0) {
		close(sock[0]);
		s->sock = sock[1];
		child_main(s);
	}
	close(sock[1]);
	s->sock = sock[0];
	if (s->flags & CLONE_NEWUSER) {
		/* Root stays root while the child builds its root (files it
		 * creates need a mapped owner); id is what it becomes. */
		snprintf(map, sizeof(map), "0 0 1\n%u %u 1\n", (unsigned)s->id, (unsigned)s->id);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)s->pid);
		rc = write_file(path, map);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)s->pid);
		if (rc == 0)
			rc = write_file(path, map);
		if (rc < 0) {
			snprintf(err, errlen, "cannot map the sandbox's uid in its user namespace: %s", strerror(-rc));
			return rc;
		}
	}
	if (write(s->sock, "g", 1) != 1) {
		rc = -EIO;
		snprintf(err, errlen, "the sandbox did not start");
		return rc;
	}
	return 0;
}

int ts_sandbox_recv(struct ts_sandbox *s, char *buf, size_t len, int *out_dir)
{
	return recv_msg(s->sock, buf, len, out_dir);
}

void ts_sandbox_end(struct ts_sandbox *s)
{
	if (s->pid > 0) {
		kill(-s->pid, SIGKILL);
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = -1;
	}
	if (s->stage[0]) {
		sweep_uid(s->id);
		rmdir(s->stage);
		s->stage[0] = '\0';
	}
	if (s->sock >= 0)
		close(s->sock);
	s->sock = -1;
	if (!s->subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0);
	s->subreaper = 1;
}
