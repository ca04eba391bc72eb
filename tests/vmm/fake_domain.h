/* A domain for the control protocol's server side without a VM: it answers
 * info, pause, unpause and destroy as the monitor does (vmm/control.c) from
 * a struct ctl_info it holds. */
#ifndef DOMUS_TEST_FAKE_DOMAIN_H
#define DOMUS_TEST_FAKE_DOMAIN_H

#include <stdbool.h>

#include "control_srv.h"

struct fake_domain {
	struct ctl_info info;
	bool destroyed;
};

/* guest5-like contents: name, 512 MiB, 2 vCPUs, blocked, 12.3 s of CPU. */
void fake_domain_init(struct fake_domain *f, uint32_t domid, const char *name, int64_t start);

extern const struct control_ops fake_domain_ops;

#endif
