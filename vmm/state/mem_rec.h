/* Guest memory in the save stream (records MEMORY and EXTRA_MEMORY,
 * docs/save-restore.md): only the pages the guest (or the loader) touched.
 *
 * The memfd holds RAM, then the special pages, then the grant frames
 * (vm.c).  A saver walks the memfd's data extents with lseek SEEK_DATA /
 * SEEK_HOLE (a never-touched page of a memfd is a hole: shmem allocates on
 * first write), so a file is as large as the memory in use, not the memory
 * configured.  RAM goes as MEMORY chunks named by guest frame number; what
 * follows RAM goes as EXTRA_MEMORY chunks named by page index after RAM.
 * Plain data and a file descriptor: unit tests run it on a memfd of their
 * own. */
#ifndef DOMUS_VMM_STATE_MEM_REC_H
#define DOMUS_VMM_STATE_MEM_REC_H

#include <stdint.h>

#include "domus/stream.h"
#include "guest_mem.h"

/* Appends a chunk record for every data extent of m->memfd: RAM as
 * MEMORY, the extra_pages pages after RAM as EXTRA_MEMORY.  m->hva maps
 * the whole memfd. */
int mem_save(const struct guest_mem *m, uint64_t extra_pages, struct stream_writer *w);

/* Loads one MEMORY or EXTRA_MEMORY record into m.  -ENOENT (r untouched)
 * for a record of another type; -EBADMSG with stream_error(r) naming the
 * record for a count of 0 or over a chunk, a length that is not the count's
 * pages, a non-zero reserved word, or frames outside RAM (or past the extra
 * pages). */
int mem_load(struct guest_mem *m, uint64_t extra_pages, struct stream_reader *r, const struct stream_record *rec);

#endif
