/* Wire helpers (see wire.h). */
#include "wire.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

unsigned wire_count_strings(const char *body, uint32_t len)
{
	unsigned n = 0;

	for (const char *p = body; (p = memchr(p, 0, (size_t)(body + len - p))) != NULL; p++)
		n++;
	return n;
}

const char *wire_onearg(const char *body, uint32_t len)
{
	const char *nul;

	if (len == 0)
		return NULL;
	nul = memchr(body, 0, len);
	return (nul == body + len - 1) ? body : NULL;
}

unsigned wire_strings(const char *body, uint32_t len, const char **vec, unsigned max)
{
	unsigned n = 0;
	const char *p = body, *end = body + len, *nul;

	while (p < end && (nul = memchr(p, 0, (size_t)(end - p))) != NULL) {
		if (n < max)
			vec[n] = p;
		n++;
		p = nul + 1;
	}
	return n;
}

const char *wire_errname(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EINVAL";
}

static const char *const type_names[XS_TYPE_COUNT] = {
	[XS_CONTROL] = "CONTROL",
	[XS_DIRECTORY] = "DIRECTORY",
	[XS_READ] = "READ",
	[XS_GET_PERMS] = "GET_PERMS",
	[XS_WATCH] = "WATCH",
	[XS_UNWATCH] = "UNWATCH",
	[XS_TRANSACTION_START] = "TRANSACTION_START",
	[XS_TRANSACTION_END] = "TRANSACTION_END",
	[XS_INTRODUCE] = "INTRODUCE",
	[XS_RELEASE] = "RELEASE",
	[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XS_WRITE] = "WRITE",
	[XS_MKDIR] = "MKDIR",
	[XS_RM] = "RM",
	[XS_SET_PERMS] = "SET_PERMS",
	[XS_WATCH_EVENT] = "WATCH_EVENT",
	[XS_ERROR] = "ERROR",
	[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XS_RESUME] = "RESUME",
	[XS_SET_TARGET] = "SET_TARGET",
	[XS_RESET_WATCHES] = "RESET_WATCHES",
	[XS_DIRECTORY_PART] = "DIRECTORY_PART",
};

const char *wire_typename(uint32_t type)
{
	return type < XS_TYPE_COUNT ? type_names[type] : NULL;
}

bool wire_header_ok(const struct xsd_sockmsg *hdr)
{
	/* xenstored_core.c handle_input: an over-long payload is a protocol
	 * violation; everything else gets an error reply. */
	return hdr->len <= XENSTORE_PAYLOAD_MAX;
}
