/* Helpers shared by host tests of more than one program (tests/lib,
 * tests/vmm): no cmocka here, so that helper programs (fake-monitor) link
 * them too. */
#ifndef DOMUS_TESTS_COMMON_TESTUTIL_H
#define DOMUS_TESTS_COMMON_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "domus/ctl_proto.h"

/* The descriptors this process holds, or -errno when /proc says nothing:
 * a test compares it before and after to find a leak. */
int test_count_fds(void);

/* DIR/NAME's text in buf (cut to len - 1 bytes), or NULL when it cannot
 * be read: what a program under test wrote. */
char *test_read_file(const char *dir, const char *name, char *buf, size_t len);

/* A guest5-like domain's info: 512 MiB, 2 vCPUs, blocked, 12.3 s of CPU,
 * uuid 11111111-2222-3333-4444-555555555555, ports 1 and 2. */
void test_sample_ctl_info(struct ctl_info *i, uint32_t domid, const char *name, int64_t start);

#endif
