/* The control socket (see control.h). */
#include "control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "domus/log.h"
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

static void handle(struct control *c, int fd)
{
	struct vm *vm = c->vm;
	char req[CONTROL_MSG_MAX + 1], rep[CONTROL_MSG_MAX];
	ssize_t n = recv(fd, req, CONTROL_MSG_MAX, 0);

	if (n <= 0)
		return;
	req[n] = '\0';
	if (n > 0 && req[n - 1] == '\n')
		req[n - 1] = '\0';
	if (strcmp(req, "info") == 0) {
		uint64_t exits[3] = { 0 };

		for (int i = 0; i < vm->nr_vcpus; i++) {
			exits[0] += vm->vcpus[i].hypercalls;
			exits[1] += vm->vcpus[i].io_exits;
			exits[2] += vm->vcpus[i].mmio_exits;
		}
		snprintf(rep, sizeof(rep),
			 "ok name=%s domid=%u uuid=%s mem_kb=%llu maxmem_kb=%llu vcpus=%d state=%c cpu_ns=%llu start=%lld "
			 "store_port=%llu console_port=%llu first_entry_ns=%llu exits=%llu/%llu/%llu",
			 vm->name, vm->domid, c->uuid ? c->uuid : "-", (unsigned long long)(vm->mem.ram_size >> 10),
			 (unsigned long long)(vm->mem.ram_size >> 10), vm->nr_vcpus, run_state(vm),
			 (unsigned long long)vcpu_cpu_ns(vm), (long long)c->start,
			 (unsigned long long)vm->hvm_params[HVM_PARAM_STORE_EVTCHN],
			 (unsigned long long)vm->hvm_params[HVM_PARAM_CONSOLE_EVTCHN],
			 (unsigned long long)atomic_load(&vm->first_entry_ns), (unsigned long long)exits[0],
			 (unsigned long long)exits[1], (unsigned long long)exits[2]);
	} else if (strcmp(req, "pause") == 0) {
		vm_pause(vm, true);
		strcpy(rep, "ok");
	} else if (strcmp(req, "unpause") == 0) {
		vm_pause(vm, false);
		strcpy(rep, "ok");
	} else if (strcmp(req, "destroy") == 0) {
		vm_request_exit(vm, VM_DESTROYED);
		strcpy(rep, "ok");
	} else {
		snprintf(rep, sizeof(rep), "error unknown request (expected info, pause, unpause or destroy)");
	}
	send(fd, rep, strlen(rep), MSG_NOSIGNAL);
}

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
		struct pollfd q = { .fd = fd, .events = POLLIN };
		while (poll(&q, 1, 2000) == 1 && (q.revents & POLLIN)) {
			char peek;
			if (recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
				break;
			handle(c, fd);
		}
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
