/* Reading whole files for the boot loader, with a size limit, so that the
 * kernel and initrd paths share one careful read loop. */
#ifndef DOMUS_VMM_BOOT_FILE_H
#define DOMUS_VMM_BOOT_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Opens path read-only and returns its fd and size (a regular file of at
 * most max bytes).  -errno with "path: why" in err. */
int boot_file_open(const char *path, uint64_t max, int *fd, uint64_t *size,
		   char *err, size_t errlen);

/* Reads exactly len bytes from fd's current offset into buf (EINTR and short
 * reads retried).  -EIO if the file ended early, else -errno. */
int boot_file_read(int fd, void *buf, size_t len);

/* Reads the whole regular file at path (at most max bytes) into a new
 * malloc()ed buffer.  -errno with "path: why" in err. */
int boot_file_slurp(const char *path, uint64_t max, uint8_t **buf, uint64_t *size,
		    char *err, size_t errlen);

#endif
