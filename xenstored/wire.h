/* Xen's xenstore wire format (xen/io/xs_wire.h): a struct xsd_sockmsg
 * header, then `len` <= XENSTORE_PAYLOAD_MAX bytes of NUL-terminated strings
 * (a WRITE's value may hold anything).  These helpers never read past `len`. */
#ifndef XSD_WIRE_H
#define XSD_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include <errno.h> /* before xs_wire.h: it defines xsd_errors[] only with EINVAL */
#include <xen/io/xs_wire.h>

/* Payload buffer: one spare byte so the body is always NUL-terminated. */
#define WIRE_BODY_MAX (XENSTORE_PAYLOAD_MAX + 1)

/* Number of NUL-terminated strings (Xen's xs_count_strings). */
unsigned wire_count_strings(const char *body, uint32_t len);
/* The single argument if the body is exactly one string ending at `len`
 * (Xen's onearg), else NULL. */
const char *wire_onearg(const char *body, uint32_t len);
/* Pointers to the first `max` strings; returns the count of all strings. */
unsigned wire_strings(const char *body, uint32_t len, const char **vec, unsigned max);
/* The wire name of an error: "EINVAL" etc.; EINVAL for unknown ones. */
const char *wire_errname(int err);
/* The name of a message type for logs; NULL if unknown. */
const char *wire_typename(uint32_t type);
/* Header checks done before a payload is read: false means the peer broke
 * the protocol (Xen closes the connection). */
bool wire_header_ok(const struct xsd_sockmsg *hdr);

#endif
