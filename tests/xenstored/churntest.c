/* Domain lifecycles leave xenstored's heap where it was (issue 12 item 6,
 * on the host, in seconds, beside the lab's 200 real cycles): N domains in
 * turn get libxl's kind of nodes, a ring handed over as a monitor hands it,
 * an introduce, guest requests and a watch, then a release, their nodes
 * removed and the monitor's hand-over socket closed.  The heap (RssAnon of
 * the daemon, whose pid is XS_PID) after the warm-up and after the last
 * domain may differ by at most BOUND_KB: a few bytes kept per domain would
 * pass a 200-cycle run and fail here.  Domain ids only grow, as a host's do.
 * VmRSS is not the measure: the journal's shared pages grow by design until
 * a snapshot empties them (xenstored/persist_int.h JOURNAL_MAX). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "testutil.h"

#include "guestsim.h"

#define DOMAINS 2000
#define WARMUP 100
#define BOUND_KB 256

static long heap_kb(const char *pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "RssAnon:", 8) == 0)
			kb = atol(line + 8);
	fclose(f);
	return kb;
}

static bool put(struct xs_handle *h, const char *val, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool rm(struct xs_handle *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool put(struct xs_handle *h, const char *val, const char *fmt, ...)
{
	char path[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_write(h, XBT_NULL, path, val, (unsigned)strlen(val));
}

static bool rm(struct xs_handle *h, const char *fmt, ...)
{
	char path[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_rm(h, XBT_NULL, path);
}

/* One domain's life, as xl, the monitor and a Linux guest go through it. */
static void lifecycle(struct xs_handle *h, const char *gsock, unsigned id)
{
	struct xs_permissions p = { .id = id, .perms = XS_PERM_NONE };
	char buf[XENSTORE_PAYLOAD_MAX + 1], home[64];
	struct guest g;

	snprintf(home, sizeof(home), "/local/domain/%u", id);
	CHECK(xs_mkdir(h, XBT_NULL, home));
	CHECK(xs_set_permissions(h, XBT_NULL, home, &p, 1));
	CHECK(put(h, "cyc", "/local/domain/%u/name", id));
	CHECK(put(h, "/vm/x", "/local/domain/%u/vm", id));
	CHECK(put(h, "524288", "/local/domain/%u/memory/target", id));
	CHECK(put(h, "", "/local/domain/%u/control/shutdown", id));
	CHECK(put(h, "/local/domain/0/backend/vbd", "/local/domain/%u/device/vbd/51712/backend", id));
	CHECK(put(h, "/local/domain/0/backend/vif", "/local/domain/%u/device/vif/0/backend", id));
	CHECK(put(h, "1", "/local/domain/%u/store/port", id));
	CHECK(put(h, "4", "/local/domain/0/backend/vbd/%u/51712/state", id));
	CHECK(put(h, "4", "/local/domain/0/backend/vif/%u/0/state", id));
	CHECK(put(h, "pvh", "/libxl/%u/type", id));
	CHECK(put(h, "cyc", "/vm/00000000-0000-0000-0000-%012u/name", id));
	CHECK(guest_init(&g, id) == 0 && guest_handover(&g, gsock, 0) == 0);
	CHECK(xs_introduce_domain(h, id, 0, 1));
	CHECK(guest_call(&g, XS_WRITE, "data/x\0hello", 12, buf) == XS_WRITE);
	CHECK(guest_call(&g, XS_WATCH, "control/shutdown\0tk", 20, buf) == XS_WATCH);
	CHECK(guest_recv(&g, buf, 2000) == XS_WATCH_EVENT);
	CHECK(guest_call(&g, XS_READ, "name", 5, buf) == XS_READ);
	CHECK(put(h, "poweroff", "/local/domain/%u/control/shutdown", id));
	CHECK(guest_recv(&g, buf, 2000) == XS_WATCH_EVENT);
	CHECK(xs_release_domain(h, id));
	CHECK(rm(h, "/local/domain/%u", id));
	CHECK(rm(h, "/local/domain/0/backend/vbd/%u", id));
	CHECK(rm(h, "/local/domain/0/backend/vif/%u", id));
	CHECK(rm(h, "/libxl/%u", id));
	CHECK(rm(h, "/vm/00000000-0000-0000-0000-%012u", id));
	close(g.mon);
	close(g.kick_in);
	close(g.kick_out);
	close(g.memfd);
	munmap((char *)g.intf - 4096, 3 * 4096);
}

int main(void)
{
	struct xs_handle *h = xs_open(0);
	const char *gsock = getenv("XSD_GUEST_SOCKET"), *pid = getenv("XS_PID");
	long warm = -1, last;

	if (!h || !gsock || !pid) {
		fprintf(stderr, "usage: XENSTORED_PATH, XSD_GUEST_SOCKET and XS_PID set (c.sh)\n");
		return 1;
	}
	for (unsigned i = 1; i <= DOMAINS && failures == 0; i++) {
		lifecycle(h, gsock, i);
		if (i == WARMUP)
			warm = heap_kb(pid);
	}
	last = heap_kb(pid);
	printf("churn: %d domains, xenstored heap %ld kB after %d, %ld kB after the last\n", DOMAINS, warm,
	       WARMUP, last);
	CHECK(warm > 0 && last > 0);
	CHECK(last - warm <= BOUND_KB);
	xs_close(h);
	printf("churn: %d failures\n", failures);
	return failures ? 1 : 0;
}
