/* The boot loader (ts_bootloader.h, docs/bootloader.md): libxl's protocol
 * (arguments, the simple0 result, the files it names) around a program run
 * in the sandbox of ts_sandbox.c, with the disk as its descriptor 3.
 *
 * What it may cost: TIMEOUT_S of wall-clock time (then it is killed),
 * CONSOLE_MAX of terminal output, RESULT_MAX of result, FSIZE_MB per file it
 * writes and twice that in its output directory, AS_MB of address space. */
#include "ts_bootloader.h"
#include "ts.h"
#include "ts_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* The sandbox's view. */
#define SBX_OUT TS_SANDBOX_OUT
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
	va_list ap;

	va_start(ap, fmt);
	ts_vflog(l->f, fmt, ap);
	va_end(ap);
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



static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- running it ---- */

enum bl_end { BL_EXITED, BL_TIMEOUT, BL_CHATTY, BL_SETUP };

struct bl_run {
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
static void supervise_child(struct bl_run *r, struct ts_sandbox *sb, int out, bool interactive, unsigned timeout_s,
			    struct bl_log *l)
{
	const int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	char buf[8192];
	bool in_open = interactive, out_open = true, sock_open = true;

	for (;;) {
		struct pollfd p[3];
		nfds_t np = 0;
		int64_t left = deadline - mono_ms();
		pid_t w = waitpid(sb->pid, &r->status, WNOHANG);

		if (w == sb->pid) {
			sb->pid = -1; /* reaped */
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
			p[np++] = (struct pollfd){ .fd = sb->sock, .events = POLLIN };
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
			} else if (p[i].fd == sb->sock) {
				char m[sizeof(r->setup_err)];
				int k = ts_sandbox_recv(sb, m, sizeof(m), &r->out_dir);

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
	for (char m[sizeof(r->setup_err)]; ts_sandbox_recv(sb, m, sizeof(m), &r->out_dir) > 0;)
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

/* The argument vector and environment, before the clone. */
static int build_argv(const struct domain_config *c, const struct ts_sandbox *s, bool is_pygrub, char ***argv_out,
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
	if (!s->tty)
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

static void note(void *ctx, const char *line)
{
	blog(ctx, "%s", line);
}

int ts_bootloader_run(const struct domain_config *c, const struct ts_bl_opts *o, struct ts_boot *b, char *err,
		      size_t errlen)
{
	struct bl_log *l = calloc(1, sizeof(*l));
	struct ts_sandbox *sb = malloc(sizeof(*sb));
	struct bl_run r = { .out_dir = -1 };
	struct term_state ts = { 0 };
	char at[PATH_MAX + 16], why[512] = "", **argv = NULL, **envp = NULL, path[PATH_MAX];
	const struct dom_disk *k;
	int rd = -1, rc;
	unsigned timeout_s, fsize_mb;
	const char *base;
	struct stat st;

	ts_boot_init(b);
	if (!l || !sb) {
		free(l);
		free(sb);
		return -ENOMEM;
	}
	ts_sandbox_init(sb);
	rc = ts_bootloader_check(c, o->cfg_file, err, errlen);
	if (rc < 0)
		goto out;
	k = &c->disks[0];
	where(at, sizeof(at), o->cfg_file, k->line);
	if (o->log_path)
		l->f = fopen(o->log_path, "ae");
	resolve_program(c->bootloader, sb->prog, sizeof(sb->prog));
	base = strrchr(sb->prog, '/') ? strrchr(sb->prog, '/') + 1 : sb->prog;
	sb->name = "bootloader";
	sb->out_file = SBX_RESULT;
	sb->tty = o->interactive && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	timeout_s = env_uint("DOMUS_BOOTLOADER_TIMEOUT", sb->tty ? TIMEOUT_INTERACTIVE_S : TIMEOUT_S, 86400);
	fsize_mb = env_uint("DOMUS_BOOTLOADER_FSIZE_MB", FSIZE_MB, 65536);
	sb->lim_as = (struct rlimit){ (rlim_t)AS_MB << 20, (rlim_t)AS_MB << 20 };
	sb->lim_cpu = (struct rlimit){ timeout_s, timeout_s + 1 };
	sb->lim_fsize = (struct rlimit){ (rlim_t)fsize_mb << 20, (rlim_t)fsize_mb << 20 };

	/* The disk, read-only, opened here: the boot loader never names it. */
	sb->data_fd = open(k->pdev_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (sb->data_fd < 0 || fstat(sb->data_fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		rc = sb->data_fd < 0 ? -errno : -EINVAL;
		snprintf(err, errlen, "disk %s (%s, %s): %s", k->vdev, at, k->pdev_path,
			 rc == -EINVAL ? "not a file or block device" : strerror(-rc));
		goto out;
	}
	fcntl(sb->data_fd, F_SETFL, 0);

	sb->id = TS_BL_ID_BASE + ((uid_t)getpid() % TS_BL_ID_SPAN);
	if (getpwuid(sb->id) || getgrgid(sb->id)) {
		snprintf(err, errlen, "the boot loader's uid %u is a user or group of this host; not running it there",
			 (unsigned)sb->id);
		rc = -EEXIST;
		goto out;
	}
	if (ts_find_program("libdomus-blfd.so", "DOMUS_BL_PRELOAD", sb->preload, sizeof(sb->preload)) < 0 ||
	    !realpath(sb->preload, path) || strlen(path) >= sizeof(sb->preload)) {
		blog(l, "warning: libdomus-blfd.so not found: the boot loader opens the disk by /dev/fd/3 itself, "
			"which its uid may not be allowed to");
		sb->preload[0] = '\0';
	} else {
		snprintf(sb->preload, sizeof(sb->preload), "%s", path);
	}
	snprintf(sb->out_opts, sizeof(sb->out_opts), "mode=0700,uid=%u,gid=%u,size=%uk,nr_inodes=64",
		 (unsigned)sb->id, (unsigned)sb->id, 2 * fsize_mb * 1024 + RESULT_MAX / 1024 + 64);

	rc = build_argv(c, sb, !strcmp(base, "pygrub"), &argv, &envp);
	if (rc < 0)
		goto nomem;
	sb->argv = (const char *const *)argv;
	sb->envp = (const char *const *)envp;

	if (sb->tty) {
		rc = open_pty(&rd, &sb->in_fd);
		if (rc < 0) {
			snprintf(err, errlen, "no pseudo-terminal for the boot loader's menu: %s", strerror(-rc));
			goto out;
		}
		sb->out_fd = sb->in_fd;
		/* Keystrokes it does not read are dropped, not waited on. */
		fcntl(rd, F_SETFL, O_NONBLOCK);
	} else {
		int pfd[2];

		sb->in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (sb->in_fd < 0 || pipe2(pfd, O_CLOEXEC) < 0)
			goto sys;
		rd = pfd[0];
		sb->out_fd = pfd[1];
	}

	blog(l, "boot loader for %s: %s on disk %s (%s)", c->name, sb->prog, k->vdev, k->pdev_path);
	for (size_t i = 0; argv[i]; i++)
		blog(l, "  arg: %s", argv[i]);
	rc = ts_sandbox_start(sb, note, l, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "disk %s (%s): cannot run the boot loader %s: %s", k->vdev, at, sb->prog, why);
		goto out;
	}
	/* The child has them now. */
	close(sb->in_fd);
	if (sb->out_fd != sb->in_fd)
		close(sb->out_fd);
	sb->in_fd = sb->out_fd = -1;
	blog(l, "sandbox: uid and gid %u, namespaces:%s%s%s%s%s%s, timeout %u s, files up to %u MiB",
	     (unsigned)sb->id, sb->flags & CLONE_NEWUSER ? " user" : "", sb->flags & CLONE_NEWNS ? " mount" : "",
	     sb->flags & CLONE_NEWPID ? " pid" : "", sb->flags & CLONE_NEWNET ? " net" : "",
	     sb->flags & CLONE_NEWIPC ? " ipc" : "", sb->flags & CLONE_NEWUTS ? " uts" : "", timeout_s, fsize_mb);
	if (sb->tty)
		term_raw(&ts, rd);
	supervise_child(&r, sb, rd, sb->tty, timeout_s, l);
	term_restore(&ts);
	ts_sandbox_end(sb);
	if (sb->tty)
		fputs("\r\n", stdout);
	switch (r.end) {
	case BL_SETUP:
		rc = -EIO;
		snprintf(err, errlen, "disk %s (%s): cannot run the boot loader %s: %s", k->vdev, at, sb->prog,
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
		explain_failure(l, sb->data_fd, r.status, why, sizeof(why));
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
out:
	ts_sandbox_end(sb);
	if (rc < 0) {
		blog(l, "error: %s", err);
		ts_boot_dispose(b);
	}
	if (l->f)
		fclose(l->f);
	free(l);
	if (r.out_dir >= 0)
		close(r.out_dir);
	if (rd >= 0)
		close(rd);
	if (sb->in_fd >= 0)
		close(sb->in_fd);
	if (sb->out_fd >= 0 && sb->out_fd != sb->in_fd)
		close(sb->out_fd);
	if (sb->data_fd >= 0)
		close(sb->data_fd);
	free(sb);
	free_strv(argv);
	free_strv(envp);
	return rc;
}
