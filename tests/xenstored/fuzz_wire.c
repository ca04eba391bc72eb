/* libFuzzer target: a byte stream read as xenstore messages (the framing
 * of conn.c: header checks, then at most `len` bytes of payload) and handed
 * to the request dispatcher and engine, alternating between a privileged
 * and a guest caller by req_id.  Checks the invariants every reply must keep:
 * it fits in one message, errors are Xen's names, and the engine's node
 * accounting stays consistent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domus/log.h"
#include "ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned events;

static void count_event(struct xse_client *c, const char *path, const char *token)
{
	if (strlen(path) + strlen(token) + 2 > 2 * XENSTORE_PAYLOAD_MAX)
		abort();
	events++;
}

/* Every node counts for its owner: the owners' counts sum to the nodes. */
static void check_accounting(struct xse_engine *eng)
{
	uint32_t owners[256], n = 0;
	size_t sum = 0, i;

	for (struct htab_ent *e = htab_first(&eng->nodes, &i); e; e = htab_next(&eng->nodes, e, &i)) {
		uint32_t o = ((struct xse_node *)e)->perms[0].id, k;

		for (k = 0; k < n && owners[k] != o; k++)
			;
		if (k == n && n < 256)
			owners[n++] = o;
	}
	for (uint32_t k = 0; k < n; k++)
		sum += eng->doms[owners[k]].nodes;
	if (n < 256 && sum != xse_node_count(eng))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ops_reply reply;
	static char body[WIRE_BODY_MAX];
	static const struct xse_perm home = { 5, XSE_PERM_NONE };
	struct xse_engine eng;
	struct xse_client c0, c5;
	struct ops_env env = { 0 };
	size_t off = 0;

	log_init("fuzz", LOG_ERR, NULL);
	if (xse_init(&eng) < 0)
		return 0;
	env.eng = &eng;
	xse_client_init(&eng, &c0, 0, count_event, NULL);
	xse_client_init(&eng, &c5, 5, count_event, NULL);
	xse_introduce(&eng, 5);
	xse_mkdir(&c0, 0, "/local/domain/5");
	xse_set_perms(&c0, 0, "/local/domain/5", &home, 1);
	while (size - off >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;
		struct xse_client *c;

		memcpy(&h, data + off, sizeof(h));
		off += sizeof(h);
		if (!wire_header_ok(&h))
			break; /* the transport closes the connection here */
		if (h.len > size - off)
			h.len = (uint32_t)(size - off);
		memcpy(body, data + off, h.len);
		body[h.len] = '\0';
		off += h.len;
		c = (h.req_id & 1) ? &c5 : &c0;
		ops_process(&env, c, &h, body, &reply);
		if (reply.len > XENSTORE_PAYLOAD_MAX)
			abort();
		if (reply.type == XS_ERROR && (reply.body[0] != 'E' || reply.body[reply.len - 1]))
			abort();
		if (reply.watch_added)
			xse_watch_initial(c);
	}
	check_accounting(&eng);
	xse_dispose(&eng);
	return 0;
}
