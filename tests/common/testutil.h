/* Helpers shared by host tests of more than one program (tests/lib,
 * tests/vmm): no cmocka here, so that helper programs (fake-monitor) link
 * them too. */
#ifndef DOMUS_TESTS_COMMON_TESTUTIL_H
#define DOMUS_TESTS_COMMON_TESTUTIL_H

#include <stdint.h>

#include "domus/ctl_proto.h"

/* The descriptors this process holds, or -errno when /proc says nothing:
 * a test compares it before and after to find a leak. */
int test_count_fds(void);

/* A guest5-like domain's info: 512 MiB, 2 vCPUs, blocked, 12.3 s of CPU,
 * uuid 11111111-2222-3333-4444-555555555555, ports 1 and 2. */
void test_sample_ctl_info(struct ctl_info *i, uint32_t domid, const char *name, int64_t start);

#endif
