/* Helpers for the vmm/boot tests: scratch guest memory and synthetic kernels
 * (an ELF with a Xen PHYS32_ENTRY note, wrapped in a bzImage header). */
#ifndef DOMUS_TESTS_VMM_BOOT_UTIL_H
#define DOMUS_TESTS_VMM_BOOT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

/* Synthetic ELF layout: Ehdr at 0, PT_LOAD phdr at 64, PT_NOTE phdr at 120,
 * the Xen note at TELF_NOTE_OFF, segment data at TELF_DATA_OFF. */
#define TELF_PHDR_LOAD 64
#define TELF_PHDR_NOTE 120
#define TELF_NOTE_OFF 176
#define TELF_NOTE_LEN 24 /* Nhdr 12 + "Xen\0" 4 + 8-byte descriptor */
#define TELF_DATA_OFF 256
#define TELF_PADDR 0x1000000ULL
#define TELF_ENTRY 0x1000040u
#define TELF_BSS 0x3000ULL /* p_memsz - p_filesz */

/* A guest_mem of low_mib MiB below 4 GiB and high_mib MiB above, on
 * anonymous memory; tmem_free() releases it. */
struct guest_mem *tmem_new(uint64_t low_mib, uint64_t high_mib);
void tmem_free(struct guest_mem *m);

/* A malloc()ed synthetic ELF with datalen bytes of segment data (a
 * compressible pattern, tdata_byte(i)) and *len its size. */
uint8_t *telf_new(size_t datalen, size_t *len);
uint8_t tdata_byte(size_t i);

/* A malloc()ed bzImage (boot protocol 2.15, 1 setup sector, payload_offset
 * 0x100) around payload. */
uint8_t *tbz_new(const uint8_t *payload, size_t plen, size_t *len);

/* Appends Linux's 4-byte LE decompressed size (scripts/Makefile.lib
 * size_append) to a malloc()ed buffer; returns the new buffer. */
uint8_t *tsize_append(uint8_t *buf, size_t *len, uint32_t size);

#endif
