/* Walking the table of parts (part.h). */
#include "part.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void parts_bind(struct parts *p, const struct part *tab, size_t n, void *ctx)
{
	*p = (struct parts){ .tab = tab, .n = n, .ctx = ctx };
}

static void explain(const struct part *pt, const char *step, int rc, char *why, size_t wl)
{
	if (wl && !why[0])
		snprintf(why, wl, "%s %s: %s", pt->name, step, strerror(-rc));
}

int parts_init(struct parts *p, char *why, size_t wl)
{
	while (p->inited < p->n) {
		const struct part *pt = &p->tab[p->inited];
		int rc = pt->init ? pt->init(p->ctx, why, wl) : 0;

		if (rc < 0) {
			explain(pt, "init", rc, why, wl);
			/* Not started, so not quiesced: stop undoes init alone. */
			p->quiesced = true;
			parts_stop(p);
			return rc;
		}
		p->inited++;
	}
	return 0;
}

int parts_start(struct parts *p, char *why, size_t wl)
{
	while (p->started < p->inited) {
		const struct part *pt = &p->tab[p->started];
		int rc = pt->start ? pt->start(p->ctx, why, wl) : 0;

		if (rc < 0) {
			explain(pt, "start", rc, why, wl);
			parts_stop(p);
			return rc;
		}
		p->started++;
	}
	return 0;
}

void parts_quiesce(struct parts *p)
{
	if (p->quiesced)
		return;
	p->quiesced = true;
	for (size_t i = p->started; i-- > 0;)
		if (p->tab[i].quiesce)
			p->tab[i].quiesce(p->ctx);
}

int parts_save(struct parts *p, struct stream_writer *w)
{
	if (p->started && !p->quiesced)
		return -EBUSY;
	for (size_t i = 0; i < p->inited; i++) {
		int rc = p->tab[i].save ? p->tab[i].save(p->ctx, w) : 0;

		if (rc < 0)
			return rc;
	}
	return 0;
}

int parts_load(struct parts *p, struct stream_reader *r)
{
	if (p->started)
		return -EBUSY;
	for (size_t i = 0; i < p->inited; i++) {
		int rc = p->tab[i].load ? p->tab[i].load(p->ctx, r) : 0;

		if (rc < 0)
			return rc;
	}
	return 0;
}

void parts_stop(struct parts *p)
{
	parts_quiesce(p);
	while (p->inited > 0) {
		const struct part *pt = &p->tab[--p->inited];

		if (pt->stop)
			pt->stop(p->ctx);
	}
	p->started = 0;
}
