/* vCPU threads: the KVM_RUN loop and the exits user space must answer. */
#include "vcpu.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "boot/acpi_pm.h"
#include "console.h"
#include "domus/log.h"
#include "vm.h"
#include "xen/hypercall.h"

/* The PVH entry state (Xen docs/misc/pvh.pandoc): 32-bit flat protected mode,
 * paging off, EBX = hvm_start_info, and a busy 32-bit TSS in TR because VMX
 * entry checks demand one. */
int vcpu_set_pvh_entry(struct vm *vm, int vcpu, uint32_t entry, uint32_t start_info)
{
	struct vcpu *v = &vm->vcpus[vcpu];
	struct kvm_sregs s;
	struct kvm_regs r = { .rip = entry, .rbx = start_info, .rflags = 2 };
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 11,
				    .present = 1, .s = 1, .db = 1, .g = 1 };
	struct kvm_segment data = { .base = 0, .limit = 0xffffffff, .selector = 0x18, .type = 3,
				    .present = 1, .s = 1, .db = 1, .g = 1 };
	struct kvm_segment tr = { .base = 0, .limit = 0x67, .selector = 0x20, .type = 11, .present = 1 };

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr = tr;
	s.cr0 = 0x11; /* PE, and ET which the CPU forces anyway */
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0 || ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

/* The ACPI fixed hardware, 0xCF9 and the keyboard controller's reset line
 * are one model (boot/acpi_pm.c); what it says about power goes to the VM. */
static int pm_io(struct vm *vm, uint16_t port, uint32_t size, int is_write, uint32_t *val)
{
	struct timespec ts;
	int ev;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&vm->pm_lock);
	ev = acpi_pm_io(&vm->pm, port, size, is_write, val,
			(uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
	pthread_mutex_unlock(&vm->pm_lock);
	if (ev == ACPI_PM_POWEROFF)
		vm_request_exit(vm, VM_POWEROFF);
	else if (ev == ACPI_PM_RESET)
		vm_request_exit(vm, VM_REBOOT);
	return ev;
}

static void port_write(struct vm *vm, uint16_t port, uint32_t size, uint32_t val)
{
	if (pm_io(vm, port, size, 1, &val) != -ENOENT)
		return;
	if (port == 0xe9) { /* Bochs/Xen debug port: earlyprintk=xen falls back to it */
		char ch = (char)val;
		console_guest_output(vm, &ch, 1);
	}
}

static uint32_t port_read(struct vm *vm, uint16_t port, uint32_t size)
{
	uint32_t val = 0;

	if (pm_io(vm, port, size, 0, &val) >= 0)
		return val;
	return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff; /* nothing there */
}

static void handle_io(struct vm *vm, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		uint32_t v = 0;
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			memcpy(&v, data, run->io.size);
			port_write(vm, run->io.port, run->io.size, v);
		} else {
			v = port_read(vm, run->io.port, run->io.size);
			memcpy(data, &v, run->io.size);
		}
	}
}

static void log_failure(struct vm *vm, struct vcpu *v, const char *what)
{
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_REGS, &r) == 0)
		log_err(vm->name, "vcpu%d: %s at rip %#llx (rax %#llx rsp %#llx)", v->id, what,
			(unsigned long long)r.rip, (unsigned long long)r.rax, (unsigned long long)r.rsp);
	else
		log_err(vm->name, "vcpu%d: %s", v->id, what);
}

static void *vcpu_main(void *arg)
{
	struct vcpu_thread_arg *ta = arg;
	struct vm *vm = ta->vm;
	struct vcpu *v = &vm->vcpus[ta->id];
	struct kvm_run *run = v->run;

	v->tid = (int)gettid();
	while (atomic_load(&vm->exit_reason) == VM_RUNNING) {
		vcpu_process_work(vm, v->id);
		vm_wait_unpaused(vm, v->id);
		vcpu_process_work(vm, v->id);
		if (atomic_load(&vm->exit_reason) != VM_RUNNING)
			break;
		if (v->id == 0 && !atomic_load(&vm->first_entry_ns)) {
			/* When the guest's first instruction runs: bench/boot splits
			 * the boot time there, into ours and the guest kernel's. */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			atomic_store(&vm->first_entry_ns, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_failure(vm, v, strerror(errno));
			vm_request_exit(vm, VM_ERROR);
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_XEN:
			if (run->xen.type == KVM_EXIT_XEN_HCALL) {
				v->hypercalls++;
				run->xen.u.hcall.result = (uint64_t)hypercall_dispatch(
					vm, v->id, run->xen.u.hcall.input, (const uint64_t *)run->xen.u.hcall.params,
					run->xen.u.hcall.cpl);
			}
			break;
		case KVM_EXIT_IO:
			v->io_exits++;
			handle_io(vm, run);
			break;
		case KVM_EXIT_MMIO:
			v->mmio_exits++;
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SHUTDOWN:
			/* A triple fault resets an x86 machine. */
			log_warn(vm->name, "vcpu%d: triple fault: rebooting", v->id);
			vm_request_exit(vm, VM_REBOOT);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			vm_request_exit(vm, run->system_event.type == KVM_SYSTEM_EVENT_RESET ? VM_REBOOT : VM_POWEROFF);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			log_failure(vm, v, "hardware entry failed");
			vm_request_exit(vm, VM_ERROR);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			log_failure(vm, v, "KVM internal error");
			vm_request_exit(vm, VM_ERROR);
			break;
		default:
			log_guest(&vm->guest_rl, vm->name, "vcpu%d: unhandled exit %u", v->id, run->exit_reason);
			break;
		}
	}
	vcpu_work_done(vm, v->id);
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig; /* only there to make KVM_RUN return EINTR */
}

int vcpu_start_threads(struct vm *vm, struct vcpu_thread_arg *args)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return -errno;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		args[i] = (struct vcpu_thread_arg){ .vm = vm, .id = i };
		int rc = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_main, &args[i]);
		if (rc) {
			vm_request_exit(vm, VM_ERROR);
			return -rc;
		}
		vm->vcpus[i].started = true;
	}
	return 0;
}

void vcpu_join_threads(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].started = false;
	}
}
