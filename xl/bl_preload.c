/* libdomus-blfd.so: preloaded into the sandboxed boot loader (ts_bootloader.c).
 *
 * xl opens the guest's disk itself, read-only, and hands the boot loader the
 * descriptor (fd 3) with "/dev/fd/3" as the disk's path.  The boot loader runs
 * as an unprivileged uid, and Linux checks an open of /proc/self/fd/N (or
 * /dev/fd/N) against the file's own permissions, so a root-owned 0600 image
 * or a root:disk 0660 block device would be refused to it.  pygrub (Python's
 * os.open) and libxenfsimage (open(2)) open the disk by path several times;
 * this library answers a read-only open of /dev/fd/N or /proc/self/fd/N with
 * a duplicate of N rewound to offset 0 (and pygrub's access(R_OK) check of
 * the path with yes), and passes every other call to the kernel unchanged.  It grants nothing the process does not hold already: it
 * is a convenience, not part of the sandbox.
 *
 * A duplicate shares its file offset with N: libxenfsimage reads with pread,
 * and pygrub's own readers open, read from the start and close in turn, so
 * the shared offset does not mix their reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* N of "/dev/fd/N" or "/proc/self/fd/N"; -1 for any other path. */
static int fd_of(const char *path)
{
	static const char *const prefix[] = { "/dev/fd/", "/proc/self/fd/" };
	long n;
	char *end;

	if (!path)
		return -1;
	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++) {
		size_t l = strlen(prefix[i]);

		if (strncmp(path, prefix[i], l) || path[l] < '0' || path[l] > '9')
			continue;
		errno = 0;
		n = strtol(path + l, &end, 10);
		if (*end || errno || n < 0 || n > 1 << 20)
			return -1;
		return (int)n;
	}
	return -1;
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode)
{
	int n = fd_of(path), fd;

	if (n < 0 || (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_DIRECTORY)))
		return (int)syscall(SYS_openat, dirfd, path, flags, mode);
	fd = fcntl(n, (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	if (fd >= 0)
		(void)lseek(fd, 0, SEEK_SET);
	return fd;
}

/* The mode argument is there only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags, mode)                                          \
	do {                                                           \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {               \
			va_list ap;                                    \
			va_start(ap, flags);                           \
			mode = (mode_t)va_arg(ap, int);                \
			va_end(ap);                                    \
		}                                                      \
	} while (0)

/* access(R_OK) of /dev/fd/N: whether N is open for reading. */
static int do_access(int dirfd, const char *path, int mode, int flags)
{
	int n = fd_of(path), fl;

	if (n < 0 || (mode & (W_OK | X_OK)))
		return (int)syscall(SYS_faccessat, dirfd, path, mode, flags);
	fl = fcntl(n, F_GETFL);
	if (fl < 0)
		return -1;
	if ((fl & O_ACCMODE) == O_WRONLY) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

int access(const char *path, int mode);
int faccessat(int dirfd, const char *path, int mode, int flags);

int access(const char *path, int mode)
{
	return do_access(AT_FDCWD, path, mode, 0);
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
	return do_access(dirfd, path, mode, flags);
}

int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_open(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_open(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_open(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return do_open(dirfd, path, flags, mode);
}

int __open_2(const char *path, int flags)
{
	return do_open(AT_FDCWD, path, flags, 0);
}

int __open64_2(const char *path, int flags)
{
	return do_open(AT_FDCWD, path, flags, 0);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	return do_open(dirfd, path, flags, 0);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	return do_open(dirfd, path, flags, 0);
}
