/* The table of device instances (dev.h). */
#include "dev.h"

#include <errno.h>
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

static void quiesce_one(struct dev *v)
{
	if (v->started && v->ops->quiesce)
		v->ops->quiesce(v->inst);
	v->started = false;
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
	quiesce_one(v);
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
		devs_quiesce(d);
		return rc;
	}
	d->running = true;
	return 0;
}

void devs_quiesce(struct devices *d)
{
	d->running = false;
	for (struct dev *v = d->list; v; v = v->next)
		quiesce_one(v);
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
	devs_quiesce(d);
	while (d->list) {
		struct dev *v = d->list;

		d->list = v->next;
		if (v->ops->stop)
			v->ops->stop(v->inst);
		free(v);
	}
}
