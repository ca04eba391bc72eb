/* Device instances that come and go while the monitor runs (the console
 * today; disks and network interfaces as they are plugged): each has the
 * lifecycle of a part (part.h), per instance (docs/vmm-parts.md).
 *
 * The caller builds an instance (its own create function, from its
 * configuration) and hands it over with dev_add(): from then on the table
 * owns it and releases it with ops->stop, on dev_remove(), devs_stop() or a
 * failed dev_add().  An instance added to a running table is started at
 * once.  Quiesce and stop go newest first.
 *
 * Threading: the table has no lock; it is used on the event loop thread,
 * or by main while the loop does not run. */
#ifndef DOMUS_VMM_DEV_H
#define DOMUS_VMM_DEV_H

#include <stdbool.h>
#include <stddef.h>

struct stream_writer;
struct stream_reader;

struct dev_ops {
	const char *kind; /* "console", "vbd", "vif": with the id, names the instance */
	int (*start)(void *inst);
	int (*quiesce)(void *inst); /* 0, or -errno: see devs_quiesce */
	int (*save)(void *inst, struct stream_writer *w);
	int (*load)(void *inst, struct stream_reader *r);
	void (*stop)(void *inst); /* releases inst */
	/* xenstored came back after a restart or upgrade, which ended every
	 * socket connection: connect again and watch again (may be NULL). */
	int (*reconnect)(void *inst);
};

struct dev {
	const struct dev_ops *ops;
	unsigned id;
	void *inst;
	bool started;
	struct dev *next; /* newer first */
};

struct devices {
	struct dev *list;
	bool running; /* between devs_start and devs_quiesce */
};

/* 0, or -EEXIST (that kind and id are present), -ENOMEM or the error of
 * ops->start; on failure inst has been released. */
int dev_add(struct devices *d, const struct dev_ops *ops, unsigned id, void *inst);
/* Quiesces and stops the instance: 0 or -ENOENT. */
int dev_remove(struct devices *d, const char *kind, unsigned id);
void *dev_find(const struct devices *d, const char *kind, unsigned id);

/* Starts the instances added before, oldest first; on failure the started
 * ones are quiesced again and the error returned (all stay in the table). */
int devs_start(struct devices *d);
/* Quiesces every started instance, newest first, even after one fails:
 * 0, or the first failure's -errno with "KIND ID: reason" in why (why may
 * be NULL).  A failed instance is quiesced as far as it could be; a save
 * must not go on after a failure (it would lose in-flight work). */
int devs_quiesce(struct devices *d, char *why, size_t wl);
int devs_save(struct devices *d, struct stream_writer *w);
int devs_load(struct devices *d, struct stream_reader *r);
/* Tells every started instance that has a reconnect op that xenstored is
 * back: 0, or the first failure's -errno (the others still told). */
int devs_reconnect(struct devices *d);
/* Quiesces what runs, then stops and releases every instance. */
void devs_stop(struct devices *d);

#endif
