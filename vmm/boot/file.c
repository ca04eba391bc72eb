/* See file.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

int boot_file_open(const char *path, uint64_t max, int *fd, uint64_t *size,
		   char *err, size_t errlen)
{
	struct stat st;
	int f, rc;

	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(f, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: too large (%lld bytes, limit %llu)", path,
			 (long long)st.st_size, (unsigned long long)max);
		goto fail;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return 0;
fail:
	close(f);
	return rc;
}

int boot_file_read(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t r = read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int boot_file_slurp(const char *path, uint64_t max, uint8_t **buf, uint64_t *size,
		    char *err, size_t errlen)
{
	uint8_t *b;
	uint64_t n;
	int fd, rc;

	rc = boot_file_open(path, max, &fd, &n, err, errlen);
	if (rc < 0)
		return rc;
	b = malloc(n ? n : 1);
	if (!b) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory reading it", path);
	} else {
		rc = boot_file_read(fd, b, n);
		if (rc < 0)
			snprintf(err, errlen, "%s: read: %s", path, strerror(-rc));
	}
	close(fd);
	if (rc < 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*size = n;
	return 0;
}
