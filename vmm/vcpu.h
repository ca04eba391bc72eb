/* vCPU threads and the PVH entry state. */
#ifndef DOMUS_VMM_VCPU_H
#define DOMUS_VMM_VCPU_H

#include <stdint.h>

struct vm;

struct vcpu_thread_arg {
	struct vm *vm;
	int id;
};

int vcpu_set_pvh_entry(struct vm *vm, int vcpu, uint32_t entry, uint32_t start_info);
int vcpu_start_threads(struct vm *vm, struct vcpu_thread_arg *args);
void vcpu_join_threads(struct vm *vm);

#endif
