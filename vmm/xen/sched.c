/* sched_op (29), vm_assist (21) and console_io (18). */
#include "hypercall.h"
#include "xen_abi.h"
#include "../vm.h"
#include "../console.h"

#include <errno.h>

#include "domus/log.h"

int64_t hc_sched_op(struct vm *vm, int vcpu, const uint64_t a[6])
{
	struct sched_shutdown s;
	int rc;

	switch (a[0]) {
	case SCHEDOP_yield:
	case SCHEDOP_block:
	case SCHEDOP_poll: /* KVM answers these in kernel; here only as a fallback */
		return 0;
	case SCHEDOP_shutdown:
		rc = guest_copy_from(vm, vcpu, a[1], &s, sizeof(s));
		if (rc < 0)
			return rc;
		switch (s.reason) {
		case SHUTDOWN_poweroff:
			vm_request_exit(vm, VM_POWEROFF);
			return 0;
		case SHUTDOWN_reboot:
			vm_request_exit(vm, VM_REBOOT);
			return 0;
		case SHUTDOWN_crash:
		case SHUTDOWN_watchdog:
			vm_request_exit(vm, VM_CRASH);
			return 0;
		case SHUTDOWN_suspend:
			return 1; /* "cancelled": the same domain goes on (no save yet) */
		default:
			return -EINVAL;
		}
	case SCHEDOP_shutdown_code:
		return 0;
	default:
		return -ENOSYS;
	}
}

int64_t hc_vm_assist(struct vm *vm, int vcpu, const uint64_t a[6])
{
	/* runstate_update_flag: KVM 6.1 always uses XEN_RUNSTATE_UPDATE. */
	return a[0] == VMASST_CMD_enable || a[0] == VMASST_CMD_disable ? 0 : -EINVAL;
}

/* The guest's earliest output (xen_raw_console_write, earlycon=xenboot). */
int64_t hc_console_io(struct vm *vm, int vcpu, const uint64_t a[6])
{
	char buf[256];
	uint64_t len = a[1], gva = a[2], done = 0;

	if (a[0] == CONSOLEIO_read)
		return 0;
	if (a[0] != CONSOLEIO_write)
		return -ENOSYS;
	/* A guest may not flood the log in one call; Linux ignores the count
	 * written (xen_raw_console_write). */
	if (len > 16384)
		len = 16384;
	while (done < len) {
		uint64_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		int rc = guest_copy_from(vm, vcpu, gva + done, buf, n);
		if (rc < 0)
			return rc;
		console_guest_output(vm, buf, (size_t)n);
		done += n;
	}
	return (int64_t)done;
}
