/* kvm-xen-hcall: the lab's first proof.  A 64-bit guest issues Xen hypercalls
 * (VMMCALL on AMD, VMCALL on Intel, as Linux 6.1.121+ picks in
 * __xen_hypercall_setfunc) under KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL; each must
 * reach user space as KVM_EXIT_XEN with the number in RAX and the arguments in
 * RDI, RSI, RDX, R10, R8, R9 (arch/x86/include/asm/xen/hypercall.h; KVM adds
 * R9), and the result written back must appear in the guest's RAX.
 *
 *   kvm-xen-hcall            run the check; exit 0 on success, 1 on a mismatch,
 *                            77 (skip) without KVM_CAP_XEN_HVM unless --require
 *   kvm-xen-hcall --bench S  measure hypercall and port-I/O exits per second */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE 0x200000UL
#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000
#define CODE 0x8000
#define RESULTS 0x9000
#define NCALLS 4

/* Guest code, assembled here and copied to CODE.  Each call loads distinct
 * arguments, traps, and stores RAX to RESULTS + 8*i. */
#define GUEST_CALL(insn, i, nr)                                                              \
	"mov $" #nr ", %eax\n mov $0x" #i "01, %rdi\n mov $0x" #i "02, %rsi\n"                   \
	"mov $0x" #i "03, %rdx\n mov $0x" #i "04, %r10\n mov $0x" #i "05, %r8\n"                 \
	"mov $0x" #i "06, %r9\n " insn "\n mov %rax, 0x9000 + 8 * " #i "\n"
#define GUEST_PROG(name, insn)                                                               \
	".globl " #name "_start, " #name "_end\n" #name "_start:\n"                              \
	GUEST_CALL(insn, 0, 17) GUEST_CALL(insn, 1, 12) GUEST_CALL(insn, 2, 34)                  \
	GUEST_CALL(insn, 3, 20) "hlt\n" #name "_end:\n"                                          \
	".globl " #name "_loop_start, " #name "_loop_end\n" #name "_loop_start:\n"               \
	"1: mov $34, %eax\n mov $9, %rdi\n " insn "\n jmp 1b\n" #name "_loop_end:\n"

asm(".pushsection .rodata\n.code64\n"
    GUEST_PROG(g_amd, "vmmcall") GUEST_PROG(g_intel, "vmcall")
    ".globl g_io_start, g_io_end\ng_io_start:\n1: out %al, $0x80\n jmp 1b\ng_io_end:\n"
    ".popsection\n");
extern const unsigned char g_amd_start[], g_amd_end[], g_intel_start[], g_intel_end[];
extern const unsigned char g_amd_loop_start[], g_amd_loop_end[];
extern const unsigned char g_intel_loop_start[], g_intel_loop_end[];
extern const unsigned char g_io_start[], g_io_end[];

/* The hypercall numbers above (xen/xen.h: xen_version, memory_op, hvm_op,
 * grant_table_op) and what user space answers; one negative to see sign. */
static const uint64_t call_nr[NCALLS] = { 17, 12, 34, 20 };
static const int64_t call_result[NCALLS] = { 0x40011, 0, -38, 0x7ff0 };

struct vm {
	int kvm, fd, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

static int vm_open(struct vm *vm, int need_xen)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	uint64_t *pt;
	int caps;

	memset(vm, 0, sizeof(*vm));
	vm->fd = vm->vcpu = -1;
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return -errno;
	caps = ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
	if (need_xen && (caps <= 0 || !(caps & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL)))
		return -ENOTSUP;
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return -errno;
	if (need_xen) {
		/* msr must be non-zero: it alone enables KVM's kvm_xen_enabled key,
		 * which gates the intercept itself (arch/x86/kvm/xen.c). */
		struct kvm_xen_hvm_config xc = {
			.flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL, .msr = 0x40000000,
		};
		if (ioctl(vm->fd, KVM_XEN_HVM_CONFIG, &xc) < 0)
			return -errno;
	}
	vm->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		return -errno;
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	/* Identity map of the first 2 MiB with one large page. */
	pt = (uint64_t *)(vm->mem + PML4);
	pt[0] = PDPT | 3;
	pt = (uint64_t *)(vm->mem + PDPT);
	pt[0] = PD | 3;
	pt = (uint64_t *)(vm->mem + PD);
	pt[0] = 0x83;
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		return -errno;
	vm->run_size = (size_t)ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		return -errno;
	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1,
		.s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = 16, .type = 3, .present = 1,
		.s = 1, .db = 1, .g = 1,
	};
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr3 = PML4;
	sregs.cr4 = 1u << 5;                            /* PAE */
	sregs.cr0 = 0x80000011;                         /* PG | ET | PE */
	sregs.efer = (1u << 8) | (1u << 10);            /* LME | LMA */
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	return 0;
}

static void vm_close(struct vm *vm)
{
	if (vm->run && vm->run != MAP_FAILED)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu >= 0)
		close(vm->vcpu);
	if (vm->mem && vm->mem != MAP_FAILED)
		munmap(vm->mem, MEM_SIZE);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm >= 0)
		close(vm->kvm);
}

static int vm_load(struct vm *vm, const unsigned char *start, const unsigned char *end)
{
	struct kvm_regs regs = { .rip = CODE, .rsp = 0x7000, .rflags = 2 };

	memcpy(vm->mem + CODE, start, (size_t)(end - start));
	return ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

static int is_amd(void)
{
	unsigned a = 0, b = 0, c = 0, d = 0;

	if (!__get_cpuid(0, &a, &b, &c, &d))
		return 0;
	return b == 0x68747541; /* "Auth"enticAMD */
}

static int check_calls(struct vm *vm)
{
	int failures = 0, seen = 0;

	for (;;) {
		if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
			perror("KVM_RUN");
			return 1;
		}
		if (vm->run->exit_reason == KVM_EXIT_HLT)
			break;
		if (vm->run->exit_reason != KVM_EXIT_XEN) {
			printf("FAIL: exit reason %u, expected KVM_EXIT_XEN (%u)\n", vm->run->exit_reason,
			       KVM_EXIT_XEN);
			return 1;
		}
		if (seen >= NCALLS) {
			printf("FAIL: more hypercalls than the guest made\n");
			return 1;
		}
		struct kvm_xen_exit *x = &vm->run->xen;
		if (x->type != KVM_EXIT_XEN_HCALL) {
			printf("FAIL: call %d: xen exit type %u, expected HCALL\n", seen, x->type);
			return 1;
		}
		if (x->u.hcall.input != call_nr[seen]) {
			printf("FAIL: call %d: number %llu, expected %llu\n", seen,
			       (unsigned long long)x->u.hcall.input, (unsigned long long)call_nr[seen]);
			failures++;
		}
		if (x->u.hcall.longmode != 1 || x->u.hcall.cpl != 0) {
			printf("FAIL: call %d: longmode %u cpl %u, expected 1 and 0\n", seen,
			       x->u.hcall.longmode, x->u.hcall.cpl);
			failures++;
		}
		for (int j = 0; j < 6; j++) {
			uint64_t want = (uint64_t)seen * 0x100 + (uint64_t)j + 1;
			if (x->u.hcall.params[j] != want) {
				printf("FAIL: call %d: param %d = %#llx, expected %#llx\n", seen, j,
				       (unsigned long long)x->u.hcall.params[j], (unsigned long long)want);
				failures++;
			}
		}
		printf("ok: hypercall %llu arrived as KVM_EXIT_XEN with its 6 arguments\n",
		       (unsigned long long)x->u.hcall.input);
		x->u.hcall.result = (uint64_t)call_result[seen];
		seen++;
	}
	if (seen != NCALLS) {
		printf("FAIL: %d hypercalls reached user space, expected %d\n", seen, NCALLS);
		failures++;
	}
	for (int i = 0; i < NCALLS; i++) {
		int64_t got;
		memcpy(&got, vm->mem + RESULTS + 8 * i, sizeof(got));
		if (got != call_result[i]) {
			printf("FAIL: call %d: guest RAX = %lld, expected %lld\n", i, (long long)got,
			       (long long)call_result[i]);
			failures++;
		} else {
			printf("ok: result %lld of hypercall %llu reached the guest's RAX\n", (long long)got,
			       (unsigned long long)call_nr[i]);
		}
	}
	return failures ? 1 : 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double exits_per_second(struct vm *vm, unsigned want_reason, double secs)
{
	double t0 = now(), t;
	long n = 0;

	do {
		for (int k = 0; k < 100; k++) {
			if (ioctl(vm->vcpu, KVM_RUN, 0) < 0 || vm->run->exit_reason != want_reason)
				return -1;
			if (want_reason == KVM_EXIT_XEN)
				vm->run->xen.u.hcall.result = 0;
			n++;
		}
		t = now();
	} while (t - t0 < secs);
	return (double)n / (t - t0);
}

int main(int argc, char **argv)
{
	int require = argc > 1 && strcmp(argv[1], "--require") == 0;
	double bench = argc > 2 && strcmp(argv[1], "--bench") == 0 ? atof(argv[2]) : 0;
	int amd = is_amd(), rc;
	struct vm vm;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = vm_open(&vm, 1);
	if (rc == -ENOTSUP || rc == -ENOENT) {
		printf("%s: /dev/kvm has no Xen hypercall interception (KVM_CAP_XEN_HVM)\n", argv[0]);
		vm_close(&vm);
		return require ? 1 : 77;
	}
	if (rc < 0) {
		printf("FAIL: setting up the VM: %s\n", strerror(-rc));
		vm_close(&vm);
		return 1;
	}
	if (bench > 0) {
		double xen, io;
		vm_load(&vm, amd ? g_amd_loop_start : g_intel_loop_start,
			amd ? g_amd_loop_end : g_intel_loop_end);
		xen = exits_per_second(&vm, KVM_EXIT_XEN, bench);
		vm_close(&vm);
		if (vm_open(&vm, 0) < 0 || vm_load(&vm, g_io_start, g_io_end) < 0)
			return 1;
		io = exits_per_second(&vm, KVM_EXIT_IO, bench);
		vm_close(&vm);
		printf("xen_hcall_exits_per_s %.0f\nio_exits_per_s %.0f\n", xen, io);
		return xen > 0 && io > 0 ? 0 : 1;
	}
	printf("guest uses %s (host CPU vendor %s)\n", amd ? "VMMCALL" : "VMCALL", amd ? "AMD" : "Intel");
	rc = vm_load(&vm, amd ? g_amd_start : g_intel_start, amd ? g_amd_end : g_intel_end);
	if (rc == 0)
		rc = check_calls(&vm);
	else
		printf("FAIL: loading the guest: %s\n", strerror(-rc));
	vm_close(&vm);
	return rc;
}
