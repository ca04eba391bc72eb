/* xsbench: xenstore ops/s through Debian's libxenstore against whatever
 * daemon XENSTORED_PATH names.
 *   xsbench <read|write|directory|txn> <clients> <seconds>
 * prints "<ops/s>"; each client works under its own /bench/<n>. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "clients.h"

struct client {
	struct xs_handle *h;
	const char *op;
	char key[64], dir[64];
};

static void *prepare(int i, void *arg)
{
	struct client *c = calloc(1, sizeof(*c));
	char p[96];

	if (!c)
		return NULL;
	c->op = arg;
	c->h = xs_open(0);
	snprintf(c->key, sizeof(c->key), "/bench/%d/key", i);
	snprintf(c->dir, sizeof(c->dir), "/bench/%d/dir", i);
	if (!c->h || !xs_write(c->h, XBT_NULL, c->key, "value", 5))
		return NULL;
	for (int k = 0; k < 10; k++) {
		snprintf(p, sizeof(p), "%s/c%d", c->dir, k);
		if (!xs_write(c->h, XBT_NULL, p, "x", 1))
			return NULL;
	}
	return c;
}

static int step(void *arg)
{
	struct client *c = arg;
	unsigned n;
	void *r;

	switch (c->op[0]) {
	case 'r':
		r = xs_read(c->h, XBT_NULL, c->key, &n);
		free(r);
		return r ? 0 : -1;
	case 'w':
		return xs_write(c->h, XBT_NULL, c->key, "value", 5) ? 0 : -1;
	case 'd':
		r = xs_directory(c->h, XBT_NULL, c->dir, &n);
		free(r);
		return (r && n == 10) ? 0 : -1;
	default:
		for (int tries = 0; tries < 100; tries++) {
			xs_transaction_t t = xs_transaction_start(c->h);

			if (t == XBT_NULL || !xs_write(c->h, t, c->key, "tvalue", 6))
				return -1;
			if (xs_transaction_end(c->h, t, false))
				return 0;
			if (errno != EAGAIN)
				return -1;
		}
		return -1;
	}
}

int main(int argc, char **argv)
{
	double r;

	if (argc != 4 || !strchr("rwdt", argv[1][0])) {
		fprintf(stderr, "usage: xsbench <read|write|directory|txn> <clients> <seconds>\n");
		return 2;
	}
	r = bench_run(atoi(argv[2]), atof(argv[3]), prepare, step, argv[1]);
	if (r < 0) {
		fprintf(stderr, "xsbench: a client failed\n");
		return 1;
	}
	printf("%.0f\n", r);
	return 0;
}
