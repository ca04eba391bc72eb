/* The primary console backend (xen-guest-abi.md §6.4 "Consoles"). */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "domus/log.h"
#include "vm.h"
#include "xen/xen_abi.h"

static struct xencons_interface *ring(struct console *c)
{
	return (struct xencons_interface *)(c->vm->special +
					    (LAYOUT_CONSOLE_PFN - (LAYOUT_SPECIAL_BASE >> 12)) * 4096);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (fd >= 0 && len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Never blocks: this runs on vCPU threads too, and a console client that
 * stops reading (a paused terminal) must not stall the guest.  What the
 * client's socket cannot take is dropped for it; the log keeps it all, as
 * xenconsoled's log does when its client falls behind. */
static void emit_client(struct console *c, const char *buf, size_t len)
{
	ssize_t n = send(c->client_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		close(c->client_fd);
		c->client_fd = -1;
	} else if ((size_t)(n < 0 ? 0 : n) < len && !c->client_lagged) {
		c->client_lagged = true;
		log_warn(c->vm->name, "console client is not reading: output dropped for it "
			 "(the console log keeps everything)");
	}
}

/* Called from the console thread and, for console_io and port 0xE9, from
 * vCPU threads: one writer at a time, and client_fd closes under the lock. */
static void emit(struct console *c, const char *buf, size_t len)
{
	pthread_mutex_lock(&c->out_lock);
	write_all(c->log_fd, buf, len);
	write_all(c->out_fd, buf, len);
	if (c->client_fd >= 0)
		emit_client(c, buf, len);
	pthread_mutex_unlock(&c->out_lock);
}

void console_guest_output(struct vm *vm, const char *buf, size_t len)
{
	if (vm->console)
		emit(vm->console, buf, len);
}

/* Drain the guest's output.  The indices are the guest's to write: read them
 * once and never trust prod - cons beyond the ring's size. */
static int drain_output(struct console *c)
{
	struct xencons_interface *r = ring(c);
	uint32_t cons = __atomic_load_n(&r->out_cons, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&r->out_prod, __ATOMIC_ACQUIRE);
	char buf[sizeof(r->out)];
	size_t n = 0;

	if (prod - cons > sizeof(r->out)) {
		log_guest(&c->vm->guest_rl, c->vm->name, "console: bad ring indexes (prod %u cons %u): resynced",
			  prod, cons);
		__atomic_store_n(&r->out_cons, prod, __ATOMIC_RELEASE);
		return 0;
	}
	while (cons != prod)
		buf[n++] = r->out[MASK_XENCONS_IDX(cons++, r->out)];
	__atomic_store_n(&r->out_cons, cons, __ATOMIC_RELEASE);
	if (n)
		emit(c, buf, n);
	return (int)n;
}

static int feed_input(struct console *c, const char *buf, size_t len)
{
	struct xencons_interface *r = ring(c);
	uint32_t cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
	uint32_t prod = r->in_prod;
	size_t done = 0;

	if (prod - cons > sizeof(r->in))
		return 0;
	while (done < len && prod - cons < sizeof(r->in))
		r->in[MASK_XENCONS_IDX(prod++, r->in)] = buf[done++];
	__atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
	return (int)done;
}

static void *console_main(void *arg)
{
	struct console *c = arg;
	uint64_t v;

	for (;;) {
		struct pollfd p[5] = {
			{ .fd = c->kick_fd, .events = POLLIN },
			{ .fd = c->w.stop_fd, .events = POLLIN },
			{ .fd = c->in_fd, .events = POLLIN },
			{ .fd = c->listen_fd, .events = POLLIN },
			{ .fd = c->client_fd, .events = POLLIN },
		};
		char buf[512];
		ssize_t n;

		/* The timeout catches output of a guest that wrote before it knew
		 * the port, and any notification lost across a ring resync. */
		if (poll(p, 5, 200) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			(void)!read(c->kick_fd, &v, sizeof(v));
		if (drain_output(c) > 0)
			evtchn_notify_guest(c->vm, c->port);
		if (p[2].revents & (POLLIN | POLLHUP)) {
			n = read(c->in_fd, buf, sizeof(buf));
			if (n > 0 && feed_input(c, buf, (size_t)n) > 0)
				evtchn_notify_guest(c->vm, c->port);
			else if (n == 0)
				c->in_fd = -1;
		}
		if (p[3].revents & POLLIN) {
			int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0 && c->client_fd >= 0) {
				/* One console client at a time, as xenconsoled. */
				static const char busy[] = "domus: the console is in use by another client\r\n";
				(void)!write(fd, busy, sizeof(busy) - 1);
				close(fd);
			} else if (fd >= 0) {
				pthread_mutex_lock(&c->out_lock);
				c->client_fd = fd;
				c->client_lagged = false;
				pthread_mutex_unlock(&c->out_lock);
			}
		}
		if (c->client_fd >= 0 && (p[4].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = recv(c->client_fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				pthread_mutex_lock(&c->out_lock);
				close(c->client_fd);
				c->client_fd = -1;
				pthread_mutex_unlock(&c->out_lock);
			} else if (feed_input(c, buf, (size_t)n) > 0) {
				evtchn_notify_guest(c->vm, c->port);
			}
		}
	}
	return NULL;
}

int console_init(struct console *c, struct vm *vm, const char *log_path, const char *socket_path, int stdio)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	*c = (struct console){ .vm = vm, .log_fd = -1, .out_fd = -1, .in_fd = -1, .listen_fd = -1,
			       .client_fd = -1, .kick_fd = -1, .w = WORKER_INIT };
	pthread_mutex_init(&c->out_lock, NULL);
	c->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->kick_fd < 0 || worker_init(&c->w) < 0)
		return -errno;
	if (log_path) {
		c->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (c->log_fd < 0) {
			rc = -errno;
			log_err(vm->name, "console log %s: %s", log_path, strerror(-rc));
			return rc;
		}
	}
	if (stdio) {
		c->out_fd = STDOUT_FILENO;
		c->in_fd = STDIN_FILENO;
	}
	if (socket_path) {
		if (strlen(socket_path) >= sizeof(sa.sun_path))
			return -ENAMETOOLONG;
		strcpy(sa.sun_path, socket_path);
		c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->listen_fd < 0)
			return -errno;
		unlink(socket_path);
		if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(c->listen_fd, 2) < 0) {
			rc = -errno;
			log_err(vm->name, "console socket %s: %s", socket_path, strerror(-rc));
			return rc;
		}
	}
	/* The guest finds the ring and port through HVM params (no xenbus). */
	rc = evtchn_alloc_interdomain(vm, 0, c->kick_fd, &c->port);
	if (rc < 0)
		return rc;
	vm->hvm_params[HVM_PARAM_CONSOLE_PFN] = LAYOUT_CONSOLE_PFN;
	vm->hvm_params[HVM_PARAM_CONSOLE_EVTCHN] = c->port;
	vm->console = c;
	return 0;
}

int console_start(struct console *c)
{
	return worker_start(&c->w, console_main, c);
}

void console_stop(struct console *c)
{
	int *const fds[] = { &c->kick_fd, &c->log_fd, &c->listen_fd, &c->client_fd };

	worker_stop(&c->w);
	if (c->vm && c->vm->console == c)
		drain_output(c);
	if (c->vm)
		c->vm->console = NULL;
	close_fds(fds, sizeof(fds) / sizeof(fds[0]));
}
