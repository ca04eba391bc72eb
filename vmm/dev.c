/* The table of device instances (dev.h). */
#include "dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dev **lookup(struct devices *d, const char *kind, unsigned id)
{
	struct dev **pp = &d->list;

	while (*pp && !((*pp)->id == id && strcmp((*pp)->ops->kind, kind) == 0))
		pp = &(*pp)->next;
	return pp;
}

void *dev_find(const struct devices *d, const char *kind, unsigned id)
{
	struct dev **pp = lookup((struct devices *)d, kind, id);

	return *pp ? (*pp)->inst : NULL;
}

static int quiesce_one(struct dev *v)
{
	int rc = 0;

	if (v->started && v->ops->quiesce)
		rc = v->ops->quiesce(v->inst);
	v->started = false;
	return rc;
}

int dev_add(struct devices *d, const struct dev_ops *ops, unsigned id, void *inst)
{
	struct dev *v = NULL;
	int rc = -EEXIST;

	if (*lookup(d, ops->kind, id))
		goto fail;
	rc = -ENOMEM;
	v = calloc(1, sizeof(*v));
	if (!v)
		goto fail;
	*v = (struct dev){ .ops = ops, .id = id, .inst = inst };
	if (d->running) {
		rc = ops->start ? ops->start(inst) : 0;
		if (rc < 0)
			goto fail;
		v->started = true;
	}
	v->next = d->list;
	d->list = v;
	return 0;
fail:
	free(v);
	if (ops->stop)
		ops->stop(inst);
	return rc;
}

int dev_remove(struct devices *d, const char *kind, unsigned id)
{
	struct dev **pp = lookup(d, kind, id), *v = *pp;

	if (!v)
		return -ENOENT;
	*pp = v->next;
	(void)quiesce_one(v); /* it goes whatever its quiesce says */
	if (v->ops->stop)
		v->ops->stop(v->inst);
	free(v);
	return 0;
}

/* Oldest first: the list is newest first, so recurse to its end. */
static int start_from(struct dev *v)
{
	int rc;

	if (!v)
		return 0;
	rc = start_from(v->next);
	if (rc == 0 && !v->started) {
		rc = v->ops->start ? v->ops->start(v->inst) : 0;
		v->started = rc == 0;
	}
	return rc;
}

int devs_start(struct devices *d)
{
	int rc = start_from(d->list);

	if (rc < 0) {
		(void)devs_quiesce(d, NULL, 0);
		return rc;
	}
	d->running = true;
	return 0;
}

int devs_reconnect(struct devices *d)
{
	int rc = 0;

	for (struct dev *v = d->list; v; v = v->next) {
		int r = v->started && v->ops->reconnect ? v->ops->reconnect(v->inst) : 0;

		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

int devs_quiesce(struct devices *d, char *why, size_t wl)
{
	int rc = 0;

	d->running = false;
	for (struct dev *v = d->list; v; v = v->next) {
		int r = quiesce_one(v);

		if (r < 0 && rc == 0) {
			rc = r;
			if (why && wl)
				snprintf(why, wl, "%s %u: %s", v->ops->kind, v->id, strerror(-r));
		}
	}
	return rc;
}

int devs_save(struct devices *d, struct stream_writer *w)
{
	for (struct dev *v = d->list; v; v = v->next) {
		int rc = v->ops->save ? v->ops->save(v->inst, w) : 0;

		if (rc < 0)
			return rc;
	}
	return 0;
}

int devs_load(struct devices *d, struct stream_reader *r)
{
	for (struct dev *v = d->list; v; v = v->next) {
		int rc = v->ops->load ? v->ops->load(v->inst, r) : 0;

		if (rc < 0)
			return rc;
	}
	return 0;
}

void devs_stop(struct devices *d)
{
	(void)devs_quiesce(d, NULL, 0); /* stopping anyway; each logs its own */
	while (d->list) {
		struct dev *v = d->list;

		d->list = v->next;
		if (v->ops->stop)
			v->ops->stop(v->inst);
		free(v);
	}
}
