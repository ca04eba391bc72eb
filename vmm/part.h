/* The monitor's parts in one ordered table (docs/vmm-parts.md).
 *
 * A part is a row of ops on a context the table's owner chooses (the monitor
 * passes its struct monitor):
 *   init     take resources (fds, memory, sockets); no thread, no traffic
 *   start    begin serving (register with the event loop, start threads)
 *   quiesce  take no new work and finish what is in flight
 *   save     append its records to a stream (quiesced)
 *   load     read its records (inited, not started)
 *   stop     release what init took; also called for a part that was
 *            inited but never started, or whose start failed
 * Any op may be NULL.  init and start run in table order; quiesce and stop
 * in reverse, so a part may rely on the parts above it for its whole life.
 * A failed init or start unwinds what was done, in reverse. */
#ifndef DOMUS_VMM_PART_H
#define DOMUS_VMM_PART_H

#include <stdbool.h>
#include <stddef.h>

struct stream_writer;
struct stream_reader;

struct part {
	const char *name;
	/* why: the failure in words, for xl (strerror and the name if left empty). */
	int (*init)(void *ctx, char *why, size_t wl);
	int (*start)(void *ctx, char *why, size_t wl);
	void (*quiesce)(void *ctx);
	int (*save)(void *ctx, struct stream_writer *w);
	int (*load)(void *ctx, struct stream_reader *r);
	void (*stop)(void *ctx);
};

/* One run of a table: which parts are inited, started, quiesced. */
struct parts {
	const struct part *tab;
	size_t n;
	void *ctx;
	size_t inited, started; /* the first `inited` parts are inited, ... */
	bool quiesced;
};

void parts_bind(struct parts *p, const struct part *tab, size_t n, void *ctx);
/* Inits every part in order.  When one fails, the parts before it are
 * stopped in reverse and its error is returned. */
int parts_init(struct parts *p, char *why, size_t wl);
/* Starts every part in order.  When one fails, the started ones are
 * quiesced in reverse, then every inited part is stopped in reverse. */
int parts_start(struct parts *p, char *why, size_t wl);
/* Quiesces the started parts in reverse order, once. */
void parts_quiesce(struct parts *p);
/* Save in table order (after parts_quiesce), load in table order (after
 * parts_init, before parts_start); the first error ends the walk. */
int parts_save(struct parts *p, struct stream_writer *w);
int parts_load(struct parts *p, struct stream_reader *r);
/* Quiesces if that was not done, then stops every inited part in reverse. */
void parts_stop(struct parts *p);

#endif
