/* The layout of an `xl save` file (docs/save-restore.md): one domus save
 * stream (domus/stream.h) made by three writers in turn:
 *
 *   header                    DOMUSAV1, version 1            xl
 *   CONFIG                    the domain's xl.cfg text       xl
 *   UUID                      the domain's uuid (16 bytes)   xl (older files lack it)
 *   XS_CONNECTION, [XS_ALIASES], XS_WATCH..., XS_TRANSACTION..., XS_NODE...
 *                             xenstored's export of the domain, without
 *                             its header and END             xl (copied)
 *   MEMORY ... VCPU, END      the monitor's records          domus-vmm
 *
 * xl reads the head (header, CONFIG, xenstore records) itself and hands the
 * monitor a descriptor at the first record after it.  Pure functions over
 * descriptors and memory: the unit test drives them without a domain. */
#ifndef DOMUS_XL_SAVEFILE_H
#define DOMUS_XL_SAVEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domus/stream.h"

/* Writes the header, a CONFIG record of cfg, a UUID record of uuid (16
 * bytes; NULL: none) and the records of xs_export (a whole export file as
 * xenstored wrote it; NULL: none) to fd.  The export must be a stream of
 * xenstore records only. */
int savefile_write_head(int fd, const char *cfg, size_t cfg_len, const uint8_t *uuid, const void *xs_export,
			size_t xs_len, char *err, size_t errlen);

struct savefile_head {
	char *cfg; /* NUL-terminated, cfg_len bytes before the NUL */
	size_t cfg_len;
	uint8_t uuid[16]; /* the saved domain's, when has_uuid */
	bool has_uuid;
	/* The xenstore records as an export file of their own (header,
	 * records, END) for import-domain; len 0: the file had none. */
	struct stream_writer xs;
	uint32_t xs_domid;       /* the domain id the export was taken of */
	uint64_t monitor_offset; /* where the monitor's records begin */
};

/* Reads the head from fd (at offset 0) and then checks the framing of every
 * later record up to END, so that a file cut short or corrupted is refused
 * before anything starts; a refusal is one line naming the record and its
 * offset.  fd is left at an unspecified offset. */
int savefile_read(int fd, struct savefile_head *h, char *err, size_t errlen);
void savefile_head_free(struct savefile_head *h);

struct domain_config;
/* `xl restore CONFIG FILE`: the guest's memory size, vCPUs and type are in
 * the saved state, so CONFIG (c, both with libxl's build defaults) must give
 * the saved domain's (saved: its CONFIG record parsed): 0, or -EINVAL with
 * one line in err naming the field, cfg_name and the value that would do. */
int savefile_check_config(const struct domain_config *saved, const struct domain_config *c, const char *cfg_name,
			  char *err, size_t errlen);

#endif
