/* Request dispatch: one xenstore message in, one reply out (Xen 4.17
 * xenstored_core.c wire_funcs[] and process_message).  No I/O here: the
 * transport hands in a complete message and sends what comes back. */
#ifndef XSD_OPS_H
#define XSD_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "wire.h"

struct ops_env {
	struct xse_engine *eng;
	/* Daemon services the ops need; each may be NULL. */
	void (*introduced)(struct ops_env *env, uint32_t domid); /* attach ring */
	void (*log_switch)(struct ops_env *env, bool on);
	unsigned (*outstanding)(struct ops_env *env, uint32_t domid);
	/* "live-update" arguments of xenstore-control; the reply text, or
	 * NULL for EINVAL. */
	const char *(*live_update)(struct ops_env *env, const char **v, unsigned n);
	/* export-domain and import-domain (domxfer.c), asked by client c:
	 * 0 or -errno. */
	int (*xfer)(struct ops_env *env, struct xse_client *c, const char *cmd, const char **v, unsigned n);
	/* XS_RESUME of an introduced domain: an exported domain goes on. */
	void (*resumed)(struct ops_env *env, uint32_t domid);
	void *daemon;
};

struct ops_reply {
	uint32_t type; /* request type, or XS_ERROR */
	uint32_t len;
	bool watch_added; /* send the watch's initial event after the reply */
	char body[XENSTORE_PAYLOAD_MAX + 64];
};

/* Handles one request of client c; always produces a reply. */
void ops_process(struct ops_env *env, struct xse_client *c, const struct xsd_sockmsg *hdr,
		 const char *body, struct ops_reply *out);

/* control.c: the CONTROL request (xenstore-control). */
int ops_control(struct ops_env *env, struct xse_client *c, const char *body, uint32_t len,
		struct ops_reply *out);
int ops_reply_str(struct ops_reply *out, const char *s);

#endif
