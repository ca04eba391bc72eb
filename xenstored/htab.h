/* A chained hash table keyed by NUL-terminated strings, with the entry
 * embedded in the caller's struct (no allocation per lookup).  Used for the
 * node store and for each transaction's private view of nodes. */
#ifndef XSE_HTAB_H
#define XSE_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct htab_ent {
	struct htab_ent *next;
	uint32_t hash;
	char *key;
};

struct htab {
	struct htab_ent **b;
	size_t nb; /* power of two */
	size_t n;
};

uint32_t htab_hash(const char *key);
int htab_init(struct htab *h, size_t nb);
void htab_dispose(struct htab *h);
struct htab_ent *htab_find(const struct htab *h, const char *key, uint32_t hash);
/* The key must not be present yet.  Returns 0 or -ENOMEM (on growth
 * failure the entry is still inserted, the table just stays small). */
int htab_insert(struct htab *h, struct htab_ent *e);
void htab_remove(struct htab *h, struct htab_ent *e);

/* Iteration: for (e = htab_first(h, &i); e; e = htab_next(h, e, &i)). */
struct htab_ent *htab_first(const struct htab *h, size_t *i);
struct htab_ent *htab_next(const struct htab *h, struct htab_ent *e, size_t *i);

#endif
