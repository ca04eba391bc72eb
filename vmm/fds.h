/* Closing a part's descriptors on every exit path. */
#ifndef DOMUS_VMM_FDS_H
#define DOMUS_VMM_FDS_H

#include <stddef.h>

/* Closes each descriptor that is open and marks it -1. */
void close_fds(int *const *fds, size_t n);

#endif
