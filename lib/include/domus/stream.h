/* The save stream shared by xl, domus-vmm and xenstored (a domain's export,
 * docs/xenstored.md): a header, then typed records, then an end record.
 *
 *   header   u64 magic STREAM_MAGIC, u32 version STREAM_VERSION, u32 0
 *   record   u32 type, u32 length, payload[length], zero padding to 8 bytes
 *   ...
 *   end      type STREAM_REC_END, length 0
 *
 * Every integer is little-endian (the stream is x86-64 state only).  A record
 * type exists only as a row of the one table in stream.c: the reader refuses
 * any other type, a record longer than its row allows, a truncated record and
 * non-zero padding, each with one line naming the record and its offset.
 * Nothing here logs; errors come back as -errno plus stream_error(). */
#ifndef DOMUS_STREAM_H
#define DOMUS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define STREAM_MAGIC 0x31564153554d4f44ULL /* "DOMUSAV1" read as a little-endian u64 */
#define STREAM_VERSION 1u
#define STREAM_HEADER_SIZE 16u
#define STREAM_REC_HEADER_SIZE 8u
#define STREAM_ERR_MAX 192

/* Record types.  Numbers are forever: a retired type keeps its number. */
enum stream_rec_type {
	STREAM_REC_END = 0,
	STREAM_REC_EVTCHN = 1,     /* the event-channel port table */
	STREAM_REC_GNTTAB = 2,     /* grant-table size and frame placement */
	STREAM_REC_HVM_PARAMS = 3, /* every HVM param */
	STREAM_REC_SHARED_INFO = 4, /* where the guest placed shared_info */
	STREAM_REC_CLOCK = 5,      /* KVM's kvmclock and the host time it was read at */
	STREAM_REC_IRQCHIP = 6,    /* in-kernel PIC master, PIC slave, IOAPIC */
	STREAM_REC_PIT = 7,        /* in-kernel 8254 */
	STREAM_REC_ACPI_PM = 8,    /* ACPI PM1 registers and the PM timer */
	STREAM_REC_VCPU = 9,       /* one vCPU: registers, FPU, LAPIC, MSRs, events, Xen attrs */
	STREAM_REC_MEMORY = 10,    /* guest RAM pages the guest touched, by guest frame number */
	STREAM_REC_EXTRA_MEMORY = 11, /* the special pages and grant frames (after RAM in the memfd) */
	STREAM_REC_XENBUS = 12,    /* one xenbus back end's state (docs/xenbus.md) */
	/* xenstored's export of one domain (docs/xenstored.md, "Export and
	 * import"): Xen's xenstore migration record types plus 0x100 (Xen's
	 * docs/designs/xenstore-migration.md, "Records"). */
	STREAM_REC_XS_CONNECTION = 0x102, /* Xen's CONNECTION_DATA */
	STREAM_REC_XS_WATCH = 0x103,	  /* Xen's WATCH_DATA */
	STREAM_REC_XS_TRANSACTION = 0x104, /* Xen's TRANSACTION_DATA */
	STREAM_REC_XS_NODE = 0x105,	  /* Xen's NODE_DATA */
	/* domus's own, clear of Xen's types plus 0x100: the old ids of a
	 * domain restored under new ones (docs/xenstored.md, "A new id"). */
	STREAM_REC_XS_ALIASES = 0x180,
	/* xl's part of a save file (docs/save-restore.md). */
	STREAM_REC_CONFIG = 0x200, /* the domain's xl.cfg text, as xl read it */
	STREAM_REC_UUID = 0x201,   /* the saved domain's uuid, 16 bytes (RFC 4122 order) */
};

/* A MEMORY or EXTRA_MEMORY record: u64 first frame, u32 count, u32 0, then
 * count pages.  A chunk is at most this many pages, so that a reader never
 * holds more than one megabyte of it. */
#define STREAM_MEM_CHUNK_PAGES 256u
#define STREAM_MEM_HEAD 16u

/* The record type's name ("EVTCHN"), or NULL for a type the table lacks. */
const char *stream_rec_name(uint32_t type);
/* The largest payload the table allows for the type (0 if unknown). */
uint32_t stream_rec_max_len(uint32_t type);

/* A writer appends to an fd or, for tests and for building one record's
 * payload, to a growing memory buffer.  The first failure sticks: later calls
 * return it, so a saver may check only the last one. */
struct stream_writer {
	int fd;       /* -1: memory */
	uint8_t *buf; /* memory: the bytes so far */
	size_t len, cap;
	uint64_t off; /* bytes written in all */
	int error;
};

void stream_writer_init_fd(struct stream_writer *w, int fd);
void stream_writer_init_mem(struct stream_writer *w);
void stream_writer_fini(struct stream_writer *w);
int stream_write_header(struct stream_writer *w);
int stream_write_record(struct stream_writer *w, uint32_t type, const void *payload, uint32_t len);
int stream_write_end(struct stream_writer *w);

/* Payload builders: append little-endian integers or bytes to a memory
 * writer (the payload of one record). */
int stream_put_u8(struct stream_writer *w, uint8_t v);
int stream_put_u16(struct stream_writer *w, uint16_t v);
int stream_put_u32(struct stream_writer *w, uint32_t v);
int stream_put_u64(struct stream_writer *w, uint64_t v);
int stream_put_bytes(struct stream_writer *w, const void *p, size_t len);

/* One record as read: data is valid until the next read or fini. */
struct stream_record {
	uint32_t type;
	uint32_t len;
	uint64_t offset; /* of its header in the stream */
	const uint8_t *data;
};

struct stream_reader {
	int fd;             /* -1: memory */
	const uint8_t *mem; /* memory: the whole stream */
	size_t mem_len;
	uint64_t off;
	uint8_t *payload; /* fd: the current record's payload */
	size_t cap;
	int ended;
	char err[STREAM_ERR_MAX];
};

void stream_reader_init_fd(struct stream_reader *r, int fd);
void stream_reader_init_mem(struct stream_reader *r, const void *buf, size_t len);
void stream_reader_fini(struct stream_reader *r);
/* -EBADMSG for a bad magic, -EPROTONOSUPPORT for another version. */
int stream_read_header(struct stream_reader *r);
/* The next record; the end record comes back as STREAM_REC_END, after which
 * nothing more is read.  -EBADMSG for an unknown, oversize, truncated or
 * badly padded record; -errno of a failed read. */
int stream_read_record(struct stream_reader *r, struct stream_record *rec);
/* Why the last call failed: one line, naming the record and its offset. */
const char *stream_error(const struct stream_reader *r);
/* For a record's consumer: record a one-line error about rec. */
int stream_reject(struct stream_reader *r, const struct stream_record *rec, const char *why);

/* Payload parsing: reads little-endian integers from a record, never past
 * its end.  The first short read sticks in `short_read`. */
struct stream_cursor {
	const uint8_t *p;
	size_t len, off;
	int short_read;
};

void stream_cursor_init(struct stream_cursor *c, const struct stream_record *rec);
uint8_t stream_get_u8(struct stream_cursor *c);
uint16_t stream_get_u16(struct stream_cursor *c);
uint32_t stream_get_u32(struct stream_cursor *c);
uint64_t stream_get_u64(struct stream_cursor *c);
/* 0 when every byte was consumed and none was missing. */
int stream_cursor_done(const struct stream_cursor *c);

#endif
