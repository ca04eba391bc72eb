/* The boot loader in its sandbox (ts_bootloader.h, docs/bootloader.md).
 *
 * The boot loader parses guest-controlled data (partition tables, file
 * systems, grub.cfg) and pygrub has had host-takeover bugs (XSA-443), so it
 * gets nothing it does not need:
 *  - a uid and gid of its own (TS_BL_ID_BASE + xl's pid), no supplementary
 *    groups, no capabilities;
 *  - new user, mount, pid, net, ipc and uts namespaces (each one the host
 *    lacks is dropped, and the log says so; the mount namespace is required);
 *  - a root of its own: a read-only tmpfs with /usr, /etc/ld.so.cache and
 *    /dev/{null,zero,full,random,urandom} bound in read-only, the boot loader
 *    program (and the preload library, bl_preload.c) at their paths, and
 *    /out, a small tmpfs owned by its uid: the only place it can write;
 *  - the disk as descriptor 3, opened read-only by xl;
 *  - rlimits (address space, CPU time, file size, open files, processes,
 *    no core dumps), no_new_privs and a seccomp filter that refuses sockets,
 *    namespaces, mounts, ptrace, TIOCSTI and other kernel surface it has no
 *    use for;
 *  - a wall-clock timeout, after which it is killed; as pid 1 of its pid
 *    namespace, its death takes every process it started with it.
 * xl keeps a descriptor on /out (sent over a socket before the exec), so the
 * files the boot loader named can be opened after it is gone, and the tmpfs
 * disappears with the last descriptor. */
#include "ts_bootloader.h"
#include "ts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define XEN_BIN_DIR "/usr/lib/xen-4.17/bin"
/* Unnamed ids, one per xl process (pids stay below 2^22, pid_max's limit). */
#define TS_BL_ID_BASE 0x7f000000u
#define TS_BL_ID_SPAN 0x400000u
/* libxl reads one result item into PATH_MAX*2; the whole result is smaller. */
#define RESULT_MAX (64 * 1024)
/* What xl copies of the boot loader's terminal before it kills it. */
#define CONSOLE_MAX (4u << 20)
#define LOG_HEAD (64 * 1024)
#define LOG_TAIL 4096
#define TIMEOUT_S 120		 /* no menu: pygrub -q takes seconds, more under emulation */
#define TIMEOUT_INTERACTIVE_S 600 /* a person at the menu */
#define FSIZE_MB 256		 /* one kernel or initrd */
#define AS_MB 1024
#define NOFILE 64
#define NPROC 32

/* The sandbox's view. */
#define SBX_OUT "/out"
#define SBX_RESULT "result"
#define SBX_DISK "/dev/fd/3"

void ts_boot_init(struct ts_boot *b)
{
	b->kernel_fd = -1;
	b->ramdisk_fd = -1;
	b->cmdline = NULL;
}

void ts_boot_dispose(struct ts_boot *b)
{
	if (b->kernel_fd >= 0)
		close(b->kernel_fd);
	if (b->ramdisk_fd >= 0)
		close(b->ramdisk_fd);
	free(b->cmdline);
	ts_boot_init(b);
}

const char *ts_bootloader_dir(void)
{
	const char *d = getenv("DOMUS_XEN_BIN_DIR");

	return d && *d ? d : XEN_BIN_DIR;
}

static unsigned env_uint(const char *name, unsigned def, unsigned max)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, &end, 10);
	return *end || n == 0 || n > max ? def : (unsigned)n;
}

/* "FILE:LINE" of a config line, or the command line's name for it. */
static void where(char *buf, size_t len, const char *cfg_file, unsigned line)
{
	if (line)
		snprintf(buf, len, "%s:%u", cfg_file ? cfg_file : "config", line);
	else
		snprintf(buf, len, "%s", cfg_file ? cfg_file : "command line");
}

/* libxl: an absolute bootloader= as it is; a relative one in the private
 * bindir (when it is there; libxl then falls back to the name itself). */
static int resolve_program(const char *name, char *buf, size_t len)
{
	char p[PATH_MAX];
	int n = name[0] == '/' ? snprintf(p, sizeof(p), "%s", name)
			       : snprintf(p, sizeof(p), "%s/%s", ts_bootloader_dir(), name);

	if (n < 0 || (size_t)n >= sizeof(p))
		return -ENAMETOOLONG;
	if (!realpath(p, buf))
		return -errno;
	if (strlen(buf) >= len)
		return -ENAMETOOLONG;
	if (access(buf, X_OK) < 0)
		return -errno;
	return 0;
}

int ts_bootloader_check(const struct domain_config *c, const char *cfg_file, char *err, size_t errlen)
{
	char prog[PATH_MAX], at[PATH_MAX + 16];
	const struct dom_disk *k;
	struct stat st;
	int rc;

	where(at, sizeof(at), cfg_file, c->bootloader_line);
	rc = resolve_program(c->bootloader, prog, sizeof(prog));
	if (rc < 0) {
		if (c->bootloader[0] == '/')
			snprintf(err, errlen, "%s: bootloader: \"%s\": %s", at, c->bootloader, strerror(-rc));
		else
			snprintf(err, errlen, "%s: bootloader: \"%s\": %s in %s", at, c->bootloader,
				 rc == -ENOENT ? "not found" : strerror(-rc), ts_bootloader_dir());
		return rc;
	}
	if (stat(prog, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: bootloader: %s is not a program", at, prog);
		return -EINVAL;
	}
	if (c->n_disks == 0) {
		snprintf(err, errlen, "%s: bootloader: \"%s\" reads the kernel from the domain's first disk, "
				      "and the domain has none (disk = [ ... ])", at, c->bootloader);
		return -EINVAL;
	}
	k = &c->disks[0];
	where(at, sizeof(at), cfg_file, k->line);
	if (k->is_cdrom && !k->pdev_path[0]) {
		snprintf(err, errlen, "disk %s (%s): the boot loader needs a disk to read; this cdrom drive is empty",
			 k->vdev, at);
		return -EINVAL;
	}
	/* The boot loader reads the disk's bytes as they are: a qcow2 or vhd
	 * image would need QEMU's block layer (the monitor's
	 * qemu-storage-daemon), which xl does not run. */
	if (k->format != DISK_FORMAT_RAW) {
		snprintf(err, errlen, "disk %s (%s, %s): format %s: the boot loader reads raw images and block "
				      "devices (file:, phy:) only", k->vdev, at, k->pdev_path, disk_format_name(k->format));
		return -ENOTSUP;
	}
	return 0;
}

/* ---- the log ---- */

struct bl_log {
	FILE *f;
	char head[LOG_HEAD]; /* the boot loader's output: its start ... */
	size_t nhead;
	char tail[LOG_TAIL]; /* ... and its end (a ring) */
	size_t ntail_total;
	size_t total;
};

static void blog(struct bl_log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void blog(struct bl_log *l, const char *fmt, ...)
{
	char ts[32];
	time_t now = time(NULL);
	va_list ap;

	if (!l->f)
		return;
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&now));
	fprintf(l->f, "%s ", ts);
	va_start(ap, fmt);
	vfprintf(l->f, fmt, ap);
	va_end(ap);
	fputc('\n', l->f);
	fflush(l->f);
}

static void keep_output(struct bl_log *l, const char *buf, size_t n)
{
	size_t h = n < sizeof(l->head) - l->nhead ? n : sizeof(l->head) - l->nhead;

	memcpy(l->head + l->nhead, buf, h);
	l->nhead += h;
	for (size_t i = h; i < n; i++)
		l->tail[l->ntail_total++ % sizeof(l->tail)] = buf[i];
	l->total += n;
}

/* The kept output as one string (head, then the tail after a gap). */
static char *kept_output(const struct bl_log *l)
{
	size_t nt = l->ntail_total < sizeof(l->tail) ? l->ntail_total : sizeof(l->tail);
	char *s = malloc(l->nhead + nt + 2);
	size_t o = 0;

	if (!s)
		return NULL;
	memcpy(s, l->head, l->nhead);
	o = l->nhead;
	if (nt)
		s[o++] = '\n';
	for (size_t i = 0; i < nt; i++)
		s[o++] = l->tail[(l->ntail_total - nt + i) % sizeof(l->tail)];
	for (size_t i = 0; i < o; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	s[o] = '\0';
	return s;
}

/* ---- the sandbox ---- */

struct sbx {
	unsigned long flags; /* CLONE_NEW* it gets */
	uid_t id;	     /* its uid and gid */
	bool interactive;
	int disk_fd, in_fd, out_fd, sock;
	char stage[PATH_MAX];	 /* host directory its root is mounted on */
	char prog[PATH_MAX];	 /* boot loader, host path (the same inside) */
	char preload[PATH_MAX];	 /* "" when not found */
	char out_opts[128];	 /* its /out tmpfs */
	const char *const *argv; /* built before the clone: no malloc after it */
	const char *const *envp;
	struct rlimit lim_as, lim_cpu, lim_fsize;
};

/* One message to xl: "E<text>" (the step that failed), or "R" with /out. */
static void child_fail(const struct sbx *s, const char *step, int err) __attribute__((noreturn));
static void child_fail(const struct sbx *s, const char *step, int err)
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
static const char *staged(const struct sbx *s, const char *path, char *buf, size_t len)
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
static void bind_in(const struct sbx *s, const char *src, bool rw)
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
static void top_level(const struct sbx *s, const char *name)
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

static void build_root(const struct sbx *s)
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
	if (mkdir(staged(s, SBX_OUT, p, sizeof(p)), 0700) < 0 ||
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

/* Refused with EPERM: what a boot loader has no use for and an exploit
 * would (network, namespaces, mounts, ptrace, keys, bpf, modules, terminal
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

static void child_main(struct sbx *s) __attribute__((noreturn));
static void child_main(struct sbx *s)
{
	char go;
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
	 * the disk, 4 the socket to xl (gone at the exec); nothing else. */
	fd[0] = fcntl(s->in_fd, F_DUPFD_CLOEXEC, 10);
	fd[1] = fcntl(s->out_fd, F_DUPFD_CLOEXEC, 10);
	fd[2] = fcntl(s->disk_fd, F_DUPFD_CLOEXEC, 10);
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
	if (setsid() < 0 || (s->interactive && ioctl(0, TIOCSCTTY, 0) < 0))
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
	fd[0] = open(SBX_OUT "/" SBX_RESULT, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd[0] < 0)
		child_fail(s, "result file", errno);
	close(fd[0]);
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
static unsigned long probe_namespaces(struct bl_log *l, unsigned long want)
{
	unsigned long have = CLONE_NEWNS;

	for (size_t i = 0; i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++) {
		int st = 0;
		pid_t pid;

		if (!(want & ns_kinds[i].flag)) {
			blog(l, "sandbox: no %s namespace (DOMUS_BOOTLOADER_NAMESPACES)", ns_kinds[i].name);
			continue;
		}
		pid = fork();

		if (pid == 0)
			_exit(unshare((int)(CLONE_NEWNS | ns_kinds[i].flag)) == 0 ? 0 : errno);
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			have |= ns_kinds[i].flag;
		else
			blog(l, "sandbox: no %s namespace on this host (%s); going on without it", ns_kinds[i].name,
			     pid > 0 && WIFEXITED(st) ? strerror(WEXITSTATUS(st)) : "cannot test");
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

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* ---- running it ---- */

enum bl_end { BL_EXITED, BL_TIMEOUT, BL_CHATTY, BL_SETUP };

struct bl_run {
	pid_t pid;
	int status;
	enum bl_end end;
	int out_dir; /* O_PATH on its /out, -1 until it sent it */
	char setup_err[PATH_MAX + 128];
};

static void copy_all(int to, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(to, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

/* Until it exits, is killed, or errs: its output to the log (and to the
 * terminal, -c), keystrokes to it, the socket's messages. */
static void supervise_child(struct bl_run *r, int sock, int out, bool interactive, unsigned timeout_s,
			    struct bl_log *l)
{
	const int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	char buf[8192];
	bool in_open = interactive, out_open = true, sock_open = true;

	for (;;) {
		struct pollfd p[3];
		nfds_t np = 0;
		int64_t left = deadline - mono_ms();
		pid_t w = waitpid(r->pid, &r->status, WNOHANG);

		if (w == r->pid) {
			r->end = BL_EXITED;
			break;
		}
		if (left <= 0) {
			r->end = BL_TIMEOUT;
			break;
		}
		if (out_open)
			p[np++] = (struct pollfd){ .fd = out, .events = POLLIN };
		if (sock_open)
			p[np++] = (struct pollfd){ .fd = sock, .events = POLLIN };
		if (in_open)
			p[np++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		if (poll(p, np, left < 100 ? (int)left : 100) <= 0)
			continue;
		for (nfds_t i = 0; i < np; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == out) {
				ssize_t n = read(out, buf, sizeof(buf));

				if (n <= 0) {
					out_open = n < 0 && errno == EINTR;
					continue;
				}
				keep_output(l, buf, (size_t)n);
				if (l->f && l->total - (size_t)n < LOG_HEAD)
					fwrite(buf, 1, (size_t)n, l->f);
				if (interactive)
					copy_all(STDOUT_FILENO, buf, (size_t)n);
				if (l->total > CONSOLE_MAX) {
					r->end = BL_CHATTY;
					return;
				}
			} else if (p[i].fd == sock) {
				char m[sizeof(r->setup_err)];
				int k = recv_msg(sock, m, sizeof(m), &r->out_dir);

				if (k <= 0 && k != -EAGAIN)
					sock_open = false;
				if (k > 0 && m[0] == 'E') {
					snprintf(r->setup_err, sizeof(r->setup_err), "%s", m + 1);
					r->end = BL_SETUP;
					return;
				}
			} else {
				ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

				if (n <= 0)
					in_open = false;
				else
					copy_all(out, buf, (size_t)n);
			}
		}
	}
	/* What it printed last, after it exited. */
	fcntl(out, F_SETFL, O_NONBLOCK);
	for (ssize_t n; (n = read(out, buf, sizeof(buf))) > 0 && l->total <= CONSOLE_MAX;) {
		keep_output(l, buf, (size_t)n);
		if (l->f && l->total - (size_t)n < LOG_HEAD)
			fwrite(buf, 1, (size_t)n, l->f);
		if (interactive)
			copy_all(STDOUT_FILENO, buf, (size_t)n);
	}
	for (char m[sizeof(r->setup_err)]; recv_msg(sock, m, sizeof(m), &r->out_dir) > 0;)
		if (m[0] == 'E') {
			snprintf(r->setup_err, sizeof(r->setup_err), "%s", m + 1);
			r->end = BL_SETUP;
		}
}

/* ---- its answer ---- */

/* A file it named: "/out/NAME", NAME a plain file name (no '/', no "..",
 * no symlink), a regular file.  A descriptor or -errno with why. */
static int open_named(int out_dir, const char *path, const char *what, char *why, size_t wl)
{
	const char *name = path + strlen(SBX_OUT "/");
	struct stat st;
	int fd;

	if (strncmp(path, SBX_OUT "/", strlen(SBX_OUT "/")) != 0 || !*name || strchr(name, '/') ||
	    !strcmp(name, ".") || !strcmp(name, "..")) {
		snprintf(why, wl, "it named %s \"%.200s\", not a file in its output directory", what, path);
		return -EINVAL;
	}
	fd = openat(out_dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, wl, "the %s it named (%.200s): %s", what, path, strerror(errno));
		return -ENOENT;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(why, wl, "the %s it named (%.200s) is %s", what, path,
			 S_ISREG(st.st_mode) ? "empty" : "not a regular file");
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* libxl's parse_bootloader_result(): NUL-separated "kernel PATH",
 * "ramdisk PATH", "args TEXT"; an unknown item is logged. */
static int parse_result(int out_dir, struct ts_boot *b, struct bl_log *l, char *why, size_t wl)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	fd = openat(out_dir, SBX_RESULT, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, wl, "it left no result");
		rc = -ENOENT;
		goto out;
	}
	if (st.st_size > RESULT_MAX) {
		snprintf(why, wl, "its result is %lld bytes, more than %d", (long long)st.st_size, RESULT_MAX);
		rc = -EFBIG;
		goto out;
	}
	buf = malloc(RESULT_MAX + 2);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	n = pread(fd, buf, RESULT_MAX + 1, 0);
	if (n < 0 || n > RESULT_MAX) {
		snprintf(why, wl, "its result cannot be read or is more than %d bytes", RESULT_MAX);
		rc = -EFBIG;
		goto out;
	}
	buf[n] = '\0';
	for (char *item = buf; item < buf + n; item += strlen(item) + 1) {
		static const char *const key[] = { "kernel", "ramdisk", "args" };
		size_t k;

		for (k = 0; k < 3; k++) {
			size_t kl = strlen(key[k]);

			if (!strncmp(item, key[k], kl) && (item[kl] == ' ' || item[kl] == '\t'))
				break;
		}
		if (k == 3) {
			if (*item)
				blog(l, "unexpected item in its result: \"%.200s\"", item);
			continue;
		}
		char *v = item + strlen(key[k]);

		while (*v == ' ' || *v == '\t')
			v++;
		if (k == 2) {
			for (const unsigned char *c = (const unsigned char *)v; *c; c++)
				if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
					snprintf(why, wl, "the kernel command line it gave has control characters");
					rc = -EINVAL;
					goto out;
				}
			free(b->cmdline);
			b->cmdline = strdup(v);
			if (!b->cmdline) {
				rc = -ENOMEM;
				goto out;
			}
			continue;
		}
		int *slot = k == 0 ? &b->kernel_fd : &b->ramdisk_fd;
		int nfd = open_named(out_dir, v, key[k], why, wl);

		if (nfd < 0) {
			rc = nfd;
			goto out;
		}
		if (*slot >= 0)
			close(*slot);
		*slot = nfd;
	}
	if (b->kernel_fd < 0) {
		snprintf(why, wl, "it named no kernel");
		rc = -ENOENT;
	} else if (!b->cmdline && !(b->cmdline = strdup(""))) {
		rc = -ENOMEM;
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* What pygrub's messages mean (it is run with --debug, so its traceback
 * for each partition it tried is in the output), else its last line. */
static void explain_failure(const struct bl_log *l, int disk_fd, int status, char *why, size_t wl)
{
	char *out = kept_output(l), *p, last[240] = "";
	char magic[6];

	if (out) {
		char *save = NULL;

		for (char *line = strtok_r(out, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
			while (*line == ' ' || *line == '\t')
				line++;
			if (*line) {
				snprintf(last, sizeof(last), "%s", line);
				for (char *c = last; *c; c++)
					if ((unsigned char)*c < 0x20 || *c == 0x7f)
						*c = '?';
			}
		}
		free(out);
	}
	out = kept_output(l);
	if (out && (p = strstr(out, "Error opening "))) {
		char file[200];

		if (sscanf(p, "Error opening %199s in guest", file) == 1 && strstr(p, " in guest"))
			snprintf(why, wl, "its boot loader configuration names %s, which is not on the disk", file);
		else
			snprintf(why, wl, "%s", last);
	} else if (out && strstr(out, "Error writing temporary copy")) {
		snprintf(why, wl, "it wrote a file larger than its limit of %u MiB (or its output directory is full)",
			 env_uint("DOMUS_BOOTLOADER_FSIZE_MB", FSIZE_MB, 65536));
	} else if (out && strstr(out, "couldn't find bootloader config file")) {
		snprintf(why, wl, "no boot loader configuration on it (pygrub looks for /boot/grub/grub.cfg, "
				  "/boot/grub/menu.lst, /boot/extlinux/extlinux.conf and their kin)");
	} else if (out && strstr(out, "Unable to find partition containing kernel")) {
		if (pread(disk_fd, magic, sizeof(magic), 0) == sizeof(magic) && !memcmp(magic, "LUKS\xba\xbe", 6))
			snprintf(why, wl, "it is LUKS-encrypted; the boot loader reads only unencrypted file systems");
		else if (strstr(out, "IndexError"))
			snprintf(why, wl, "its boot loader configuration has no entry to boot");
		else
			snprintf(why, wl, "no file system the boot loader can read on it (unknown, encrypted or damaged)");
	} else if (out && strstr(out, "No kernel image selected")) {
		snprintf(why, wl, "no entry was chosen at its menu");
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ) {
		snprintf(why, wl, "it wrote a file larger than its limit of %u MiB", env_uint("DOMUS_BOOTLOADER_FSIZE_MB", FSIZE_MB, 65536));
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
		snprintf(why, wl, "it used up its CPU time");
	} else if (WIFSIGNALED(status)) {
		snprintf(why, wl, "it was killed by signal %d%s%s", WTERMSIG(status), last[0] ? "; it said: " : "", last);
	} else {
		snprintf(why, wl, "it failed (exit status %d)%s%s", WEXITSTATUS(status), last[0] ? ": " : "", last);
	}
	free(out);
}

/* The staging directories of xl processes that died running a boot loader
 * (killed, interrupted): empty, named by their pid. */
static void remove_stale_stages(void)
{
	DIR *d = opendir(ts_run_dir());
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX];
		char *end;
		long pid;

		if (strncmp(e->d_name, "bootloader.", 11))
			continue;
		pid = strtol(e->d_name + 11, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", ts_run_dir(), e->d_name) < sizeof(p))
			rmdir(p);
	}
	closedir(d);
}

/* The argument vector and environment, before the clone. */
static int build_argv(const struct domain_config *c, const struct sbx *s, bool is_pygrub, char ***argv_out,
		      char ***envp_out)
{
	size_t max = 12 + c->n_bootloader_args, n = 0;
	char **argv = calloc(max, sizeof(*argv)), **envp = calloc(8, sizeof(*envp));
	const char *term = getenv("TERM");
	int rc = -ENOMEM;

	if (!argv || !envp)
		goto fail;
#define ADD(...) do { if (asprintf(&argv[n], __VA_ARGS__) < 0) { argv[n] = NULL; goto fail; } n++; } while (0)
	ADD("%s", s->prog);
	/* libxl's hints: for pygrub, kernel= and ramdisk= name files in
	 * the guest, and args= is added to what grub.cfg gives. */
	if (c->kernel)
		ADD("--kernel=%s", c->kernel);
	if (c->ramdisk)
		ADD("--ramdisk=%s", c->ramdisk);
	if (c->cmdline && *c->cmdline)
		ADD("--args=%s", c->cmdline);
	/* Without a terminal, the default entry: no menu (libxl passes
	 * --quiet when it restricts the boot loader). */
	if (!s->interactive)
		ADD("-q");
	/* Its reason for each partition it gave up on, for the message. */
	if (is_pygrub)
		ADD("--debug");
	ADD("--output=%s/%s", SBX_OUT, SBX_RESULT);
	ADD("--output-format=simple0");
	ADD("--output-directory=%s", SBX_OUT);
	for (size_t i = 0; i < c->n_bootloader_args; i++)
		ADD("%s", c->bootloader_args[i]);
	ADD("%s", SBX_DISK);
#undef ADD
	/* A name ncurses knows, or vt100 (libxl's). */
	if (!term || !*term || strlen(term) > 64 || strspn(term, "abcdefghijklmnopqrstuvwxyz0123456789-+._") != strlen(term))
		term = "vt100";
	n = 0;
	if (asprintf(&envp[n++], "PATH=/usr/bin:/bin") < 0 || asprintf(&envp[n++], "HOME=/") < 0 ||
	    asprintf(&envp[n++], "LANG=C.UTF-8") < 0 || asprintf(&envp[n++], "TERM=%s", term) < 0 ||
	    asprintf(&envp[n++], "PYTHONDONTWRITEBYTECODE=1") < 0)
		goto fail;
	if (s->preload[0] && asprintf(&envp[n++], "LD_PRELOAD=%s", s->preload) < 0)
		goto fail;
	*argv_out = argv;
	*envp_out = envp;
	return 0;
fail:
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	for (size_t i = 0; envp && envp[i]; i++)
		free(envp[i]);
	free(argv);
	free(envp);
	return rc;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* The user's terminal in raw mode while the boot loader has it (-c). */
struct term_state {
	bool saved;
	struct termios t;
};

static void term_raw(struct term_state *ts, int master)
{
	struct termios t;
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
	if (tcgetattr(STDIN_FILENO, &ts->t) < 0)
		return;
	ts->saved = true;
	t = ts->t;
	cfmakeraw(&t);
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

static void term_restore(struct term_state *ts)
{
	if (ts->saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &ts->t);
}

static int open_pty(int *master, int *slave)
{
	char name[128];

	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return -errno;
	if (grantpt(*master) < 0 || unlockpt(*master) < 0 || ptsname_r(*master, name, sizeof(name)) != 0)
		goto fail;
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		goto fail;
	return 0;
fail:
	close(*master);
	*master = -1;
	return -EIO;
}

int ts_bootloader_run(const struct domain_config *c, const struct ts_bl_opts *o, struct ts_boot *b, char *err,
		      size_t errlen)
{
	struct bl_log *l = calloc(1, sizeof(*l));
	struct sbx s = { .disk_fd = -1, .in_fd = -1, .out_fd = -1, .sock = -1 };
	struct bl_run r = { .pid = -1, .out_dir = -1 };
	struct term_state ts = { 0 };
	char at[PATH_MAX + 16], why[512] = "", **argv = NULL, **envp = NULL, path[PATH_MAX + 64];
	const struct dom_disk *k;
	int sock[2] = { -1, -1 }, rd = -1, rc;
	unsigned timeout_s, fsize_mb;
	const char *base;
	struct stat st;
	bool staged_dir = false;
	int subreaper = 1;

	ts_boot_init(b);
	if (!l)
		return -ENOMEM;
	rc = ts_bootloader_check(c, o->cfg_file, err, errlen);
	if (rc < 0)
		goto out;
	k = &c->disks[0];
	where(at, sizeof(at), o->cfg_file, k->line);
	if (o->log_path)
		l->f = fopen(o->log_path, "ae");
	resolve_program(c->bootloader, s.prog, sizeof(s.prog));
	base = strrchr(s.prog, '/') ? strrchr(s.prog, '/') + 1 : s.prog;
	s.interactive = o->interactive && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	timeout_s = env_uint("DOMUS_BOOTLOADER_TIMEOUT", s.interactive ? TIMEOUT_INTERACTIVE_S : TIMEOUT_S, 86400);
	fsize_mb = env_uint("DOMUS_BOOTLOADER_FSIZE_MB", FSIZE_MB, 65536);
	s.lim_as = (struct rlimit){ (rlim_t)AS_MB << 20, (rlim_t)AS_MB << 20 };
	s.lim_cpu = (struct rlimit){ timeout_s, timeout_s + 1 };
	s.lim_fsize = (struct rlimit){ (rlim_t)fsize_mb << 20, (rlim_t)fsize_mb << 20 };

	/* The disk, read-only, opened here: the boot loader never names it. */
	s.disk_fd = open(k->pdev_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (s.disk_fd < 0 || fstat(s.disk_fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		rc = s.disk_fd < 0 ? -errno : -EINVAL;
		snprintf(err, errlen, "disk %s (%s, %s): %s", k->vdev, at, k->pdev_path,
			 rc == -EINVAL ? "not a file or block device" : strerror(-rc));
		goto out;
	}
	fcntl(s.disk_fd, F_SETFL, 0);

	s.id = TS_BL_ID_BASE + ((uid_t)getpid() % TS_BL_ID_SPAN);
	if (getpwuid(s.id) || getgrgid(s.id)) {
		snprintf(err, errlen, "the boot loader's uid %u is a user or group of this host; not running it there",
			 (unsigned)s.id);
		rc = -EEXIST;
		goto out;
	}
	if (ts_find_program("libdomus-blfd.so", "DOMUS_BL_PRELOAD", s.preload, sizeof(s.preload)) < 0 ||
	    !realpath(s.preload, path) || strlen(path) >= sizeof(s.preload)) {
		blog(l, "warning: libdomus-blfd.so not found: the boot loader opens the disk by /dev/fd/3 itself, "
			"which its uid may not be allowed to");
		s.preload[0] = '\0';
	} else {
		snprintf(s.preload, sizeof(s.preload), "%s", path);
	}
	snprintf(s.out_opts, sizeof(s.out_opts), "mode=0700,uid=%u,gid=%u,size=%uk,nr_inodes=64", (unsigned)s.id,
		 (unsigned)s.id, 2 * fsize_mb * 1024 + RESULT_MAX / 1024 + 64);

	/* Where its root is mounted (in its namespace only): an empty
	 * directory of xl's, named by its pid, removed below. */
	mkdir(ts_run_dir(), 0755);
	remove_stale_stages();
	snprintf(s.stage, sizeof(s.stage), "%s/bootloader.%d", ts_run_dir(), (int)getpid());
	if (mkdir(s.stage, 0700) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot make a directory under %s for the boot loader: %s", ts_run_dir(),
			 strerror(-rc));
		goto out;
	}
	staged_dir = true;

	rc = build_argv(c, &s, !strcmp(base, "pygrub"), &argv, &envp);
	if (rc < 0)
		goto nomem;
	s.argv = (const char *const *)argv;
	s.envp = (const char *const *)envp;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0)
		goto sys;
	if (s.interactive) {
		rc = open_pty(&rd, &s.in_fd);
		if (rc < 0) {
			snprintf(err, errlen, "no pseudo-terminal for the boot loader's menu: %s", strerror(-rc));
			goto out;
		}
		s.out_fd = s.in_fd;
		/* Keystrokes it does not read are dropped, not waited on. */
		fcntl(rd, F_SETFL, O_NONBLOCK);
	} else {
		int pfd[2];

		s.in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (s.in_fd < 0 || pipe2(pfd, O_CLOEXEC) < 0)
			goto sys;
		rd = pfd[0];
		s.out_fd = pfd[1];
	}
	s.sock = sock[1];

	blog(l, "boot loader for %s: %s on disk %s (%s)", c->name, s.prog, k->vdev, k->pdev_path);
	for (size_t i = 0; argv[i]; i++)
		blog(l, "  arg: %s", argv[i]);
	s.flags = wanted_namespaces();
	/* Orphans of the boot loader come to xl, which reaps them (sweep_uid). */
	if (prctl(PR_GET_CHILD_SUBREAPER, &subreaper) < 0)
		subreaper = 1;
	if (!subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	fflush(NULL);
	r.pid = s.flags == NS_ALL ? sbx_clone(s.flags) : -1;
	if (r.pid < 0 && (s.flags != NS_ALL || errno != ENOMEM)) {
		if (s.flags == NS_ALL)
			blog(l, "sandbox: clone with every namespace: %s; testing each", strerror(errno));
		s.flags = probe_namespaces(l, s.flags);
		r.pid = sbx_clone(s.flags);
	}
	if (r.pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot start the boot loader in its sandbox (needs a mount namespace): %s",
			 strerror(-rc));
		goto out;
	}
	if (r.pid == 0) {
		close(sock[0]);
		close(rd);
		child_main(&s);
	}
	close(sock[1]);
	sock[1] = -1;
	close(s.in_fd);
	if (s.out_fd != s.in_fd)
		close(s.out_fd);
	s.in_fd = s.out_fd = -1;
	if (s.flags & CLONE_NEWUSER) {
		char map[64];

		/* Root stays root while the child builds its root (files it
		 * creates need a mapped owner); S is what it becomes. */
		snprintf(map, sizeof(map), "0 0 1\n%u %u 1\n", (unsigned)s.id, (unsigned)s.id);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)r.pid);
		rc = write_file(path, map);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)r.pid);
		if (rc == 0)
			rc = write_file(path, map);
		if (rc < 0) {
			snprintf(err, errlen, "cannot map the boot loader's uid in its user namespace: %s",
				 strerror(-rc));
			goto kill;
		}
	}
	blog(l, "sandbox: uid and gid %u, namespaces:%s%s%s%s%s%s, timeout %u s, files up to %u MiB", (unsigned)s.id,
	     s.flags & CLONE_NEWUSER ? " user" : "", s.flags & CLONE_NEWNS ? " mount" : "",
	     s.flags & CLONE_NEWPID ? " pid" : "", s.flags & CLONE_NEWNET ? " net" : "",
	     s.flags & CLONE_NEWIPC ? " ipc" : "", s.flags & CLONE_NEWUTS ? " uts" : "", timeout_s, fsize_mb);
	if (write(sock[0], "g", 1) != 1) {
		rc = -EIO;
		snprintf(err, errlen, "the boot loader's sandbox did not start");
		goto kill;
	}
	if (s.interactive)
		term_raw(&ts, rd);
	supervise_child(&r, sock[0], rd, s.interactive, timeout_s, l);
	term_restore(&ts);
	if (r.end != BL_EXITED) {
		kill(-r.pid, SIGKILL);
		kill(r.pid, SIGKILL);
		waitpid(r.pid, &r.status, 0);
	}
	sweep_uid(s.id);
	r.pid = -1;
	if (s.interactive)
		fputs("\r\n", stdout);
	switch (r.end) {
	case BL_SETUP:
		rc = -EIO;
		snprintf(err, errlen, "disk %s (%s): cannot run the boot loader %s: %s", k->vdev, at, s.prog,
			 r.setup_err);
		goto out;
	case BL_TIMEOUT:
		rc = -ETIMEDOUT;
		snprintf(err, errlen, "disk %s (%s, %s): the boot loader %s gave no answer within %u s and was killed",
			 k->vdev, at, k->pdev_path, base, timeout_s);
		goto out;
	case BL_CHATTY:
		rc = -EFBIG;
		snprintf(err, errlen, "disk %s (%s, %s): the boot loader %s printed more than %u MiB and was killed",
			 k->vdev, at, k->pdev_path, base, CONSOLE_MAX >> 20);
		goto out;
	case BL_EXITED:
		break;
	}
	if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
		explain_failure(l, s.disk_fd, r.status, why, sizeof(why));
		rc = -EIO;
		snprintf(err, errlen, "disk %s (%s, %s): boot loader %s: %s", k->vdev, at, k->pdev_path, base, why);
		goto out;
	}
	if (r.out_dir < 0) {
		rc = -EIO;
		snprintf(err, errlen, "disk %s (%s): the boot loader's sandbox gave no output directory", k->vdev, at);
		goto out;
	}
	rc = parse_result(r.out_dir, b, l, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "disk %s (%s, %s): boot loader %s: %s", k->vdev, at, k->pdev_path, base, why);
		goto out;
	}
	blog(l, "chose a kernel%s, command line \"%s\"", b->ramdisk_fd >= 0 ? " and a ramdisk" : "", b->cmdline);
	goto out;
nomem:
	rc = -ENOMEM;
	snprintf(err, errlen, "out of memory");
	goto out;
sys:
	rc = -errno;
	snprintf(err, errlen, "cannot set up the boot loader: %s", strerror(-rc));
	goto out;
kill:
	kill(r.pid, SIGKILL);
	waitpid(r.pid, NULL, 0);
	sweep_uid(s.id);
out:
	if (rc < 0) {
		blog(l, "error: %s", err);
		ts_boot_dispose(b);
	}
	if (l->f)
		fclose(l->f);
	free(l);
	if (r.out_dir >= 0)
		close(r.out_dir);
	if (staged_dir)
		rmdir(s.stage);
	for (int i = 0; i < 2; i++)
		if (sock[i] >= 0)
			close(sock[i]);
	if (rd >= 0)
		close(rd);
	if (s.in_fd >= 0)
		close(s.in_fd);
	if (s.out_fd >= 0 && s.out_fd != s.in_fd)
		close(s.out_fd);
	if (s.disk_fd >= 0)
		close(s.disk_fd);
	if (!subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0);
	free_strv(argv);
	free_strv(envp);
	return rc;
}
