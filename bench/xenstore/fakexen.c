/* fakexen: an LD_PRELOAD stand-in for the few Xen hypervisor library calls
 * Xen 4.17's own xenstored and oxenstored make at start-up, so both serve a
 * private Unix socket on a host without Xen (see shared/design/peers.md 2c
 * for what they need).  Only for benchmarks and differential tests: every
 * domid below DOMID_FIRST_RESERVED "exists", mapped rings are blank pages
 * and event channels never fire.
 *
 * State lives in statics because an LD_PRELOAD library has no main() to own
 * it; it is set once and never shared between threads. */
/* Meson adds -D_FILE_OFFSET_BITS=64, which would alias open to open64 and
 * leave no way to define both. */
#undef _FILE_OFFSET_BITS
/* oxenstored maps rings with the old foreign-map call, still in 4.17. */
#define XC_WANT_COMPAT_MAP_FOREIGN_API 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

static char handle_token; /* any non-NULL pointer serves as a handle */
static int event_fd = -1;
static int next_port = 1;

/* /proc/xen/xsd_port holds the store event channel ("1", no newline:
 * oxenstored's int_of_string rejects one) and /proc/xen/xsd_kva is the
 * dom0 ring page; both become memfds. */
static int fake_proc_file(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (strcmp(name, "xsd_port") == 0) {
		if (write(fd, "1", 1) != 1 || lseek(fd, 0, SEEK_SET) < 0)
			goto fail;
	} else if (ftruncate(fd, 4096) < 0) {
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Both names: binaries built with _FILE_OFFSET_BITS=64 call open64. */
static int redirect_open(const char *sym, const char *path, int flags, mode_t mode)
{
	int (*real)(const char *, int, ...);

	if (strncmp(path, "/proc/xen/xsd_", 14) == 0)
		return fake_proc_file(path + 10);
	real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(path, flags, mode);
}

#define OPEN_MODE(flags, mode)                                  \
	do {                                                    \
		if ((flags) & O_CREAT) {                        \
			va_list ap;                             \
			va_start(ap, flags);                    \
			mode = (mode_t)va_arg(ap, int);         \
			va_end(ap);                             \
		}                                               \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	return redirect_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, mode);
	return redirect_open("open64", path, flags, mode);
}

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				unsigned open_flags)
{
	return (xc_interface *)&handle_token;
}

int xc_interface_close(xc_interface *xch)
{
	return 0;
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
		      xc_dominfo_t *info)
{
	if (max_doms < 1 || first_domid >= DOMID_FIRST_RESERVED)
		return 0;
	memset(info, 0, sizeof(*info));
	info->domid = first_domid;
	info->running = 1;
	return 1;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains,
			  xc_domaininfo_t *info)
{
	if (max_domains < 1 || first_domain >= DOMID_FIRST_RESERVED)
		return 0;
	memset(info, 0, sizeof(*info));
	info->domain = (domid_t)first_domain;
	info->flags = XEN_DOMINF_running;
	return 1;
}

static void *blank_pages(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot,
			   unsigned long mfn)
{
	return blank_pages((size_t)size);
}

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned open_flags)
{
	return (xengnttab_handle *)&handle_token;
}

int xengnttab_close(xengnttab_handle *xgt)
{
	return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot)
{
	return blank_pages(4096);
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	return munmap(start_address, 4096u * count);
}

static xenevtchn_handle *evtchn_handle(void)
{
	if (event_fd < 0)
		event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return (xenevtchn_handle *)&handle_token;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned open_flags)
{
	return evtchn_handle();
}

xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
				   unsigned open_flags)
{
	return evtchn_handle();
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return event_fd;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	return next_port++;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port)
{
	return next_port++;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	errno = EAGAIN;
	return -1;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}
