/* XS_CONTROL from the tests that move domains (xfertest.c, abandontest.c):
 * what `xenstore-control CMD ARGS...` sends, through libxenstore. */
#ifndef DOMUS_TESTS_XSCTL_H
#define DOMUS_TESTS_XSCTL_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

/* args: len bytes of NUL-separated arguments; true if the daemon said OK. */
static inline bool control(struct xs_handle *h, const char *cmd, const char *args, unsigned len)
{
	char *r = xs_control_command(h, cmd, (void *)args, len);
	bool ok = r && strcmp(r, "OK") == 0;

	free(r);
	return ok;
}

#endif
