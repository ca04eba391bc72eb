/* The save stream (domus/stream.h): the record table, a writer and a reader. */
#include "domus/stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one table of record types.  max_len bounds what a reader will allocate
 * and accept, so a hostile length cannot make it read or allocate gigabytes;
 * each bound is the largest payload its writer in domus-vmm can produce
 * (docs/vmm-state.md lists the layouts). */
static const struct {
	const char *name;
	uint32_t max_len;
} rec_types[] = {
	[STREAM_REC_END] = { "END", 0 },
	/* u32 table size, u32 count, count x 20-byte ports (4096 ports at most) */
	[STREAM_REC_EVTCHN] = { "EVTCHN", 8 + 4096 * 20 },
	/* u32 nr_frames, u32 count, count x (u32 index, u32 0, u64 gpa), 64 frames at most */
	[STREAM_REC_GNTTAB] = { "GNTTAB", 8 + 64 * 16 },
	/* u32 count, u32 0, count x u64 (64 params at most) */
	[STREAM_REC_HVM_PARAMS] = { "HVM_PARAMS", 8 + 64 * 8 },
	/* u64 guest physical address, 0 if not placed */
	[STREAM_REC_SHARED_INFO] = { "SHARED_INFO", 8 },
	/* u64 clock, u32 flags, u32 0, u64 realtime, u64 host_tsc */
	[STREAM_REC_CLOCK] = { "CLOCK", 32 },
	/* 2 x 16-byte PIC, IOAPIC: 24-byte head and 24 x u64 redirection entries */
	[STREAM_REC_IRQCHIP] = { "IRQCHIP", 248 },
	/* 3 x 24-byte channels, u32 flags, u32 0 */
	[STREAM_REC_PIT] = { "PIT", 80 },
	/* u16 sts, u16 en, u16 cnt, u8 reset, u8 0, u64 timer ns */
	[STREAM_REC_ACPI_PM] = { "ACPI_PM", 16 },
	/* u32 id, u32 0, 11 sections of u32 tag, u32 length, payload padded to 8:
	 * REGS 144, SREGS 320, XSAVE 8 + 16384 at most, XCRS 8 + 16 x 16,
	 * DEBUGREGS 56, EVENTS 40, MP_STATE 8, LAPIC 1024, MSRS 8 + 64 x 16,
	 * TSC 16, XEN 104 (vmm/state/vcpu_rec.h VCPU_REC_MAX_LEN) */
	[STREAM_REC_VCPU] = { "VCPU", 8 + 11 * 8 + 144 + 320 + 8 + 16384 + 8 + 16 * 16 + 56 + 40 + 8 + 1024 +
					      8 + 64 * 16 + 16 + 104 },
	/* u64 frame, u32 count, u32 0, count pages */
	[STREAM_REC_MEMORY] = { "MEMORY", STREAM_MEM_HEAD + STREAM_MEM_CHUNK_PAGES * 4096 },
	[STREAM_REC_EXTRA_MEMORY] = { "EXTRA_MEMORY", STREAM_MEM_HEAD + STREAM_MEM_CHUNK_PAGES * 4096 },
	/* u32 devid, u32 device part's length, u32 state, u32 frontend state,
	 * u32 flags, u32 0, the device's part (a vbd's rings: up to 2048,
	 * vmm/xenbus/xb_xs.h XB_XS_REC_MAX) */
	[STREAM_REC_XENBUS] = { "XENBUS", 24 + 2048 },
	/* 28 bytes, a partial request (at most a header and a payload), and
	 * queued output: a domain's queue is bounded by its memory quota
	 * (2.5 MiB by default); 8 MiB leaves room for a raised one. */
	[STREAM_REC_XS_CONNECTION] = { "XS_CONNECTION", 28 + 16 + 4096 + (8u << 20) },
	/* 8 bytes, then path and token: together one request's payload */
	[STREAM_REC_XS_WATCH] = { "XS_WATCH", 8 + 4096 },
	/* u32 conn-id, u32 tx-id */
	[STREAM_REC_XS_TRANSACTION] = { "XS_TRANSACTION", 8 },
	/* 16 bytes, 4 per permission, path and value: a node's path (3072) and
	 * value (4096) and the permissions that fit one request */
	[STREAM_REC_XS_NODE] = { "XS_NODE", 16 + 4 * 2048 + 3073 + 4096 },
	/* u16 version 1, u16 count (1..4), count x u16 old domain id, padding
	 * to 8: the room of 16 ids for a later version */
	[STREAM_REC_XS_ALIASES] = { "XS_ALIASES", 4 + 2 * 16 },
	/* xl's parser takes files of up to 1 MiB (xl/cfg) */
	[STREAM_REC_CONFIG] = { "CONFIG", 1u << 20 },
	/* what `xl list -v` shows, as bytes */
	[STREAM_REC_UUID] = { "UUID", 16 },
};

#define NR_REC_TYPES (sizeof(rec_types) / sizeof(rec_types[0]))

const char *stream_rec_name(uint32_t type)
{
	return type < NR_REC_TYPES ? rec_types[type].name : NULL;
}

uint32_t stream_rec_max_len(uint32_t type)
{
	return type < NR_REC_TYPES && rec_types[type].name ? rec_types[type].max_len : 0;
}

static uint32_t padded(uint32_t len)
{
	return (uint32_t)(((uint64_t)len + 7) & ~7ULL);
}

static void le_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* ---- writer ---- */

void stream_writer_init_fd(struct stream_writer *w, int fd)
{
	*w = (struct stream_writer){ .fd = fd };
}

void stream_writer_init_mem(struct stream_writer *w)
{
	*w = (struct stream_writer){ .fd = -1 };
}

void stream_writer_fini(struct stream_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

static int emit(struct stream_writer *w, const void *p, size_t len)
{
	const uint8_t *b = p;

	if (w->error)
		return w->error;
	if (w->fd < 0) {
		if (len > w->cap - w->len) {
			size_t cap = w->cap ? w->cap : 256;
			uint8_t *nb;

			while (cap - w->len < len) {
				if (cap > SIZE_MAX / 2)
					return w->error = -ENOMEM;
				cap *= 2;
			}
			nb = realloc(w->buf, cap);
			if (!nb)
				return w->error = -ENOMEM;
			w->buf = nb;
			w->cap = cap;
		}
		if (len)
			memcpy(w->buf + w->len, b, len);
		w->len += len;
	} else {
		while (len) {
			ssize_t n = write(w->fd, b, len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return w->error = n < 0 ? -errno : -EIO;
			b += n;
			len -= (size_t)n;
			w->off += (uint64_t)n;
		}
		return 0;
	}
	w->off += len;
	return 0;
}

int stream_write_header(struct stream_writer *w)
{
	uint8_t h[STREAM_HEADER_SIZE] = { 0 };

	le_put(h, STREAM_MAGIC, 8);
	le_put(h + 8, STREAM_VERSION, 4);
	return emit(w, h, sizeof(h));
}

int stream_write_record(struct stream_writer *w, uint32_t type, const void *payload, uint32_t len)
{
	static const uint8_t zeros[8];
	uint8_t h[STREAM_REC_HEADER_SIZE];

	/* A writer that breaks the table's rules would write a stream no
	 * reader takes: refuse it here, where the bug is. */
	if (!stream_rec_name(type) || len > stream_rec_max_len(type))
		return w->error ? w->error : (w->error = -EINVAL);
	le_put(h, type, 4);
	le_put(h + 4, len, 4);
	emit(w, h, sizeof(h));
	emit(w, payload, len);
	return emit(w, zeros, padded(len) - len);
}

int stream_write_end(struct stream_writer *w)
{
	return stream_write_record(w, STREAM_REC_END, NULL, 0);
}

int stream_put_u8(struct stream_writer *w, uint8_t v)
{
	return emit(w, &v, 1);
}

int stream_put_u16(struct stream_writer *w, uint16_t v)
{
	uint8_t b[2];

	le_put(b, v, 2);
	return emit(w, b, 2);
}

int stream_put_u32(struct stream_writer *w, uint32_t v)
{
	uint8_t b[4];

	le_put(b, v, 4);
	return emit(w, b, 4);
}

int stream_put_u64(struct stream_writer *w, uint64_t v)
{
	uint8_t b[8];

	le_put(b, v, 8);
	return emit(w, b, 8);
}

int stream_put_bytes(struct stream_writer *w, const void *p, size_t len)
{
	return emit(w, p, len);
}

/* ---- reader ---- */

void stream_reader_init_fd(struct stream_reader *r, int fd)
{
	*r = (struct stream_reader){ .fd = fd };
}

void stream_reader_init_mem(struct stream_reader *r, const void *buf, size_t len)
{
	*r = (struct stream_reader){ .fd = -1, .mem = buf, .mem_len = len };
}

void stream_reader_fini(struct stream_reader *r)
{
	free(r->payload);
	r->payload = NULL;
	r->cap = 0;
}

const char *stream_error(const struct stream_reader *r)
{
	return r->err[0] ? r->err : "no error";
}

__attribute__((format(printf, 3, 4)))
static int fail(struct stream_reader *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* Up to len bytes at the current offset: into buf (fd) or by pointer
 * (memory).  *got says how many there were before the stream ended. */
static int take(struct stream_reader *r, uint8_t *buf, size_t len, const uint8_t **out, size_t *got)
{
	*got = 0;
	if (r->fd < 0) {
		size_t left = r->off < r->mem_len ? r->mem_len - (size_t)r->off : 0;

		*got = len < left ? len : left;
		*out = r->mem + r->off;
	} else {
		while (*got < len) {
			ssize_t n = read(r->fd, buf + *got, len - *got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				break;
			*got += (size_t)n;
		}
		*out = buf;
	}
	r->off += *got;
	return 0;
}

int stream_read_header(struct stream_reader *r)
{
	uint8_t h[STREAM_HEADER_SIZE];
	const uint8_t *p;
	size_t got;
	uint64_t magic;
	uint32_t version;
	int rc = take(r, h, sizeof(h), &p, &got);

	if (rc < 0)
		return fail(r, rc, "stream header at offset 0: read failed: %s", strerror(-rc));
	if (got < sizeof(h))
		return fail(r, -EBADMSG, "stream header at offset 0: truncated, expected %u bytes, got %zu",
			    STREAM_HEADER_SIZE, got);
	magic = le_get(p, 8);
	version = (uint32_t)le_get(p + 8, 4);
	if (magic != STREAM_MAGIC)
		return fail(r, -EBADMSG, "stream header at offset 0: bad magic %#llx, expected %#llx (not a domus save stream)",
			    (unsigned long long)magic, (unsigned long long)STREAM_MAGIC);
	if (version != STREAM_VERSION)
		return fail(r, -EPROTONOSUPPORT, "stream header at offset 8: version %u, expected %u",
			    version, STREAM_VERSION);
	if (le_get(p + 12, 4) != 0)
		return fail(r, -EBADMSG, "stream header at offset 12: reserved word %#x, expected 0",
			    (unsigned)le_get(p + 12, 4));
	return 0;
}

int stream_read_record(struct stream_reader *r, struct stream_record *rec)
{
	uint8_t h[STREAM_REC_HEADER_SIZE];
	const uint8_t *p;
	const char *name;
	uint64_t at = r->off;
	uint32_t type, len, plen;
	size_t got;
	int rc;

	if (r->ended)
		return fail(r, -EBADMSG, "offset %llu: read past the END record", (unsigned long long)at);
	rc = take(r, h, sizeof(h), &p, &got);
	if (rc < 0)
		return fail(r, rc, "record header at offset %llu: read failed: %s", (unsigned long long)at,
			    strerror(-rc));
	if (got < sizeof(h))
		return fail(r, -EBADMSG, "record header at offset %llu: truncated, expected %u bytes, got %zu (no END record)",
			    (unsigned long long)at, STREAM_REC_HEADER_SIZE, got);
	type = (uint32_t)le_get(p, 4);
	len = (uint32_t)le_get(p + 4, 4);
	name = stream_rec_name(type);
	if (!name)
		return fail(r, -EBADMSG, "record type %u at offset %llu: unknown type, expected one of the table (0..%zu)",
			    type, (unsigned long long)at, NR_REC_TYPES - 1);
	if (len > stream_rec_max_len(type))
		return fail(r, -EBADMSG, "record %s at offset %llu: length %u, expected at most %u",
			    name, (unsigned long long)at, len, stream_rec_max_len(type));
	plen = padded(len);
	if (r->fd >= 0 && plen > r->cap) {
		uint8_t *nb = realloc(r->payload, plen);

		if (!nb)
			return fail(r, -ENOMEM, "record %s at offset %llu: no memory for %u bytes",
				    name, (unsigned long long)at, plen);
		r->payload = nb;
		r->cap = plen;
	}
	rc = take(r, r->payload, plen, &p, &got);
	if (rc < 0)
		return fail(r, rc, "record %s at offset %llu: read failed: %s", name, (unsigned long long)at,
			    strerror(-rc));
	if (got < plen)
		return fail(r, -EBADMSG, "record %s at offset %llu: truncated, expected %u payload bytes with padding, got %zu",
			    name, (unsigned long long)at, plen, got);
	for (uint32_t i = len; i < plen; i++) {
		if (p[i] != 0)
			return fail(r, -EBADMSG, "record %s at offset %llu: padding byte %u is %#x, expected 0",
				    name, (unsigned long long)at, i, p[i]);
	}
	*rec = (struct stream_record){ .type = type, .len = len, .offset = at, .data = p };
	if (type == STREAM_REC_END)
		r->ended = 1;
	r->err[0] = 0;
	return 0;
}

int stream_reject(struct stream_reader *r, const struct stream_record *rec, const char *why)
{
	const char *name = stream_rec_name(rec->type);

	return fail(r, -EBADMSG, "record %s at offset %llu: %s", name ? name : "?",
		    (unsigned long long)rec->offset, why);
}

/* ---- payload cursor ---- */

void stream_cursor_init(struct stream_cursor *c, const struct stream_record *rec)
{
	*c = (struct stream_cursor){ .p = rec->data, .len = rec->len };
}

static uint64_t cursor_get(struct stream_cursor *c, int n)
{
	uint64_t v;

	if (c->short_read || c->len - c->off < (size_t)n) {
		c->short_read = 1;
		return 0;
	}
	v = le_get(c->p + c->off, n);
	c->off += (size_t)n;
	return v;
}

uint8_t stream_get_u8(struct stream_cursor *c)
{
	return (uint8_t)cursor_get(c, 1);
}

uint16_t stream_get_u16(struct stream_cursor *c)
{
	return (uint16_t)cursor_get(c, 2);
}

uint32_t stream_get_u32(struct stream_cursor *c)
{
	return (uint32_t)cursor_get(c, 4);
}

uint64_t stream_get_u64(struct stream_cursor *c)
{
	return cursor_get(c, 8);
}

int stream_cursor_done(const struct stream_cursor *c)
{
	return c->short_read || c->off != c->len ? -EBADMSG : 0;
}
