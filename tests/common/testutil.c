/* testutil.h */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

void test_sample_ctl_info(struct ctl_info *i, uint32_t domid, const char *name, int64_t start)
{
	memset(i, 0, sizeof(*i));
	snprintf(i->name, sizeof(i->name), "%s", name);
	snprintf(i->uuid, sizeof(i->uuid), "11111111-2222-3333-4444-555555555555");
	i->domid = domid;
	i->vcpus = 2;
	i->mem_kb = i->maxmem_kb = 524288;
	i->cpu_ns = 12345678901ULL;
	i->start = start;
	i->first_entry_ns = 99;
	i->hypercalls = 1;
	i->io_exits = 2;
	i->mmio_exits = 3;
	i->store_port = 1;
	i->console_port = 2;
	i->state = 'b';
}

char *test_read_file(const char *dir, const char *name, char *buf, size_t len)
{
	char p[1024];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "re");
	if (!f || len == 0) {
		if (f)
			fclose(f);
		return NULL;
	}
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}
