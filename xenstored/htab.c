/* String-keyed chained hash table (see htab.h). */
#include "htab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t htab_hash(const char *key)
{
	/* FNV-1a: short keys, good spread, no setup. */
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

int htab_init(struct htab *h, size_t nb)
{
	h->nb = nb < 16 ? 16 : nb;
	h->n = 0;
	h->b = calloc(h->nb, sizeof(*h->b));
	return h->b ? 0 : -ENOMEM;
}

void htab_dispose(struct htab *h)
{
	free(h->b);
	h->b = NULL;
	h->nb = h->n = 0;
}

struct htab_ent *htab_find(const struct htab *h, const char *key, uint32_t hash)
{
	for (struct htab_ent *e = h->b[hash & (h->nb - 1)]; e; e = e->next)
		if (e->hash == hash && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void htab_grow(struct htab *h)
{
	size_t nb = h->nb * 2;
	struct htab_ent **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < h->nb; i++) {
		struct htab_ent *e = h->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(h->b);
	h->b = b;
	h->nb = nb;
}

int htab_insert(struct htab *h, struct htab_ent *e)
{
	struct htab_ent **slot;

	if (h->n >= h->nb)
		htab_grow(h);
	slot = &h->b[e->hash & (h->nb - 1)];
	e->next = *slot;
	*slot = e;
	h->n++;
	return 0;
}

void htab_remove(struct htab *h, struct htab_ent *e)
{
	struct htab_ent **p = &h->b[e->hash & (h->nb - 1)];

	for (; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			h->n--;
			return;
		}
	}
}

struct htab_ent *htab_first(const struct htab *h, size_t *i)
{
	for (*i = 0; *i < h->nb; (*i)++)
		if (h->b[*i])
			return h->b[*i];
	return NULL;
}

struct htab_ent *htab_next(const struct htab *h, struct htab_ent *e, size_t *i)
{
	if (e->next)
		return e->next;
	for ((*i)++; *i < h->nb; (*i)++)
		if (h->b[*i])
			return h->b[*i];
	return NULL;
}
