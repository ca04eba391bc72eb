/* The control socket (see control.h): the requests bound to this VM. */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_srv.h"
#include "evloop.h"
#include "hotplug.h"
#include "shinfo.h"
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
	/* However long xl pause held it, the guest's clock went on: it says so
	 * to the guest, as QEMU's kvmclock does on every resume. */
	shinfo_clock_stopped(((struct control *)ctx)->vm);
	vm_pause(((struct control *)ctx)->vm, false);
	return 0;
}

/* Answered before the monitor exits: the reply is sent inside this
 * request's handler on the loop, which the monitor stops only after the
 * vCPUs have gone. */
static int op_destroy(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	vm_request_exit(((struct control *)ctx)->vm, VM_DESTROYED);
	return 0;
}

/* The domain is left as it was (running or paused); xl destroys it after a
 * save that is not a checkpoint. */
static int op_save(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	struct control *c = ctx;

	if (!c->save) {
		snprintf(why, wl, "save: not supported by this monitor");
		return -ENOSYS;
	}
	return c->save(c->save_ctx, req->fds[0], why, wl);
}

static int op_device_add(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	struct control *c = ctx;

	if (!c->hotplug) {
		snprintf(why, wl, "device_add: not supported by this monitor");
		return -ENOSYS;
	}
	return hotplug_op_add(c->hotplug, req, rep, why, wl);
}

static int op_device_remove(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	struct control *c = ctx;

	if (!c->hotplug) {
		snprintf(why, wl, "device_remove: not supported by this monitor");
		return -ENOSYS;
	}
	return hotplug_op_remove(c->hotplug, req, rep, why, wl);
}

static control_op_fn *const vm_op_fns[CTL_TYPE_END] = {
	[CTL_INFO] = op_info,
	[CTL_PAUSE] = op_pause,
	[CTL_UNPAUSE] = op_unpause,
	[CTL_DESTROY] = op_destroy,
	[CTL_SAVE] = op_save,
	[CTL_DEVICE_ADD] = op_device_add,
	[CTL_DEVICE_REMOVE] = op_device_remove,
};
static const struct control_ops vm_ops = { vm_op_fns, CTL_TYPE_END };

struct control_conn {
	struct control *c;
	int fd, slot;
	struct evl_src *src, *idle;
};

static int listen_again(struct control *c);

static void conn_close(struct control_conn *k)
{
	struct control *c = k->c;

	evl_del(c->loop, k->src);
	evl_del(c->loop, k->idle);
	close(k->fd);
	c->conns[k->slot] = NULL;
	free(k);
	if (!c->quiesced)
		listen_again(c);
}

static void on_idle(void *ctx)
{
	conn_close(ctx);
}

static void on_request(void *ctx, int fd, uint32_t events)
{
	struct control_conn *k = ctx;

	if (control_handle(fd, &vm_ops, k->c) < 0)
		conn_close(k);
	else
		evl_timer_set(k->c->loop, k->idle, CONTROL_IDLE_MS, false);
}

static void on_accept(void *ctx, int lfd, uint32_t events)
{
	struct control *c = ctx;
	struct control_conn *k = NULL;
	/* A reply the client does not read cannot hold the loop for long. */
	struct timeval tv = { .tv_sec = 1 };
	int fd, slot = 0;

	while (slot < CONTROL_MAX_CONNS && c->conns[slot])
		slot++;
	if (slot == CONTROL_MAX_CONNS) {
		/* Full: the listener waits until a connection ends. */
		evl_del(c->loop, c->listen_src);
		c->listen_src = NULL;
		return;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	k = calloc(1, sizeof(*k));
	if (!k) {
		close(fd);
		return;
	}
	*k = (struct control_conn){ .c = c, .fd = fd, .slot = slot };
	c->conns[slot] = k;
	if (evl_add_timer(c->loop, CONTROL_IDLE_MS, false, on_idle, k, &k->idle) < 0 ||
	    evl_add_fd(c->loop, fd, EPOLLIN, on_request, k, &k->src) < 0)
		conn_close(k);
}

int control_init(struct control *c, struct vm *vm, struct evl *loop, const char *path, const char *uuid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	*c = (struct control){ .vm = vm, .loop = loop, .listen_fd = -1, .uuid = uuid, .start = time(NULL) };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return -errno;
	unlink(path);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(c->listen_fd, 8) < 0)
		return -errno;
	return 0;
}

static int listen_again(struct control *c)
{
	if (c->listen_src || c->listen_fd < 0)
		return 0;
	return evl_add_fd(c->loop, c->listen_fd, EPOLLIN, on_accept, c, &c->listen_src);
}

int control_start(struct control *c)
{
	return listen_again(c);
}

static int quiesce_here(void *arg)
{
	struct control *c = arg;

	c->quiesced = true;
	evl_del(c->loop, c->listen_src);
	c->listen_src = NULL;
	for (int i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i])
			conn_close(c->conns[i]);
	return 0;
}

void control_quiesce(struct control *c)
{
	if (c->loop)
		evl_sync(c->loop, quiesce_here, c);
}

void control_stop(struct control *c)
{
	control_quiesce(c);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	c->listen_fd = -1;
}
