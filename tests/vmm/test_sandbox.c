/* The monitor's seccomp sandbox (vmm/sandbox.c, docs/sandbox.md).
 *
 * Every case runs in a forked child, which installs a role's filter and
 * then calls; the test (the parent) reads how the child ended.  A call the
 * role forbids must end the child by SIGSYS, and only it: the parent goes
 * on.  Each forbidden-call case also runs its child once without the
 * filter and expects it to live, so that a filter that is not installed
 * fails the test.  The real code each role runs after set-up (the event
 * loop with its timers and eventfds, io_uring on a file, the xenstore
 * link's reconnection to a restarted xenstored, the vCPU side's calls
 * onto the loop and its kicks, the main thread's stop path) runs under
 * its role's filter and must not be killed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <cmocka.h>

#include "blk/blk_engine.h"
#include "blk/qsd.h"
#include "domus/ring_proto.h"
#include "evloop.h"
#include "kvm_fake.h"
#include "sandbox.h"
#include "vm.h"
#include "xen/hypercall.h"
#include "xen/xen_abi.h"
#include "xs_link.h"

/* In a child: no cmocka (its jumps belong to the parent); a failed check
 * says where and exits 1, which the parent reports. */
#define CHECK(c)                                                                  \
	do {                                                                      \
		if (!(c)) {                                                       \
			fprintf(stderr, "child: %s:%d: %s\n", __FILE__, __LINE__, #c); \
			_exit(1);                                                 \
		}                                                                 \
	} while (0)

typedef void child_fn(void *arg);

/* Runs fn in a child and returns its wait status.  No core file: SIGSYS
 * dumps one by default. */
static int run_child(child_fn *fn, void *arg)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_sigsys(int status)
{
	if (WIFEXITED(status))
		fail_msg("the child lived (exit status %d): the forbidden call was allowed", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void expect_exit0(int status)
{
	if (WIFSIGNALED(status))
		fail_msg("the child was killed by signal %d%s", WTERMSIG(status),
			 WTERMSIG(status) == SIGSYS ? " (a call its role's filter forbids: run under strace -f to see which)"
						   : "");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- a forbidden call ends the process ---- */

enum forbidden { F_EXECVE, F_PTRACE, F_SOCKET_INET_STREAM, F_SOCKET_UNIX, F_OPENAT, F_FORK, F_EXEC_MAP };

struct forbid_case {
	enum sandbox_role role;
	enum forbidden call;
	bool install; /* false: the control, which must live */
};

static void do_forbidden(enum forbidden call)
{
	static char *const argv[] = { "/bin/true", NULL };
	pid_t p;
	void *m;
	int fd;

	switch (call) {
	case F_EXECVE:
		execve("/bin/true", argv, NULL);
		break;
	case F_PTRACE:
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case F_SOCKET_INET_STREAM:
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0)
			close(fd);
		break;
	case F_SOCKET_UNIX:
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0)
			close(fd);
		break;
	case F_OPENAT:
		fd = open("/etc/hostname", O_RDONLY);
		if (fd >= 0)
			close(fd);
		break;
	case F_FORK:
		p = fork();
		if (p == 0)
			_exit(0);
		if (p > 0)
			waitpid(p, NULL, 0);
		break;
	case F_EXEC_MAP:
		m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED)
			munmap(m, 4096);
		break;
	}
}

static void forbid_child(void *arg)
{
	const struct forbid_case *c = arg;
	char buf[8];
	int p[2];

	CHECK(pipe(p) == 0);
	if (c->install)
		CHECK(sandbox_install(c->role) == 0);
	/* Allowed calls go through. */
	CHECK(write(p[1], "ok", 2) == 2);
	CHECK(read(p[0], buf, sizeof(buf)) == 2 && memcmp(buf, "ok", 2) == 0);
	CHECK(getpid() > 0);
	do_forbidden(c->call);
	_exit(0);
}

static void check_forbidden(enum sandbox_role role, enum forbidden call)
{
	struct forbid_case with = { role, call, true }, without = { role, call, false };

	expect_sigsys(run_child(forbid_child, &with));
	expect_exit0(run_child(forbid_child, &without));
}

static void test_execve_kills_every_role(void **state)
{
	for (int r = 0; r < SANDBOX_NROLES; r++)
		check_forbidden((enum sandbox_role)r, F_EXECVE);
}

static void test_ptrace_kills_every_role(void **state)
{
	for (int r = 0; r < SANDBOX_NROLES; r++)
		check_forbidden((enum sandbox_role)r, F_PTRACE);
}

/* The loop may open AF_UNIX sockets (xenstored); a TCP socket never. */
static void test_inet_stream_socket_kills_every_role(void **state)
{
	for (int r = 0; r < SANDBOX_NROLES; r++)
		check_forbidden((enum sandbox_role)r, F_SOCKET_INET_STREAM);
}

/* What only the loop needs is not the others'. */
static void test_loop_calls_kill_vcpu_and_main(void **state)
{
	check_forbidden(SANDBOX_VCPU, F_SOCKET_UNIX);
	check_forbidden(SANDBOX_MAIN, F_SOCKET_UNIX);
	check_forbidden(SANDBOX_VCPU, F_OPENAT);
	check_forbidden(SANDBOX_MAIN, F_OPENAT);
}

/* No process is created after set-up (the loop's threads are threads), and
 * no executable memory is mapped. */
static void test_fork_and_exec_map_kill(void **state)
{
	for (int r = 0; r < SANDBOX_NROLES; r++) {
		check_forbidden((enum sandbox_role)r, F_FORK);
		check_forbidden((enum sandbox_role)r, F_EXEC_MAP);
	}
}

/* A KVM request a role does not use after set-up: creating a vCPU. */
static void ioctl_child(void *arg)
{
	const bool *install = arg;
	int fd = open("/dev/null", O_RDONLY);

	CHECK(fd >= 0);
	if (*install)
		CHECK(sandbox_install(SANDBOX_VCPU) == 0);
	(void)!ioctl(fd, KVM_CREATE_VCPU, 1); /* ENOTTY on /dev/null */
	(void)!ioctl(fd, TCGETS, NULL); /* allowed: ENOTTY */
	_exit(0);
}

static void test_ioctl_by_request(void **state)
{
	bool with = true, without = false;

	expect_sigsys(run_child(ioctl_child, &with));
	expect_exit0(run_child(ioctl_child, &without));
}

/* ---- filters are per thread, inherited by the threads made after ---- */

struct inherit {
	bool install;
	int pipe[2];
};

static void *inherit_thread(void *arg)
{
	struct inherit *in = arg;

	CHECK(write(in->pipe[1], "t", 1) == 1); /* allowed: it runs */
	do_forbidden(F_EXECVE);
	return NULL;
}

static void inherit_child(void *arg)
{
	struct inherit *in = arg;
	pthread_t t;
	char c;

	CHECK(pipe(in->pipe) == 0);
	if (in->install)
		CHECK(sandbox_install(SANDBOX_LOOP) == 0);
	/* The loop role may create threads (libxenstore's reader): clone3 is
	 * refused with ENOSYS and glibc falls back to clone(CLONE_THREAD). */
	CHECK(pthread_create(&t, NULL, inherit_thread, in) == 0);
	CHECK(read(in->pipe[0], &c, 1) == 1 && c == 't');
	pthread_join(t, NULL);
	_exit(0);
}

static void test_thread_made_after_inherits(void **state)
{
	struct inherit with = { .install = true }, without = { .install = false };

	expect_sigsys(run_child(inherit_child, &with));
	expect_exit0(run_child(inherit_child, &without));
}

/* A filter installed by one thread binds that thread only: the main
 * thread still opens files after the loop thread installed its role... */
static int install_loop_here(void *arg)
{
	return sandbox_install(SANDBOX_LOOP);
}

static int forbidden_on_loop(void *arg)
{
	do_forbidden(F_EXECVE);
	return 0;
}

static void per_thread_child(void *arg)
{
	struct evl *loop;
	int fd;

	CHECK(evl_create(&loop, 16) == 0);
	CHECK(evl_start(loop) == 0);
	CHECK(evl_sync(loop, install_loop_here, NULL) == 0);
	fd = open("/etc/hostname", O_RDONLY);
	if (fd >= 0)
		close(fd);
	/* ...and even forks: it has no filter. */
	do_forbidden(F_FORK);
	/* ...but the loop thread is bound: */
	if (arg)
		evl_sync(loop, forbidden_on_loop, NULL);
	evl_stop(loop);
	evl_destroy(loop);
	_exit(0);
}

static void test_filter_is_per_thread(void **state)
{
	int dummy;

	expect_exit0(run_child(per_thread_child, NULL));
	expect_sigsys(run_child(per_thread_child, &dummy));
}

/* libxenstore's xs_close cancels its reader thread (xs.c
 * xs_daemon_close), on the main thread at stop and on the loop at a back
 * end's reconnect: glibc's pthread_cancel loads libgcc_s for the unwind
 * (nptl/pthread_cancel.c), which the filters would refuse (openat, an
 * executable mapping) had sandbox_install() not loaded it before. */
static void *blocked_reader(void *arg)
{
	int *p = arg;
	char c;

	(void)!read(p[0], &c, 1); /* a cancellation point */
	return NULL;
}

static void cancel_child(void *arg)
{
	const enum sandbox_role *role = arg;
	pthread_t t;
	void *res;
	int p[2];

	CHECK(pipe(p) == 0);
	CHECK(pthread_create(&t, NULL, blocked_reader, p) == 0);
	CHECK(sandbox_install(*role) == 0);
	CHECK(pthread_cancel(t) == 0);
	CHECK(pthread_join(t, &res) == 0 && res == PTHREAD_CANCELED);
	_exit(0);
}

static void test_thread_cancel_under_main_and_loop(void **state)
{
	enum sandbox_role main_role = SANDBOX_MAIN, loop_role = SANDBOX_LOOP;

	expect_exit0(run_child(cancel_child, &main_role));
	expect_exit0(run_child(cancel_child, &loop_role));
}

/* ---- each role's real code runs under its filter ---- */

/* A fake xenstored taking the link's hand-overs (as test_xs_link.c's). */
struct xsd {
	char dir[64], path[108];
	int lsock;
};

static void xsd_listen(struct xsd *x)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	x->lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CHECK(x->lsock >= 0);
	strcpy(sa.sun_path, x->path);
	unlink(x->path);
	CHECK(bind(x->lsock, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(x->lsock, 8) == 0);
}

/* Takes one hand-over and answers it; the connection, or -1. */
static int xsd_take(struct xsd *x, int ms, uint32_t *flags)
{
	struct pollfd p = { .fd = x->lsock, .events = POLLIN };
	int fds[XSD_RING_NFDS];
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct xsd_ring_attach a;
	struct xsd_ring_reply r = { .status = 0 };
	struct iovec iov = { &a, sizeof(a) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int conn;

	if (poll(&p, 1, ms) <= 0)
		return -1;
	conn = accept4(x->lsock, NULL, NULL, SOCK_CLOEXEC);
	CHECK(conn >= 0);
	p = (struct pollfd){ .fd = conn, .events = POLLIN };
	CHECK(poll(&p, 1, 5000) == 1);
	CHECK(recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) == sizeof(a));
	cm = CMSG_FIRSTHDR(&mh);
	CHECK(cm && cm->cmsg_len == CMSG_LEN(sizeof(fds)));
	memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	for (int i = 0; i < XSD_RING_NFDS; i++)
		close(fds[i]);
	*flags = a.flags;
	CHECK(send(conn, &r, sizeof(r), MSG_NOSIGNAL) == sizeof(r));
	return conn;
}

struct daemon {
	struct xsd *x;
	int conn;
	uint32_t flags;
};

static void *first_daemon(void *arg)
{
	struct daemon *d = arg;

	d->conn = xsd_take(d->x, 5000, &d->flags);
	return NULL;
}

struct loop_work {
	struct evl *loop;
	struct xs_link *link;
	char dir[64];
	int efd;
	struct evl_src *timer, *efd_src;
	unsigned timer_fired, fd_fired, calls;
	int io_rc;
	enum xs_link_state state;
	unsigned reattached;
};

static void on_timer(void *ctx)
{
	((struct loop_work *)ctx)->timer_fired++;
}

static void on_efd(void *ctx, int fd, uint32_t events)
{
	struct loop_work *w = ctx;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == sizeof(v))
		w->fd_fired++;
}

static void on_call(void *arg)
{
	((struct loop_work *)arg)->calls++;
}

/* A timer and an eventfd registered at run time, as a back end's port
 * and the xenstore link's retry are. */
static int loop_register(void *arg)
{
	struct loop_work *w = arg;
	int rc;

	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		return -errno;
	rc = evl_add_timer(w->loop, 5, true, on_timer, w, &w->timer);
	if (rc == 0)
		rc = evl_add_fd(w->loop, w->efd, EPOLLIN, on_efd, w, &w->efd_src);
	return rc;
}

static void io_done(void *ctx, struct blk_io *io, int res)
{
	struct loop_work *w = ctx;

	if (res < 0)
		w->io_rc = res;
}

static int uring_run(struct blk_engine *e, struct blk_io *io, struct loop_work *w)
{
	int rc = e->ops->submit(e->eng, io);
	struct pollfd p = { .fd = e->ops->fd(e->eng), .events = POLLIN };

	if (rc == 0)
		rc = e->ops->commit(e->eng);
	if (rc < 0)
		return rc;
	for (int got = 0; got == 0;) {
		if (poll(&p, 1, 5000) != 1)
			return -ETIMEDOUT;
		got = e->ops->reap(e->eng, io_done, w);
		if (got < 0)
			return got;
	}
	return w->io_rc;
}

/* A disk's image opened and served through io_uring, as a frontend's
 * connect does on the loop (vbd_datapath.c, blk_uring.c). */
static int loop_uring(void *arg)
{
	struct loop_work *w = arg;
	char path[96], out[4096], in[4096];
	struct iovec ov = { out, sizeof(out) }, iv = { in, sizeof(in) };
	struct blk_io wr = { .op = BLK_IO_WRITE, .offset = 8192, .len = sizeof(out), .iov = &ov, .iovcnt = 1 };
	struct blk_io rd = { .op = BLK_IO_READ, .offset = 8192, .len = sizeof(in), .iov = &iv, .iovcnt = 1 };
	struct blk_io fl = { .op = BLK_IO_FLUSH };
	struct blk_backend be = { .sector_size = 512 };
	struct blk_engine e;
	int rc;

	snprintf(path, sizeof(path), "%s/disk.img", w->dir);
	be.fd = open(path, O_RDWR | O_CLOEXEC);
	if (be.fd < 0)
		return -errno;
	be.sectors = 1 << 11;
	memset(out, 0x5a, sizeof(out));
	rc = blk_uring_create(&be, 8, &e);
	if (rc == 0) {
		rc = uring_run(&e, &wr, w);
		if (rc == 0)
			rc = uring_run(&e, &rd, w);
		if (rc == 0)
			rc = uring_run(&e, &fl, w);
		if (rc == 0 && memcmp(in, out, sizeof(in)) != 0)
			rc = -EIO;
		e.ops->destroy(e.eng);
	}
	close(be.fd);
	return rc;
}

static int loop_peek(void *arg)
{
	struct loop_work *w = arg;

	w->state = w->link->state;
	w->reattached = w->link->reattached;
	return 0;
}

static void wait_link(struct loop_work *w, enum xs_link_state want, unsigned reattached)
{
	for (int i = 0; i < 500; i++) {
		CHECK(evl_sync(w->loop, loop_peek, w) == 0);
		if (w->state == want && w->reattached >= reattached)
			return;
		usleep(10000);
	}
	CHECK(!"the xenstore link did not reach its state");
}

/* The loop thread's role over the code it runs after set-up, then the
 * main thread's role over the monitor's stop path. */
static void loop_role_child(void *arg)
{
	const char *dir = arg;
	struct loop_work w = { .efd = -1 };
	struct xsd x = { .lsock = -1 };
	struct daemon d0 = { .x = &x };
	struct kvm_fake *f;
	struct xs_link l = XS_LINK_INIT;
	char path[96];
	uint64_t one = 1;
	pthread_t t;
	uint32_t flags;
	int fd, conn;

	/* Set-up, unfiltered as in the monitor: the VM, the loop, the link's
	 * first hand-over, a disk image. */
	snprintf(w.dir, sizeof(w.dir), "%s", dir);
	snprintf(x.path, sizeof(x.path), "%s/guest", w.dir);
	snprintf(path, sizeof(path), "%s/disk.img", w.dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	close(fd);
	CHECK(kvm_fake_create(&f, 1) == 0);
	CHECK(evl_create(&w.loop, 16) == 0);
	CHECK(evl_start(w.loop) == 0);
	xsd_listen(&x);
	CHECK(pthread_create(&t, NULL, first_daemon, &d0) == 0);
	CHECK(xs_link_attach(&l, &f->vm, w.loop, x.path) == 0);
	pthread_join(t, NULL);
	CHECK(d0.conn >= 0 && d0.flags == 0);
	l.retry_ms = 20;
	CHECK(xs_link_start(&l) == 0);
	w.link = &l;

	/* The loop installs its role on itself, as the monitor's sandbox
	 * part asks it to. */
	CHECK(evl_sync(w.loop, install_loop_here, NULL) == 0);

	CHECK(evl_sync(w.loop, loop_register, &w) == 0);
	CHECK(write(w.efd, &one, sizeof(one)) == sizeof(one));
	CHECK(evl_call(w.loop, on_call, &w) == 0);
	CHECK(evl_sync(w.loop, loop_uring, &w) == 0);

	/* xenstored restarts: the link reconnects from the loop (socket,
	 * connect, sendmsg with the ring's descriptors, its answer). */
	close(x.lsock);
	close(d0.conn);
	wait_link(&w, XS_LINK_DOWN, 0);
	xsd_listen(&x);
	conn = xsd_take(&x, 5000, &flags);
	CHECK(conn >= 0 && flags == XSD_RING_RECONNECT);
	wait_link(&w, XS_LINK_UP, 1);

	/* The main thread's role, then its stop path (monitor.c's quiesce and
	 * stop): the link, the loop, the VM. */
	CHECK(sandbox_install(SANDBOX_MAIN) == 0);
	usleep(50000);
	CHECK(evl_sync(w.loop, loop_peek, &w) == 0);
	xs_link_quiesce(&l);
	xs_link_stop(&l);
	evl_stop(w.loop);
	/* Sources deleted after the loop stopped, on this thread (the
	 * signals part's quiesce, a device's stop). */
	evl_del(w.loop, w.timer);
	evl_del(w.loop, w.efd_src);
	evl_destroy(w.loop);
	CHECK(w.timer_fired > 0 && w.fd_fired == 1 && w.calls == 1);
	close(w.efd);
	close(conn);
	close(x.lsock);
	kvm_fake_destroy(f);
	_exit(0);
}

static void test_loop_role_runs_the_loop_code(void **state)
{
	char dir[64] = "/tmp/sandbox.XXXXXX", path[96];
	int status;

	assert_non_null(mkdtemp(dir));
	status = run_child(loop_role_child, dir);
	/* What the child made, also when it was killed. */
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/guest", dir);
	unlink(path);
	rmdir(dir);
	expect_exit0(status);
}

/* A vCPU thread's calls outside KVM: work queued on the loop
 * (evl_call: an eventfd write), the balloon's decrease_reservation (a hole
 * punched in the RAM memfd, vmm/xen/memory.c: the hypercall racer of
 * tests/lab/hcrace made a sandboxed monitor die of SIGSYS there), an exit
 * requested (the exit eventfd, the other vCPUs kicked by SIGUSR1), a kick
 * received and returned from. */
struct vcpu_case {
	struct evl *loop;
	struct kvm_fake *f;
	unsigned calls;
	int rc;
	int64_t balloon; /* decrease_reservation's result: extents done */
};

/* One page (frame 5) given back as Linux's balloon gives it: the
 * reservation at guest address 0x1000, its frame list at 0x2000 (virtual
 * memory is identity-mapped in the fake). */
static void balloon_setup(struct kvm_fake *f)
{
	struct xen_memory_reservation *r = gmem_ptr(&f->vm.mem, 0x1000, sizeof(*r));
	xen_pfn_t *list = gmem_ptr(&f->vm.mem, 0x2000, sizeof(*list));

	CHECK(r && list);
	*r = (struct xen_memory_reservation){ .nr_extents = 1, .domid = DOMID_SELF };
	set_xen_guest_handle(r->extent_start, (xen_pfn_t *)0x2000);
	*list = 5;
}

static int64_t balloon_decrease(struct kvm_fake *f)
{
	const uint64_t a[6] = { XENMEM_decrease_reservation, 0x1000 };

	return hypercall_dispatch(&f->vm, 0, __HYPERVISOR_memory_op, a, 0);
}

static void on_vcpu_call(void *arg)
{
	((struct vcpu_case *)arg)->calls++;
}

static void kick(int sig)
{
	(void)sig;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_case *w = arg;
	struct timespec ts = { 0, 1000000 };

	w->rc = sandbox_install(SANDBOX_VCPU);
	if (w->rc == 0) {
		for (int i = 0; i < 100; i++)
			w->rc |= evl_call(w->loop, on_vcpu_call, w);
		w->balloon = balloon_decrease(w->f);
		pthread_kill(pthread_self(), SIGUSR1);
		nanosleep(&ts, NULL);
		vm_request_exit(&w->f->vm, VM_POWEROFF);
	}
	return NULL;
}

static void vcpu_role_child(void *arg)
{
	struct sigaction sa = { .sa_handler = kick };
	struct vcpu_case w = { 0 };
	pthread_t t;
	uint64_t v;

	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	CHECK(kvm_fake_create(&w.f, 1) == 0);
	CHECK(evl_create(&w.loop, 256) == 0);
	CHECK(evl_start(w.loop) == 0);
	balloon_setup(w.f);
	CHECK(pthread_create(&t, NULL, vcpu_thread, &w) == 0);
	pthread_join(t, NULL);
	CHECK(w.rc == 0);
	CHECK(w.balloon == 1);
	CHECK(read(w.f->vm.exit_eventfd, &v, sizeof(v)) == sizeof(v));
	evl_stop(w.loop);
	CHECK(w.calls == 100);
	evl_destroy(w.loop);
	kvm_fake_destroy(w.f);
	_exit(0);
}

static void test_vcpu_role_runs_its_calls(void **state)
{
	expect_exit0(run_child(vcpu_role_child, NULL));
}

/* The main thread's stop path for a qcow2 disk (monitor.c
 * disks_stores_stop): qemu-storage-daemon, started at set-up, is sent
 * SIGTERM, reaped and its FUSE export detached and removed, under main. */
static void qsd_child(void *arg)
{
	const char *dir = arg;
	char img[96], why[256];
	struct qsd_cfg c = { .image = img, .format = "qcow2", .dir = dir, .name = "qsd-1" };
	struct qsd *q;

	snprintf(img, sizeof(img), "%s/disk.qcow2", dir);
	if (qsd_start(&c, &q, why, sizeof(why)) < 0) {
		fprintf(stderr, "child: qsd_start: %s\n", why);
		_exit(1);
	}
	CHECK(sandbox_install(SANDBOX_MAIN) == 0);
	qsd_stop(q);
	_exit(0);
}

static void test_main_role_stops_qsd(void **state)
{
	char dir[64] = "/tmp/sandbox.XXXXXX", cmd[256];
	int status;

	if (system("command -v qemu-storage-daemon >/dev/null && command -v qemu-img >/dev/null") != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 %s/disk.qcow2 16M", dir);
	assert_int_equal(system(cmd), 0);
	status = run_child(qsd_child, dir);
	snprintf(cmd, sizeof(cmd), "%s/qsd-1", dir);
	qsd_remove_stale(cmd); /* a killed child's */
	snprintf(cmd, sizeof(cmd), "%s/disk.qcow2", dir);
	unlink(cmd);
	assert_int_equal(rmdir(dir), 0); /* the export went with the stop */
	expect_exit0(status);
}

/* ---- the monitor's order: sandbox_threads() over parked vCPU threads ---- */

struct threads_case {
	bool install;   /* false: the control, no filter */
	bool forbidden; /* vcpu1's first "guest entry" makes a forbidden call */
};

struct fake_vcpu {
	struct vm *vm;
	struct evl *loop;
	int id;
	bool forbidden;
	_Atomic int ran, escaped;
};

static void on_fake_exit(void *arg)
{
	(void)arg;
}

/* vcpu.c's loop, with a stand-in for KVM_RUN: what a vCPU thread does
 * between its exits (queue work on the loop, sleep), and, for the
 * forbidden case, a call no role allows. */
static void *fake_vcpu_main(void *arg)
{
	struct fake_vcpu *f = arg;
	struct vm *vm = f->vm;
	struct timespec ts = { 0, 1000000 };

	vm->vcpus[f->id].tid = (int)gettid();
	while (atomic_load(&vm->exit_reason) == VM_RUNNING) {
		vcpu_process_work(vm, f->id);
		vm_wait_unpaused(vm, f->id);
		vcpu_process_work(vm, f->id);
		if (atomic_load(&vm->exit_reason) != VM_RUNNING)
			break;
		atomic_fetch_add(&f->ran, 1);
		if (f->forbidden) {
			do_forbidden(F_SOCKET_INET_STREAM);
			atomic_store(&f->escaped, 1); /* still here: no filter */
			vm_request_exit(vm, VM_ERROR);
			break;
		}
		(void)evl_call(f->loop, on_fake_exit, NULL);
		nanosleep(&ts, NULL);
		if (f->id == 0 && atomic_load(&f->ran) == 50)
			vm_request_exit(vm, VM_POWEROFF);
	}
	vcpu_work_done(vm, f->id);
	return NULL;
}

static void threads_child(void *arg)
{
	const struct threads_case *c = arg;
	struct sigaction sa = { .sa_handler = kick };
	struct fake_vcpu fv[2];
	struct kvm_fake *f;
	struct evl *loop;
	char why[256];
	uint64_t v;

	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	CHECK(kvm_fake_create(&f, 2) == 0);
	CHECK(evl_create(&loop, 64) == 0);
	CHECK(evl_start(loop) == 0);
	/* vcpus_init with --sandbox: the threads start parked. */
	f->vm.paused = true;
	for (int i = 0; i < 2; i++) {
		fv[i] = (struct fake_vcpu){ .vm = &f->vm, .loop = loop, .id = i, .forbidden = c->forbidden && i == 1 };
		CHECK(pthread_create(&f->vm.vcpus[i].thread, NULL, fake_vcpu_main, &fv[i]) == 0);
		f->vm.vcpus[i].started = true;
	}
	if (c->install && sandbox_threads(&f->vm, loop, SANDBOX_KILL, why, sizeof(why)) < 0) {
		fprintf(stderr, "child: %s\n", why);
		_exit(1);
	}
	vm_pause(&f->vm, false);
	/* monitor_wait(), then the quiesce of the vcpus and the loop, under
	 * the main role. */
	while (read(f->vm.exit_eventfd, &v, sizeof(v)) != sizeof(v))
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	vm_request_exit(&f->vm, VM_ERROR);
	for (int i = 0; i < 2; i++)
		pthread_join(f->vm.vcpus[i].thread, NULL);
	evl_stop(loop);
	evl_destroy(loop);
	if (atomic_load(&fv[1].escaped))
		_exit(1); /* the control's expected end */
	CHECK(atomic_load(&fv[0].ran) >= 50 && atomic_load(&fv[1].ran) > 0);
	kvm_fake_destroy(f);
	_exit(0);
}

/* Each vCPU thread has its filter before its first guest entry: the
 * forbidden call on vcpu1's first one ends the process, and without
 * sandbox_threads() it escapes. */
static void test_vcpus_filtered_before_they_run(void **state)
{
	struct threads_case with = { .install = true, .forbidden = true };
	struct threads_case without = { .install = false, .forbidden = true };
	int status = run_child(threads_child, &without);

	expect_sigsys(run_child(threads_child, &with));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1); /* escaped */
}

/* The whole order over the fake domain: vCPUs run, queue work on the
 * loop, the domain ends, the main thread joins them and stops the loop;
 * nothing is killed. */
static void test_sandbox_threads_runs_a_domain(void **state)
{
	struct threads_case c = { .install = true, .forbidden = false };

	expect_exit0(run_child(threads_child, &c));
}

/* SANDBOX_LOG: the same lists, a call outside them logged and run. */
static void log_child(void *arg)
{
	int fd;

	CHECK(sandbox_install_mode(SANDBOX_VCPU, SANDBOX_LOG) == 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	close(fd);
	_exit(0);
}

static void test_log_mode_runs_the_call(void **state)
{
	expect_exit0(run_child(log_child, NULL));
	assert_int_equal(sandbox_install_mode(SANDBOX_VCPU, (enum sandbox_mode)7), -EINVAL);
}

static void test_table(void **state)
{
	assert_string_equal(sandbox_role_name(SANDBOX_LOOP), "loop");
	assert_true(sandbox_role_lists(SANDBOX_LOOP, "io_uring_enter"));
	assert_false(sandbox_role_lists(SANDBOX_VCPU, "io_uring_enter"));
	assert_false(sandbox_role_lists(SANDBOX_LOOP, "clone3")); /* refused with ENOSYS */
	for (int r = 0; r < SANDBOX_NROLES; r++) {
		assert_false(sandbox_role_lists((enum sandbox_role)r, "execve"));
		assert_false(sandbox_role_lists((enum sandbox_role)r, "ptrace"));
		assert_false(sandbox_role_lists((enum sandbox_role)r, "seccomp"));
	}
	assert_int_equal(sandbox_install(SANDBOX_NROLES), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_execve_kills_every_role),
		cmocka_unit_test(test_ptrace_kills_every_role),
		cmocka_unit_test(test_inet_stream_socket_kills_every_role),
		cmocka_unit_test(test_loop_calls_kill_vcpu_and_main),
		cmocka_unit_test(test_fork_and_exec_map_kill),
		cmocka_unit_test(test_ioctl_by_request),
		cmocka_unit_test(test_thread_made_after_inherits),
		cmocka_unit_test(test_filter_is_per_thread),
		cmocka_unit_test(test_thread_cancel_under_main_and_loop),
		cmocka_unit_test(test_loop_role_runs_the_loop_code),
		cmocka_unit_test(test_vcpu_role_runs_its_calls),
		cmocka_unit_test(test_main_role_stops_qsd),
		cmocka_unit_test(test_log_mode_runs_the_call),
		cmocka_unit_test(test_vcpus_filtered_before_they_run),
		cmocka_unit_test(test_sandbox_threads_runs_a_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
