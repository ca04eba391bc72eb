/* The save file's head (savefile.h). */
#include "savefile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domcfg.h"

static bool is_xs(uint32_t type)
{
	return (type >= STREAM_REC_XS_CONNECTION && type <= STREAM_REC_XS_NODE) ||
	       type == STREAM_REC_XS_ALIASES;
}

/* The monitor's first record is guest memory or, for a guest that touched
 * none (never: the kernel is loaded into RAM), the CLOCK. */
static bool is_monitor(uint32_t type)
{
	return type != STREAM_REC_END && type != STREAM_REC_CONFIG && type != STREAM_REC_UUID && !is_xs(type);
}

int savefile_write_head(int fd, const char *cfg, size_t cfg_len, const uint8_t *uuid, const void *xs_export,
			size_t xs_len, char *err, size_t errlen)
{
	struct stream_writer w;
	struct stream_reader r;
	struct stream_record rec;
	int rc;

	if (cfg_len > stream_rec_max_len(STREAM_REC_CONFIG)) {
		snprintf(err, errlen, "the configuration is %zu bytes, at most %u fit a save file", cfg_len,
			 stream_rec_max_len(STREAM_REC_CONFIG));
		return -EFBIG;
	}
	stream_writer_init_fd(&w, fd);
	stream_write_header(&w);
	rc = stream_write_record(&w, STREAM_REC_CONFIG, cfg, (uint32_t)cfg_len);
	if (rc == 0 && uuid)
		rc = stream_write_record(&w, STREAM_REC_UUID, uuid, 16);
	if (rc < 0) {
		snprintf(err, errlen, "writing the save file: %s", strerror(-rc));
		return rc;
	}
	if (!xs_export)
		return 0;
	stream_reader_init_mem(&r, xs_export, xs_len);
	rc = stream_read_header(&r);
	while (rc == 0) {
		rc = stream_read_record(&r, &rec);
		if (rc < 0 || rec.type == STREAM_REC_END)
			break;
		if (!is_xs(rec.type)) {
			rc = stream_reject(&r, &rec, "not a xenstore record");
			break;
		}
		rc = stream_write_record(&w, rec.type, rec.data, rec.len);
		if (rc < 0) {
			snprintf(err, errlen, "writing the save file: %s", strerror(-rc));
			return rc;
		}
	}
	if (rc < 0)
		snprintf(err, errlen, "xenstored's export: %s", stream_error(&r));
	stream_reader_fini(&r);
	return rc;
}

void savefile_head_free(struct savefile_head *h)
{
	free(h->cfg);
	h->cfg = NULL;
	stream_writer_fini(&h->xs);
}

/* The domid of an XS_CONNECTION record (u32 conn-id, u16 type, u16 flags,
 * u16 domid: docs/xenstored.md). */
static int xs_domid(struct stream_reader *r, const struct stream_record *rec, uint32_t *domid)
{
	struct stream_cursor c;

	stream_cursor_init(&c, rec);
	stream_get_u32(&c);
	stream_get_u16(&c);
	stream_get_u16(&c);
	*domid = stream_get_u16(&c);
	return c.short_read ? stream_reject(r, rec, "too short for its domain id") : 0;
}

int savefile_read(int fd, struct savefile_head *h, char *err, size_t errlen)
{
	struct stream_reader r;
	struct stream_record rec;
	bool have_xs = false, have_conn = false;
	int rc;

	*h = (struct savefile_head){ .xs_domid = UINT32_MAX };
	stream_writer_init_mem(&h->xs);
	stream_reader_init_fd(&r, fd);
	rc = stream_read_header(&r);
	if (rc == 0)
		rc = stream_read_record(&r, &rec);
	if (rc == 0 && rec.type != STREAM_REC_CONFIG)
		rc = stream_reject(&r, &rec, "expected the CONFIG record first");
	if (rc == 0 && !(h->cfg = malloc(rec.len + 1u)))
		rc = -ENOMEM;
	if (rc == 0) {
		memcpy(h->cfg, rec.data, rec.len);
		h->cfg[rec.len] = '\0';
		h->cfg_len = rec.len;
		if (strlen(h->cfg) != rec.len)
			rc = stream_reject(&r, &rec, "a NUL byte in the configuration text");
	}
	/* The uuid (older files lack it), then the xenstore records, up to
	 * the monitor's first. */
	if (rc == 0)
		rc = stream_read_record(&r, &rec);
	if (rc == 0 && rec.type == STREAM_REC_UUID) {
		if (rec.len != sizeof(h->uuid))
			rc = stream_reject(&r, &rec, "expected 16 bytes");
		if (rc == 0) {
			memcpy(h->uuid, rec.data, sizeof(h->uuid));
			h->has_uuid = true;
			rc = stream_read_record(&r, &rec);
		}
	}
	while (rc == 0 && is_xs(rec.type)) {
		if (!have_xs)
			stream_write_header(&h->xs);
		have_xs = true;
		if (rec.type == STREAM_REC_XS_CONNECTION) {
			if (have_conn)
				rc = stream_reject(&r, &rec, "second XS_CONNECTION record, expected one");
			have_conn = true;
			if (rc == 0)
				rc = xs_domid(&r, &rec, &h->xs_domid);
		}
		if (rc == 0)
			rc = stream_write_record(&h->xs, rec.type, rec.data, rec.len);
		if (rc == 0)
			rc = stream_read_record(&r, &rec);
	}
	if (rc == 0 && have_xs && !have_conn)
		rc = stream_reject(&r, &rec, "the xenstore records lack their XS_CONNECTION");
	if (rc == 0 && !is_monitor(rec.type))
		rc = stream_reject(&r, &rec, "expected the monitor's records (MEMORY ...) here");
	if (rc == 0) {
		h->monitor_offset = rec.offset;
		if (have_xs)
			rc = stream_write_end(&h->xs);
	}
	/* The rest only for its framing: the monitor checks the contents. */
	while (rc == 0 && rec.type != STREAM_REC_END) {
		rc = stream_read_record(&r, &rec);
		if (rc == 0 && !is_monitor(rec.type) && rec.type != STREAM_REC_END)
			rc = stream_reject(&r, &rec, "not a record of the monitor's state");
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", r.err[0] ? stream_error(&r) : strerror(-rc));
		savefile_head_free(h);
	}
	stream_reader_fini(&r);
	return rc;
}

/* The fields a restore cannot change, in the order they are checked. */
enum { F_TYPE, F_MEMORY, F_MAXMEM, F_VCPUS, F_MAXVCPUS };

static const struct {
	const char *key, *why;
} fixed[] = {
	[F_TYPE] = { "type", "the guest's type" },
	[F_MEMORY] = { "memory", "the guest's memory size" },
	[F_MAXMEM] = { "maxmem", "the guest's memory size" },
	[F_VCPUS] = { "vcpus", "the guest's vCPUs" },
	[F_MAXVCPUS] = { "maxvcpus", "the guest's vCPUs" },
};

static unsigned long long field(const struct domain_config *c, int f)
{
	switch (f) {
	case F_TYPE: return (unsigned long long)c->type;
	case F_MEMORY: return c->target_memkb >> 10;
	case F_MAXMEM: return c->max_memkb >> 10;
	case F_VCPUS: return (unsigned long long)c->vcpus;
	default: return (unsigned long long)c->max_vcpus;
	}
}

int savefile_check_config(const struct domain_config *saved, const struct domain_config *c, const char *cfg_name,
			  char *err, size_t errlen)
{
	for (int f = F_TYPE; f <= F_MAXVCPUS; f++) {
		if (field(c, f) == field(saved, f))
			continue;
		if (f == F_TYPE)
			snprintf(err, errlen, "%s: type=\"%s\" differs from the saved domain's \"%s\" (a restore keeps %s)",
				 cfg_name, dom_type_name(c->type), dom_type_name(saved->type), fixed[f].why);
		else
			snprintf(err, errlen, "%s: %s=%llu differs from the saved domain's %llu (a restore keeps %s)",
				 cfg_name, fixed[f].key, field(c, f), field(saved, f), fixed[f].why);
		return -EINVAL;
	}
	return 0;
}
