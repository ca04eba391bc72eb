/* fds.h */
#include "fds.h"

#include <unistd.h>

void close_fds(int *const *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
