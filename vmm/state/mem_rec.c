/* Guest memory chunks of the save stream (mem_rec.h). */
#include "state/mem_rec.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define PAGE 4096ULL

/* One record for pages [off, off + n * PAGE) of the memfd, named `frame`. */
static int put_chunk(const struct guest_mem *m, uint32_t type, uint64_t frame, uint64_t off, uint32_t n,
		     struct stream_writer *w)
{
	uint8_t head[STREAM_MEM_HEAD] = { 0 };
	uint8_t lenb[4];
	uint32_t len = STREAM_MEM_HEAD + n * (uint32_t)PAGE;

	for (int i = 0; i < 8; i++)
		head[i] = (uint8_t)(frame >> (8 * i));
	for (int i = 0; i < 4; i++)
		head[8 + i] = (uint8_t)(n >> (8 * i));
	/* stream_write_record wants the payload in one piece; a chunk is a
	 * megabyte of guest memory, so write the header by hand instead of
	 * copying it (same framing: type, length, payload, no padding as
	 * len is a multiple of 8). */
	if (len > stream_rec_max_len(type))
		return w->error = -EINVAL;
	for (int i = 0; i < 4; i++)
		lenb[i] = (uint8_t)(type >> (8 * i));
	stream_put_bytes(w, lenb, 4);
	for (int i = 0; i < 4; i++)
		lenb[i] = (uint8_t)(len >> (8 * i));
	stream_put_bytes(w, lenb, 4);
	stream_put_bytes(w, head, sizeof(head));
	return stream_put_bytes(w, m->hva + off, (size_t)n * PAGE);
}

/* The frame name of memfd offset off (RAM: guest frame; after RAM: index). */
static uint64_t frame_of(const struct guest_mem *m, uint64_t off)
{
	if (off >= m->ram_size)
		return (off - m->ram_size) / PAGE;
	if (off < m->low_size)
		return off / PAGE;
	return (LAYOUT_HIGH_BASE + (off - m->low_size)) / PAGE;
}

/* Where the contiguous naming of off ends: RAM's low part, its high part
 * and the extra pages are named apart. */
static uint64_t region_end(const struct guest_mem *m, uint64_t off, uint64_t total)
{
	if (off < m->low_size)
		return m->low_size;
	if (off < m->ram_size)
		return m->ram_size;
	return total;
}

int mem_save(const struct guest_mem *m, uint64_t extra_pages, struct stream_writer *w)
{
	uint64_t total = m->ram_size + extra_pages * PAGE, off = 0;
	int rc = 0;

	while (off < total && rc == 0) {
		off_t data = lseek(m->memfd, (off_t)off, SEEK_DATA);
		off_t hole;

		if (data < 0)
			return errno == ENXIO ? w->error : -errno; /* ENXIO: no data after off */
		hole = lseek(m->memfd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		/* Extents are page-granular on shmem; round outwards anyway. */
		off = (uint64_t)data & ~(PAGE - 1);
		while (off < (uint64_t)hole && off < total && rc == 0) {
			uint64_t end = region_end(m, off, total);
			uint64_t stop = (uint64_t)hole < end ? ((uint64_t)hole + PAGE - 1) & ~(PAGE - 1) : end;
			uint64_t n = (stop - off) / PAGE;

			if (n > STREAM_MEM_CHUNK_PAGES)
				n = STREAM_MEM_CHUNK_PAGES;
			rc = put_chunk(m, off < m->ram_size ? STREAM_REC_MEMORY : STREAM_REC_EXTRA_MEMORY,
				       frame_of(m, off), off, (uint32_t)n, w);
			off += n * PAGE;
		}
	}
	return rc;
}

int mem_load(struct guest_mem *m, uint64_t extra_pages, struct stream_reader *r, const struct stream_record *rec)
{
	struct stream_cursor c;
	uint64_t frame, gpa, bytes;
	uint32_t count, zero;
	int64_t off;
	char why[128];

	if (rec->type != STREAM_REC_MEMORY && rec->type != STREAM_REC_EXTRA_MEMORY)
		return -ENOENT;
	stream_cursor_init(&c, rec);
	frame = stream_get_u64(&c);
	count = stream_get_u32(&c);
	zero = stream_get_u32(&c);
	if (c.short_read)
		return stream_reject(r, rec, "shorter than its 16-byte head (u64 frame, u32 count, u32 0)");
	if (zero)
		return stream_reject(r, rec, "reserved word is not 0");
	if (count == 0 || count > STREAM_MEM_CHUNK_PAGES) {
		snprintf(why, sizeof(why), "count %u, expected 1 to %u pages", count, STREAM_MEM_CHUNK_PAGES);
		return stream_reject(r, rec, why);
	}
	bytes = (uint64_t)count * PAGE;
	if (rec->len != STREAM_MEM_HEAD + bytes) {
		snprintf(why, sizeof(why), "length %u, expected %llu for %u pages", rec->len,
			 (unsigned long long)(STREAM_MEM_HEAD + bytes), count);
		return stream_reject(r, rec, why);
	}
	if (rec->type == STREAM_REC_EXTRA_MEMORY) {
		if (frame > extra_pages || count > extra_pages - frame) {
			snprintf(why, sizeof(why), "pages %llu..%llu, expected below %llu (special pages and grant frames)",
				 (unsigned long long)frame, (unsigned long long)(frame + count - 1),
				 (unsigned long long)extra_pages);
			return stream_reject(r, rec, why);
		}
		off = (int64_t)(m->ram_size + frame * PAGE);
	} else {
		off = gmem_pfn_gpa(frame, &gpa) < 0 ? -EFAULT : gmem_offset(m, gpa, bytes);
		if (off < 0) {
			snprintf(why, sizeof(why), "frames %#llx..%#llx are not all guest RAM",
				 (unsigned long long)frame, (unsigned long long)(frame + count - 1));
			return stream_reject(r, rec, why);
		}
	}
	memcpy(m->hva + off, rec->data + STREAM_MEM_HEAD, (size_t)bytes);
	return 0;
}
