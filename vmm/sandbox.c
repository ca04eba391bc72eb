/* The monitor's seccomp allowlists (sandbox.h, docs/sandbox.md).
 *
 * Two tables: system calls (role × call, with argument checks where the
 * arguments are numbers the filter can see) and ioctl requests (role ×
 * request).  Anything not in a role's rows kills the process.  What a row
 * says under "why" is the code path that makes the call after set-up, i.e.
 * once every part has started; what only the parts' init and start do
 * (creating the VM and its vCPUs, binding sockets, forking
 * qemu-storage-daemon, loading a restore) is done by then and not listed.
 *
 * Pointers (paths, socket addresses, clone3's struct) are out of a
 * filter's reach: openat and connect are allowed by number only, which is
 * why the monitor is also meant to lose its root and its view of the file
 * system (docs/sandbox.md "Left"). */
#include "sandbox.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/fs.h>
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <termios.h>

#include "domus/log.h"
#include "evloop.h"
#include "vm.h"

#define M (1u << SANDBOX_MAIN)
#define L (1u << SANDBOX_LOOP)
#define V (1u << SANDBOX_VCPU)
#define ALL (M | L | V)

/* SOCK_TYPE_MASK (include/linux/net.h): the flags SOCK_CLOEXEC and
 * SOCK_NONBLOCK ride in socket()'s type argument above it. */
#define SB_SOCK_TYPE_MASK 0xf

struct sb_rule {
	const char *name; /* libseccomp's name: resolved for the running arch */
	unsigned roles;
	int fail_errno; /* 0: allow; else the call fails with this errno */
	unsigned n;     /* argument checks, all must hold */
	struct scmp_arg_cmp arg[2];
};

/* Argument checks. */
#define ARG_EQ(i, v) { .arg = (i), .op = SCMP_CMP_EQ, .datum_a = (v), .datum_b = 0 }
#define ARG_HAS(i, bits) { .arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (bits), .datum_b = (bits) }
#define ARG_LACKS(i, bits) { .arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (bits), .datum_b = 0 }
#define ARG_MASKED(i, mask, v) { .arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask), .datum_b = (v) }
/* Rows. */
#define OK(nm, r) { .name = (nm), .roles = (r) }
#define OK_IF(nm, r, a0) { .name = (nm), .roles = (r), .n = 1, .arg = { a0 } }
#define OK_IF2(nm, r, a0, a1) { .name = (nm), .roles = (r), .n = 2, .arg = { a0, a1 } }
#define FAIL(nm, r, e) { .name = (nm), .roles = (r), .fail_errno = (e) }

static const struct sb_rule sb_rules[] = {
	/* --- every thread --- */
	/* Descriptors: the log (lib/log.c, one write per line), eventfds
	 * (evl_call's wake-up, the exit eventfd, back-end ports), the control
	 * socket's replies, the save stream. */
	OK("read", ALL), OK("write", ALL), OK("readv", ALL), OK("writev", ALL), OK("close", ALL),
	/* Locks, condition variables, pthread_join (vm_pause.c, evloop.c). */
	OK("futex", ALL),
	/* The vCPU kick (SIGUSR1, vcpu.c kick_handler) returns through it; a
	 * sleep interrupted by it restarts. */
	OK("rt_sigreturn", ALL), OK("restart_syscall", ALL),
	/* pthread_sigmask; glibc blocks signals around thread creation and exit. */
	OK("rt_sigprocmask", ALL),
	/* malloc and thread stacks; never executable memory after set-up:
	 * nothing is loaded once the parts have started. */
	OK_IF("mmap", ALL, ARG_LACKS(2, PROT_EXEC)),
	OK_IF("mprotect", ALL, ARG_LACKS(2, PROT_EXEC)),
	OK("munmap", ALL), OK("mremap", ALL), OK("madvise", ALL), OK("brk", ALL),
	/* Time: the vDSO answers most; these are its fall-backs and the
	 * waits (qsd.c sleep_ms, pm_io's clock). */
	OK("clock_gettime", ALL), OK("gettimeofday", ALL), OK("clock_nanosleep", ALL), OK("nanosleep", ALL),
	OK("sched_yield", ALL), OK("getrandom", ALL),
	/* vm_request_exit() and vm_pause() kick vCPU threads: pthread_kill is
	 * tgkill(getpid(), tid, SIGUSR1). */
	OK("getpid", ALL), OK("gettid", ALL), OK("tgkill", ALL),
	/* stdio asks about its stream (the log, /proc reads). */
	OK("fstat", ALL), OK("newfstatat", ALL), OK("lseek", ALL),
	/* A thread ends (exit), the monitor ends (exit_group). */
	OK("exit", ALL), OK("exit_group", ALL),
	/* Filtered by request: sb_ioctls below. */

	/* --- the main thread, after set-up: monitor_wait(), then the
	 * parts' quiesce and stop in reverse (monitor.c) --- */
	/* The control and console sockets' paths, the qcow2 views
	 * (qsd_remove_stale). */
	OK("unlink", M), OK("unlinkat", M),
	/* qsd_stop(): SIGTERM to the qemu-storage-daemon children, SIGKILL
	 * after its grace, and reaping them.  Nothing else: the signal is
	 * checked, the pid cannot be (the uid drop bounds it, docs). */
	OK_IF("kill", M, ARG_EQ(1, SIGTERM)),
	OK_IF("kill", M, ARG_EQ(1, SIGKILL)),
	OK("wait4", M), OK("waitid", M),
	/* qsd_remove_stale(): a daemon killed leaves its FUSE mount, detached
	 * lazily; MNT_DETACH only. */
	OK_IF("umount2", M, ARG_EQ(1, MNT_DETACH)),
	/* The back ends' libxenstore handles closed at stop (xs_close:
	 * shutdown of the socket before the reader thread is joined). */
	OK("shutdown", M | L),
	/* A source deleted once the loop has stopped is deleted on the caller
	 * (evl_del: the signals part's quiesce, a device's stop). */
	OK("epoll_ctl", M | L),
	/* blkback_destroy() drains what is in flight at a device's stop
	 * (devs_stop on this thread); after the devices' quiesce nothing is,
	 * but a failed quiesce leaves I/O to wait for. */
	OK("io_uring_enter", M | L),
	/* xs_close cancels libxenstore's reader thread: glibc's pthread_cancel
	 * installs its SIGCANCEL handler on first use (nptl/pthread_cancel.c);
	 * libgcc_s, which it needs, is loaded before the filter (preload()). */
	OK("rt_sigaction", M | L),

	/* --- the event loop thread (evloop.c) and what it runs --- */
	/* The loop itself: epoll, timers (evl_add_timer at run time: the
	 * xenstore link's retry, control idle timers), eventfds (a back end's
	 * ports bound at the frontend's connect, be_dp.c). */
	OK("epoll_wait", L), OK("epoll_pwait", L), OK("timerfd_create", L),
	OK("timerfd_settime", L), OK("timerfd_gettime", L), OK("eventfd2", L),
	/* Files opened after set-up, all on the loop: a disk's image when its
	 * frontend connects (vbd_datapath.c open_backing) and its
	 * /sys/dev/block queue limits, /dev/net/tun for a vif's queue
	 * (net/tap.c), the console log at rotation or SIGHUP (conlog.c),
	 * /proc/self/task/N/stat (control.c run_state), libxenstore's
	 * /dev/xen/xenbus fall-back when xenstored's socket is not there
	 * (xs_open on reconnect).  Paths are pointers: by number only. */
	OK("openat", L), OK("open", L),
	/* Console log rotation (conlog.c). */
	OK("rename", L), OK("renameat", L), OK("renameat2", L),
	/* The data path of raw images and block devices (blk_sync.c,
	 * vbd_datapath.c file_discards) and the save stream (save.c). */
	OK("pread64", L), OK("pwrite64", L), OK("preadv", L), OK("pwritev", L), OK("fsync", L), OK("fdatasync", L),
	OK("fallocate", L), OK("ftruncate", L), OK("fcntl", L),
	/* io_uring (blk_uring.c): a ring per vbd queue, made at connect (on
	 * the loop after set-up: hot-plug, reconnect) and restricted to the
	 * engine's operations before it runs (blk_uring_ring_init), since this
	 * filter never sees what a ring does (docs/sandbox.md). */
	OK("io_uring_setup", L), OK("io_uring_register", L),
	/* AF_UNIX only: the xenstore link reconnecting to a restarted
	 * xenstored (xs_link.c), libxenstore's xs_open in the back ends'
	 * reconnect (xenbus/xb_xs.c). */
	OK_IF("socket", L, ARG_EQ(0, AF_UNIX)),
	/* A vif's MAC (net/tap.c set_mac): an AF_INET datagram socket as the
	 * handle for SIOCSIFHWADDR, made when a vif is created, which a
	 * hot-plug does on the loop.  Datagram only. */
	OK_IF2("socket", L, ARG_EQ(0, AF_INET), ARG_MASKED(1, SB_SOCK_TYPE_MASK, SOCK_DGRAM)),
	/* The console and control sockets' clients (console.c, control.c),
	 * the xenstore link's hand-over (sendmsg with the ring's fds), the
	 * control protocol's descriptors (ctl_proto.c recvmsg: a save's fd). */
	OK("connect", L), OK("accept4", L), OK("accept", L), OK("sendmsg", L), OK("recvmsg", L), OK("sendto", L),
	OK("recvfrom", L), OK("setsockopt", L), OK("getsockopt", L), OK("poll", L), OK("ppoll", L),
	OK("getsockname", L), OK("getpeername", L),
	/* libxenstore: xs_fileno()'s pipe, and the reader thread xs_watch
	 * starts (xs.c read_thread), which runs under this filter too. */
	OK("pipe2", L),
	/* Threads, never processes: CLONE_THREAD.  clone3's flags are in a
	 * struct a filter cannot read, so it fails with ENOSYS and glibc
	 * falls back to clone (sysdeps/unix/sysv/linux/clone-internal.c). */
	OK_IF("clone", L, ARG_HAS(0, CLONE_THREAD)),
	FAIL("clone3", L, ENOSYS),
	/* A new thread's own set-up (glibc start_thread). */
	OK("set_robust_list", L), OK("rseq", L), OK("sigaltstack", L),
	OK("sched_getaffinity", L),

	/* --- vCPU threads (vcpu.c, the hypercalls in xen/): KVM_RUN and the exits they
	 * answer only touch guest memory, KVM and eventfds, all listed above
	 * and in sb_ioctls --- */
	/* SCHEDOP_poll and the like wait on a condition variable (futex);
	 * nothing else of their own but the balloon's pages given back
	 * (XENMEM_decrease_reservation, xen/memory.c reservation): a hole
	 * punched in the RAM memfd, that mode only.  Without it a guest's
	 * balloon ended a sandboxed monitor (tests/lab/hcrace found it). */
	OK_IF("fallocate", V, ARG_EQ(1, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)),
};

struct sb_ioctl {
	unsigned long req;
	unsigned roles;
};

static const struct sb_ioctl sb_ioctls[] = {
	/* vcpu.c: the run loop, and the registers logged on a failure. */
	{ KVM_RUN, V | L }, /* L: vcpu_state.c's flush for a vCPU whose thread is gone runs on the asker */
	{ KVM_GET_REGS, V | L },
	/* Hypercalls (vm_kvm.c): a guest virtual address, VCPUOP and
	 * HVMOP attributes (vcpu_info, runstate, timer, upcall vector; on a
	 * vCPU's own thread through vm_vcpu_run_on), shared_info and the grant
	 * frames placed by XENMEM_add_to_physmap, event channel sends. */
	{ KVM_TRANSLATE, V },
	{ KVM_XEN_VCPU_SET_ATTR, V | L },
	/* L: a back end's port bound to its eventfd at connect, unbound at
	 * a hot-unplug (evtchn.c).  Not M: the monitor's stop frees the
	 * queues on the main thread, but with the VM ending (vm->ending) the
	 * unbind leaves KVM's routes to go with it. */
	{ KVM_XEN_HVM_SET_ATTR, V | L },
	{ KVM_SET_USER_MEMORY_REGION, V },
	{ KVM_XEN_HVM_EVTCHN_SEND, V | L }, /* L: evtchn_notify_guest from every back end */
	/* A save (save.c, the records in state/): the loop asks, each vCPU reads its own
	 * state on its thread (vm_vcpu_run_on), or the loop does when the
	 * vCPU's thread has ended; the loop reads the VM's. */
	{ KVM_CHECK_EXTENSION, V | L }, { KVM_GET_MSR_INDEX_LIST, V | L }, { KVM_GET_MSRS, V | L },
	{ KVM_GET_SREGS, V | L }, { KVM_GET_SREGS2, V | L }, { KVM_GET_XSAVE, V | L }, { KVM_GET_XSAVE2, V | L },
	{ KVM_GET_XCRS, V | L }, { KVM_GET_LAPIC, V | L }, { KVM_GET_DEBUGREGS, V | L },
	{ KVM_GET_VCPU_EVENTS, V | L }, { KVM_GET_MP_STATE, V | L }, { KVM_GET_TSC_KHZ, V | L },
	{ KVM_HAS_DEVICE_ATTR, V | L }, { KVM_GET_DEVICE_ATTR, V | L }, { KVM_XEN_VCPU_GET_ATTR, V | L },
	{ KVM_XEN_HVM_GET_ATTR, V | L },
	{ KVM_GET_CLOCK, L }, { KVM_GET_IRQCHIP, L }, { KVM_GET_PIT2, L },
	/* A vif's TAP queues (net/tap.c) opened at the frontend's connect or
	 * at a hot-plug, their offloads as the frontend asks (vif_datapath.c). */
	{ TUNSETIFF, L }, { TUNSETVNETHDRSZ, L }, { SIOCSIFHWADDR, L },
	/* Not M: vif_datapath.c dp_free clears a frontend's offloads for the
	 * next frontend of a TAP that stays; at the monitor's stop (main
	 * thread) the TAP goes, and be_host.c skips it (vm->ending). */
	{ TUNSETOFFLOAD, L },
	/* A block device's geometry at connect (vbd_datapath.c). */
	{ BLKGETSIZE64, L }, { BLKSSZGET, L }, { BLKPBSZGET, L },
	/* stdio's isatty() on a stream it buffers: answered ENOTTY. */
	{ TCGETS, ALL },
};

static const char *const role_names[SANDBOX_NROLES] = {
	[SANDBOX_MAIN] = "main", [SANDBOX_LOOP] = "loop", [SANDBOX_VCPU] = "vcpu",
};

const char *sandbox_role_name(enum sandbox_role role)
{
	return (unsigned)role < SANDBOX_NROLES ? role_names[role] : "?";
}

bool sandbox_role_lists(enum sandbox_role role, const char *name)
{
	if ((unsigned)role >= SANDBOX_NROLES)
		return false;
	for (size_t i = 0; i < sizeof(sb_rules) / sizeof(sb_rules[0]); i++)
		if ((sb_rules[i].roles & (1u << role)) && !sb_rules[i].fail_errno && strcmp(sb_rules[i].name, name) == 0)
			return true;
	return strcmp(name, "ioctl") == 0;
}

static int add_rules(scmp_filter_ctx ctx, unsigned bit)
{
	for (size_t i = 0; i < sizeof(sb_rules) / sizeof(sb_rules[0]); i++) {
		const struct sb_rule *r = &sb_rules[i];
		int nr, rc;

		if (!(r->roles & bit))
			continue;
		nr = seccomp_syscall_resolve_name(r->name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a call of this architecture (open on arm64) */
		rc = seccomp_rule_add_array(ctx, r->fail_errno ? SCMP_ACT_ERRNO((uint32_t)r->fail_errno) : SCMP_ACT_ALLOW,
					    nr, r->n, r->arg);
		if (rc < 0) {
			log_err("sandbox", "%s: %s", r->name, strerror(-rc));
			return rc;
		}
	}
	for (size_t i = 0; i < sizeof(sb_ioctls) / sizeof(sb_ioctls[0]); i++) {
		/* The kernel reads the request as an unsigned int (fs/ioctl.c):
		 * compare the low 32 bits, whatever the caller's sign extension. */
		struct scmp_arg_cmp c = ARG_MASKED(1, 0xffffffffu, sb_ioctls[i].req & 0xffffffffu);
		int rc;

		if (!(sb_ioctls[i].roles & bit))
			continue;
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &c);
		if (rc < 0) {
			log_err("sandbox", "ioctl %#lx: %s", sb_ioctls[i].req, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* What glibc would load later under the filter: pthread_cancel (xs_close
 * of a back end's libxenstore handle, on the loop at a reconnect and on
 * the main thread at stop) dlopens libgcc_s for the cancelled thread's
 * unwind (nptl/pthread_cancel.c, __libc_unwind_link_get), an openat and an
 * executable mapping that no role allows.  Loaded here and kept, glibc's
 * own dlopen finds it in the link map and opens nothing.  Without it the
 * first cancel would end the monitor (test_sandbox.c
 * test_thread_cancel_under_main_and_loop). */
static int preload(void)
{
	if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE)) {
		log_err("sandbox", "cannot load libgcc_s.so.1, which thread cancellation needs: %s", dlerror());
		return -ENOENT;
	}
	return 0;
}

int sandbox_install_mode(enum sandbox_role role, enum sandbox_mode mode)
{
	/* SECCOMP_RET_LOG: the kernel logs the call and runs it
	 * (kernel/seccomp.c, actions_logged has "log" by default). */
	const uint32_t deny = mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx;
	int rc;

	if ((unsigned)role >= SANDBOX_NROLES || (mode != SANDBOX_KILL && mode != SANDBOX_LOG))
		return -EINVAL;
	rc = preload();
	if (rc < 0)
		return rc;
	ctx = seccomp_init(deny);
	if (!ctx)
		return -ENOMEM;
	/* Another ABI's system calls (int 0x80, x32) end the process too,
	 * not only the calling thread (libseccomp's default). */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny);
	if (rc == 0)
		rc = add_rules(ctx, 1u << role);
	/* NO_NEW_PRIVS (libseccomp's default) and this thread only: no TSYNC,
	 * each thread loads its own role. */
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		log_err("sandbox", "cannot install the %s filter: %s", sandbox_role_name(role), strerror(-rc));
	return rc;
}

int sandbox_install(enum sandbox_role role)
{
	return sandbox_install_mode(role, SANDBOX_KILL);
}

static int vcpu_here(struct vm *vm, int vcpu, void *arg)
{
	return sandbox_install_mode(SANDBOX_VCPU, *(const enum sandbox_mode *)arg);
}

static int loop_here(void *arg)
{
	return sandbox_install_mode(SANDBOX_LOOP, *(const enum sandbox_mode *)arg);
}

/* Filters are per thread and inherited by the threads made afterwards, so
 * each thread installs its own, and the caller, which made the others,
 * goes last.  A parked vCPU serves queued work (vm_pause.c), and does not
 * enter the guest while vm->paused holds. */
int sandbox_threads(struct vm *vm, struct evl *loop, enum sandbox_mode mode, char *why, size_t wl)
{
	int rc = 0, i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		rc = vm_vcpu_run_on(vm, i, vcpu_here, &mode, 0);
		if (rc < 0) {
			snprintf(why, wl, "sandbox: cannot install vcpu%d's seccomp filter: %s", i, strerror(-rc));
			return rc;
		}
	}
	rc = evl_sync(loop, loop_here, &mode);
	if (rc < 0) {
		snprintf(why, wl, "sandbox: cannot install the event loop's seccomp filter: %s", strerror(-rc));
		return rc;
	}
	rc = sandbox_install_mode(SANDBOX_MAIN, mode);
	if (rc < 0)
		snprintf(why, wl, "sandbox: cannot install the main thread's seccomp filter: %s", strerror(-rc));
	return rc;
}
