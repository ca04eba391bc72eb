/* Guest physical memory as the monitor sees it: one RAM region backed by a
 * memfd and mapped once into the monitor.  Every access by guest physical
 * address goes through gmem_ptr(), which checks [gpa, gpa + len) lies inside
 * RAM; there are no raw translations anywhere else (style.md: vmd's
 * hvaddr_mem/read_mem/write_mem). */
#ifndef DOMUS_VMM_GUEST_MEM_H
#define DOMUS_VMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#include "layout.h"

struct guest_mem {
	uint8_t *hva;       /* mapping of the whole memfd */
	uint64_t ram_size;  /* bytes of guest RAM */
	uint64_t low_size;  /* RAM below the 32-bit hole: [0, low_size) */
	uint64_t high_size; /* RAM above 4 GiB: [LAYOUT_HIGH_BASE, +high_size) */
	int memfd;
};

/* Offset into the memfd of [gpa, gpa+len), or -EFAULT when any byte of it is
 * not RAM (including wrap-around). */
static inline int64_t gmem_offset(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (len > m->ram_size || gpa + len < gpa)
		return -EFAULT;
	if (gpa + len <= m->low_size)
		return (int64_t)gpa;
	if (gpa >= LAYOUT_HIGH_BASE && gpa - LAYOUT_HIGH_BASE + len <= m->high_size)
		return (int64_t)(m->low_size + (gpa - LAYOUT_HIGH_BASE));
	return -EFAULT;
}

/* The address of guest frame pfn in *gpa, or -EFAULT for a frame number no
 * address has: a guest's frame number is checked before it is shifted, so
 * that a huge one cannot wrap around onto a page of low RAM. */
static inline int gmem_pfn_gpa(uint64_t pfn, uint64_t *gpa)
{
	if (pfn > (UINT64_MAX >> 12))
		return -EFAULT;
	*gpa = pfn << 12;
	return 0;
}

static inline void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	int64_t off = gmem_offset(m, gpa, len);

	return off < 0 ? NULL : m->hva + off;
}

static inline int gmem_read(const struct guest_mem *m, uint64_t gpa, void *buf, uint64_t len)
{
	const void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

static inline int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *buf, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

#endif
