/* kvmcheck: says in one line whether this host's /dev/kvm can run Xen guests
 * itself (exit 0) or whether domus must use the lab (exit 1).
 *
 * Native needs both: KVM_CAP_XEN_HVM with hypercall interception (a kernel built
 * with CONFIG_KVM_XEN, Linux >= 5.12) and hardware virtualization (vmx or svm in
 * /proc/cpuinfo; a paravirtual back end such as kvm_pvm cannot run an unmodified
 * guest).  --lab-health runs one tiny guest so that KVM's clock set-up happens
 * and its complaints, if any, reach the lab's console. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int cpu_has_hw_virt(const char **which)
{
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		if (strstr(line, " vmx")) {
			*which = "vmx";
			found = 1;
		} else if (strstr(line, " svm")) {
			*which = "svm";
			found = 1;
		}
		break;
	}
	fclose(f);
	return found;
}

/* One real-mode guest that executes HLT: enough for KVM to set up its clock. */
static int run_tiny_guest(int kvm)
{
	static const unsigned char code[] = { 0xf4 }; /* hlt */
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	void *mem = MAP_FAILED;
	int vm = -1, vcpu = -1, rc = -1;
	long run_size;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		goto out;
	mem = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		goto out;
	memcpy((char *)mem + 0x1000, code, sizeof(code));
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = 0x2000, .userspace_addr = (unsigned long)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		goto out;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size <= 0)
		goto out;
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		goto out;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		goto unmap;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		goto unmap;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		goto unmap;
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		goto unmap;
	rc = run->exit_reason == KVM_EXIT_HLT ? 0 : -1;
unmap:
	munmap(run, (size_t)run_size);
out:
	if (vcpu >= 0)
		close(vcpu);
	if (mem != MAP_FAILED)
		munmap(mem, 0x2000);
	if (vm >= 0)
		close(vm);
	return rc;
}

int main(int argc, char **argv)
{
	const char *hw = NULL;
	int kvm, caps, hw_ok;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("kvmcheck: no usable /dev/kvm here (%s): domus runs guests in the lab (lab/lab)\n",
		       strerror(errno));
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--lab-health") == 0) {
		int rc = run_tiny_guest(kvm);

		printf("kvmcheck: tiny guest %s\n", rc == 0 ? "ran" : "failed");
		close(kvm);
		return rc == 0 ? 0 : 1;
	}
	caps = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
	hw_ok = cpu_has_hw_virt(&hw);
	close(kvm);
	if (caps > 0 && (caps & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL) && hw_ok) {
		printf("kvmcheck: this host runs Xen guests natively (KVM_CAP_XEN_HVM 0x%x, %s)\n", caps, hw);
		return 0;
	}
	int xen_ok = caps > 0 && (caps & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL);

	printf("kvmcheck: this host cannot run Xen guests natively (%s%s%s): domus runs them in the lab (lab/lab)\n",
	       xen_ok ? "" : "/dev/kvm has no Xen hypercall interception: kernel built without CONFIG_KVM_XEN",
	       !xen_ok && !hw_ok ? "; " : "", hw_ok ? "" : "the CPU shows no vmx/svm");
	return 1;
}
