/* The control socket (see control.h): the requests bound to this VM. */
#include "control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_srv.h"
#include "vm.h"
#include "xen/xen_abi.h"

static uint64_t vcpu_cpu_ns(struct vm *vm)
{
	uint64_t total = 0;

	for (int i = 0; i < vm->nr_vcpus; i++) {
		clockid_t cid;
		struct timespec ts;

		if (vm->vcpus[i].started && pthread_getcpuclockid(vm->vcpus[i].thread, &cid) == 0 &&
		    clock_gettime(cid, &ts) == 0)
			total += (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	}
	return total;
}

/* 'r' when a vCPU thread is on a CPU right now, else 'b' (halted in KVM). */
static char run_state(struct vm *vm)
{
	char path[64], buf[256], *p;
	FILE *f;

	if (vm->paused)
		return 'p';
	for (int i = 0; i < vm->nr_vcpus; i++) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", vm->vcpus[i].tid);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		p = p ? strrchr(buf, ')') : NULL;
		if (p && p[1] == ' ' && p[2] == 'R')
			return 'r';
	}
	return 'b';
}

static int op_info(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	struct control *c = ctx;
	struct vm *vm = c->vm;
	struct ctl_info *i = &rep->u.info;

	snprintf(i->name, sizeof(i->name), "%s", vm->name);
	snprintf(i->uuid, sizeof(i->uuid), "%s", c->uuid ? c->uuid : "-");
	i->domid = vm->domid;
	i->vcpus = (uint32_t)vm->nr_vcpus;
	i->mem_kb = i->maxmem_kb = vm->mem.ram_size >> 10;
	i->cpu_ns = vcpu_cpu_ns(vm);
	i->start = c->start;
	i->first_entry_ns = atomic_load(&vm->first_entry_ns);
	for (int n = 0; n < vm->nr_vcpus; n++) {
		i->hypercalls += vm->vcpus[n].hypercalls;
		i->io_exits += vm->vcpus[n].io_exits;
		i->mmio_exits += vm->vcpus[n].mmio_exits;
	}
	i->store_port = (uint32_t)vm->hvm_params[HVM_PARAM_STORE_EVTCHN];
	i->console_port = (uint32_t)vm->hvm_params[HVM_PARAM_CONSOLE_EVTCHN];
	i->state = (uint8_t)run_state(vm);
	rep->hdr.len = sizeof(*i);
	return 0;
}

static int op_pause(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	vm_pause(((struct control *)ctx)->vm, true);
	return 0;
}

static int op_unpause(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	vm_pause(((struct control *)ctx)->vm, false);
	return 0;
}

/* Answered before the monitor exits: main() stops this thread only after
 * the vCPUs have gone, and the reply is sent by then. */
static int op_destroy(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	vm_request_exit(((struct control *)ctx)->vm, VM_DESTROYED);
	return 0;
}

static control_op_fn *const vm_op_fns[CTL_TYPE_END] = {
	[CTL_INFO] = op_info,
	[CTL_PAUSE] = op_pause,
	[CTL_UNPAUSE] = op_unpause,
	[CTL_DESTROY] = op_destroy,
};
static const struct control_ops vm_ops = { vm_op_fns, CTL_TYPE_END };

static void *control_main(void *arg)
{
	struct control *c = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = c->listen_fd, .events = POLLIN }, { .fd = c->w.stop_fd, .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		/* A client gets 2 s to ask; it cannot hold the domain's control. */
		control_serve(fd, &vm_ops, c, c->w.stop_fd, 2000);
		close(fd);
	}
	return NULL;
}

int control_init(struct control *c, struct vm *vm, const char *path, const char *uuid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	*c = (struct control){ .vm = vm, .listen_fd = -1, .w = WORKER_INIT, .uuid = uuid, .start = time(NULL) };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (worker_init(&c->w) < 0 || c->listen_fd < 0)
		return -errno;
	unlink(path);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(c->listen_fd, 8) < 0)
		return -errno;
	return 0;
}

int control_start(struct control *c)
{
	return worker_start(&c->w, control_main, c);
}

void control_stop(struct control *c)
{
	int *const fds[] = { &c->listen_fd };

	worker_stop(&c->w);
	close_fds(fds, 1);
}
