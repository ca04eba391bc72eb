/* Restart without loss: nodes, permissions, domains, a guest's ring and its
 * watches survive xenstored being stopped (SIGTERM) and started again, and
 * being killed (SIGKILL) after acknowledging a write; an upgrade in place
 * (SIGUSR2) also keeps socket clients and their watches.  This program runs the
 * daemon itself (argv[1]) on XENSTORED_PATH and plays dom0 (libxenstore),
 * the guest and its monitor (guestsim.c), which stay up across restarts. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include "guestsim.h"
#include "domus/ring_proto.h"
#include "testutil.h"

static pid_t daemon_pid = -1;


static void start(const char *bin)
{
	const char *sock = getenv("XENSTORED_PATH");
	struct stat st;

	unlink(sock);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		execl(bin, bin, "-s", sock, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && stat(sock, &st) < 0; i++)
		usleep(20000);
	/* For restart.sh to stop it if this program dies first. */
	if (getenv("XSD_PIDFILE")) {
		FILE *f = fopen(getenv("XSD_PIDFILE"), "w");

		if (f) {
			fprintf(f, "%d\n", (int)daemon_pid);
			fclose(f);
		}
	}
}

static void stop(int sig)
{
	kill(daemon_pid, sig);
	waitpid(daemon_pid, NULL, 0);
	daemon_pid = -1;
	if (getenv("XSD_PIDFILE"))
		unlink(getenv("XSD_PIDFILE"));
}

/* A handle on the running daemon; the test cannot go on without one. */
static struct xs_handle *open_daemon(void)
{
	struct xs_handle *h = xs_open(0);

	if (!h) {
		fprintf(stderr, "restart: cannot connect to the daemon: %s\n", strerror(errno));
		exit(1);
	}
	return h;
}

static char *read_node(struct xs_handle *h, const char *path)
{
	unsigned len;

	return xs_read(h, XBT_NULL, path, &len);
}

static int is(struct xs_handle *h, const char *path, const char *want)
{
	char *v = read_node(h, path);
	int ok = v && strcmp(v, want) == 0;

	free(v);
	return ok;
}

/* The guest's watch fires for a dom0 write: proof its watch survived. */
static int watch_alive(struct xs_handle *h, struct guest *g, const char *node)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1], path[64];
	int t;

	snprintf(path, sizeof(path), "/local/domain/5/data/%s", node);
	if (!xs_write(h, XBT_NULL, path, "1", 1))
		return 0;
	t = guest_recv(g, buf, 2000);
	return t == XS_WATCH_EVENT && strcmp(buf, path + strlen("/local/domain/5/")) == 0;
}

/* Next watch event of a libxenstore handle within 2 s: "path" in buf. */
static int socket_event(struct xs_handle *h, char *buf, size_t sz)
{
	struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned n;
	char **v;

	if (poll(&p, 1, 2000) != 1 || !(v = xs_read_watch(h, &n)))
		return -1;
	snprintf(buf, sz, "%s", v[XS_WATCH_PATH]);
	free(v);
	return 0;
}

/* One request in transaction tx: the reply's type, its body in buf. */
static int guest_call_tx(struct guest *g, uint32_t type, uint32_t tx, const char *body,
			 uint32_t len, char *buf)
{
	if (guest_send_tx(g, type, tx, body, len) < 0)
		return -1;
	return guest_recv(g, buf, 2000);
}

/* Send the first `cut` bytes of a WRITE now; finish_half() sends the rest. */
static const char *half_body;
static uint32_t half_len, half_cut;

static void start_half(struct guest *g, const char *body, uint32_t len, uint32_t cut)
{
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 77, .len = len };

	half_body = body;
	half_len = len;
	half_cut = cut;
	CHECK(guest_put(g, &h, sizeof(h)) == 0 && guest_put(g, body, cut) == 0);
	usleep(200000); /* the daemon takes the partial request */
	CHECK(g->intf->req_cons == g->intf->req_prod);
}

/* The request completes after the restart: its event, then its ack. */
static int finish_half(struct guest *g)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];

	if (guest_put(g, half_body + half_cut, half_len - half_cut) < 0)
		return 0;
	return guest_recv(g, buf, 2000) == XS_WATCH_EVENT && guest_recv(g, buf, 2000) == XS_WRITE &&
	       !strcmp(buf, "OK");
}

int main(int argc, char **argv)
{
	const char *gsock = getenv("XSD_GUEST_SOCKET");
	struct xs_permissions p5 = { .id = 5, .perms = XS_PERM_NONE };
	struct xs_permissions acl[2] = { { .id = 0, .perms = XS_PERM_NONE },
					 { .id = 5, .perms = XS_PERM_READ } };
	struct xs_permissions *got;
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	struct xs_handle *h, *h2;
	struct guest g;
	char ev[256];
	xs_transaction_t t, t2;
	uint32_t tx;
	unsigned n;

	if (argc < 2 || !gsock || guest_init(&g, 5) < 0)
		return 2;
	start(argv[1]);
	h = open_daemon();
	CHECK(h && xs_write(h, XBT_NULL, "/r/a", "1", 1));
	CHECK(xs_set_permissions(h, XBT_NULL, "/r/a", acl, 2));
	CHECK(xs_mkdir(h, XBT_NULL, "/local/domain/5"));
	CHECK(xs_set_permissions(h, XBT_NULL, "/local/domain/5", &p5, 1));
	CHECK(guest_handover(&g, gsock, 0) == 0);
	CHECK(xs_introduce_domain(h, 5, 0, 1));
	CHECK(guest_call(&g, XS_WATCH, "data\0w", 7, buf) == XS_WATCH);
	CHECK(guest_recv(&g, buf, 2000) == XS_WATCH_EVENT && !strcmp(buf, "data"));
	/* Its own watch fires first: Xen queues the event before the ack. */
	CHECK(guest_call(&g, XS_WRITE, "data/x\0gx", 9, buf) == XS_WATCH_EVENT);
	CHECK(guest_recv(&g, buf, 2000) == XS_WRITE);
	xs_close(h);

	/* 1. Orderly stop and start with a request half received; the monitor
	 * hands the ring over again. */
	start_half(&g, "data/h1\0v1", 10, 4);
	stop(SIGTERM);
	start(argv[1]);
	h = open_daemon();
	CHECK(is(h, "/r/a", "1"));
	got = xs_get_permissions(h, XBT_NULL, "/r/a", &n);
	CHECK(got && n == 2 && got[1].id == 5 && got[1].perms == XS_PERM_READ);
	free(got);
	CHECK(is(h, "/local/domain/5/data/x", "gx"));
	CHECK(xs_is_domain_introduced(h, 5));
	CHECK(guest_handover(&g, gsock, XSD_RING_RECONNECT) == 0);
	CHECK(finish_half(&g));
	CHECK(is(h, "/local/domain/5/data/h1", "v1"));
	CHECK(watch_alive(h, &g, "y"));
	CHECK(guest_call(&g, XS_READ, "data/x", 7, buf) == XS_READ && !strcmp(buf, "gx"));
	CHECK(xs_write(h, XBT_NULL, "/r/b", "acked", 5));
	xs_close(h);

	/* 2. kill -9 right after an acknowledged write, a request half in, and
	 * a transaction of the guest open. */
	CHECK(guest_call(&g, XS_TRANSACTION_START, "", 1, buf) == XS_TRANSACTION_START);
	tx = (uint32_t)strtoul(buf, NULL, 10);
	CHECK(tx != 0);
	CHECK(guest_call_tx(&g, XS_WRITE, tx, "data/t\0in-txn", 14, buf) == XS_WRITE);
	start_half(&g, "data/h2\0v2", 10, 7);
	stop(SIGKILL);
	start(argv[1]);
	h = open_daemon();
	CHECK(is(h, "/r/b", "acked"));
	CHECK(is(h, "/local/domain/5/data/y", "1"));
	CHECK(guest_handover(&g, gsock, XSD_RING_RECONNECT) == 0);
	CHECK(finish_half(&g));
	CHECK(is(h, "/local/domain/5/data/h2", "v2"));
	CHECK(watch_alive(h, &g, "z"));
	/* The lost transaction still answers, and its commit says EAGAIN so the
	 * guest redoes it (as Linux's xenbus does); nothing of it landed. */
	CHECK(guest_call_tx(&g, XS_READ, tx, "data/x", 7, buf) == XS_READ && !strcmp(buf, "gx"));
	CHECK(guest_call_tx(&g, XS_WRITE, tx, "data/t\0again", 13, buf) == XS_WRITE);
	CHECK(guest_call_tx(&g, XS_TRANSACTION_END, tx, "T", 2, buf) == XS_ERROR &&
	      !strcmp(buf, "EAGAIN"));
	CHECK(read_node(h, "/local/domain/5/data/t") == NULL);
	/* Ids never given out are still unknown; new ones do not reuse old. */
	CHECK(guest_call_tx(&g, XS_READ, tx + 100, "data/x", 7, buf) == XS_ERROR &&
	      !strcmp(buf, "ENOENT"));
	CHECK(guest_call(&g, XS_TRANSACTION_START, "", 1, buf) == XS_TRANSACTION_START);
	CHECK((uint32_t)strtoul(buf, NULL, 10) > tx);
	tx = (uint32_t)strtoul(buf, NULL, 10);
	CHECK(guest_call_tx(&g, XS_WRITE, tx, "data/t\0redone", 14, buf) == XS_WRITE);
	CHECK(guest_call_tx(&g, XS_TRANSACTION_END, tx, "T", 2, buf) == XS_WATCH_EVENT);
	CHECK(guest_recv(&g, buf, 2000) == XS_TRANSACTION_END);
	CHECK(is(h, "/local/domain/5/data/t", "redone"));
	xs_close(h);

	/* 3. Upgrade in place (SIGUSR2): socket clients keep their connection
	 * and watches; the monitor hands the ring over again. */
	h = open_daemon();
	h2 = open_daemon();
	CHECK(h2 && xs_watch(h2, "/keep", "k"));
	CHECK(socket_event(h2, ev, sizeof(ev)) == 0 && !strcmp(ev, "/keep"));
	kill(daemon_pid, SIGUSR2);
	usleep(300000);
	for (int i = 0; i < 50 && guest_handover(&g, gsock, XSD_RING_RECONNECT) != 0; i++)
		usleep(100000);
	CHECK(xs_write(h, XBT_NULL, "/keep/x", "1", 1));
	CHECK(socket_event(h2, ev, sizeof(ev)) == 0 && !strcmp(ev, "/keep/x"));
	CHECK(is(h2, "/r/b", "acked"));
	CHECK(watch_alive(h, &g, "u"));

	/* 4. A forced live update (xenstore-control live-update -f BIN, then
	 * -s -F) while a socket client holds a transaction: the client keeps
	 * its connection, the transaction comes back lost (commit: EAGAIN). */
	t = xs_transaction_start(h);
	CHECK(t != XBT_NULL && xs_write(h, t, "/lu/a", "1", 1));
	{
		char args[4200];
		int alen = snprintf(args, sizeof(args), "-f%c%s", 0, argv[1]) + 1;
		char *rep = xs_control_command(h2, "live-update", args, (unsigned)alen);

		CHECK(rep && !strcmp(rep, "OK"));
		free(rep);
		rep = xs_control_command(h2, "live-update", "-s\0-F", 6);
		CHECK(rep && !strcmp(rep, "OK"));
		free(rep);
	}
	usleep(300000);
	for (int i = 0; i < 50 && guest_handover(&g, gsock, XSD_RING_RECONNECT) != 0; i++)
		usleep(100000);
	CHECK(xs_write(h, t, "/lu/b", "2", 1));
	CHECK(!xs_transaction_end(h, t, false) && errno == EAGAIN);
	CHECK(read_node(h, "/lu/a") == NULL && read_node(h, "/lu/b") == NULL);
	t2 = xs_transaction_start(h);
	CHECK(t2 != XBT_NULL && t2 > t && xs_write(h, t2, "/lu/a", "3", 1));
	CHECK(xs_transaction_end(h, t2, false));
	CHECK(is(h, "/lu/a", "3"));
	CHECK(watch_alive(h, &g, "v"));
	xs_close(h2);
	CHECK(xs_release_domain(h, 5));
	CHECK(!xs_is_domain_introduced(h, 5));
	xs_close(h);
	stop(SIGTERM);
	printf("restart: %d failures\n", failures);
	return failures ? 1 : 0;
}
