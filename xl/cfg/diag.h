/* Diagnostics of the xl.cfg parser: errors and warnings as complete lines.
 *
 * The parser is library code: it does not print.  It formats each message
 * as the user will see it and hands it to the caller's emit() callback
 * (xl prints to stderr; tests and the fuzzer collect or drop them).
 * Line formats (docs/xl-cfg.md):
 *   FILE:LINE:COL: message                  syntax (lexer/grammar)
 *   FILE:LINE: FIELD: message               semantic error
 *   FILE:LINE: FIELD: warning: message      semantic warning
 *   FILE: FIELD: message                    no line (missing key, command line) */
#ifndef DOMUS_XLCFG_DIAG_H
#define DOMUS_XLCFG_DIAG_H

#include <stdarg.h>

enum cfg_sev { CFG_SEV_ERROR, CFG_SEV_WARNING };

struct cfg_diag {
	void (*emit)(void *opaque, enum cfg_sev sev, const char *line); /* NULL: counted only */
	void *opaque;
	unsigned errors, warnings;
	unsigned max_errors; /* 0: no limit; after this many, further errors are counted only */
};

/* source may be NULL (then "config"); line 0 means "no line"; col 0 means
 * "no column"; field may be NULL. */
void cfg_diag_report(struct cfg_diag *d, enum cfg_sev sev, const char *source, unsigned line,
		     unsigned col, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

void cfg_diag_vreport(struct cfg_diag *d, enum cfg_sev sev, const char *source, unsigned line,
		      unsigned col, const char *field, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

#define cfg_err(d, src, line, field, ...) \
	cfg_diag_report((d), CFG_SEV_ERROR, (src), (line), 0, (field), __VA_ARGS__)
#define cfg_warn(d, src, line, field, ...) \
	cfg_diag_report((d), CFG_SEV_WARNING, (src), (line), 0, (field), __VA_ARGS__)

#endif
