/* Formatting of parser diagnostics (see diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>

void cfg_diag_report(struct cfg_diag *d, enum cfg_sev sev, const char *source, unsigned line,
		     unsigned col, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_diag_vreport(d, sev, source, line, col, field, fmt, ap);
	va_end(ap);
}

void cfg_diag_vreport(struct cfg_diag *d, enum cfg_sev sev, const char *source, unsigned line,
		      unsigned col, const char *field, const char *fmt, va_list ap)
{
	char where[512], msg[768], out[1400];
	const char *warn = sev == CFG_SEV_WARNING ? "warning: " : "";
	int n;

	if (sev == CFG_SEV_ERROR) {
		d->errors++;
		if (d->max_errors && d->errors > d->max_errors) {
			if (d->errors == d->max_errors + 1 && d->emit)
				d->emit(d->opaque, sev, "too many errors; stopping here");
			return;
		}
	} else {
		d->warnings++;
	}
	if (!d->emit)
		return;
	if (!source)
		source = "config";
	if (line && col)
		n = snprintf(where, sizeof(where), "%s:%u:%u", source, line, col);
	else if (line)
		n = snprintf(where, sizeof(where), "%s:%u", source, line);
	else
		n = snprintf(where, sizeof(where), "%s", source);
	if (n < 0)
		where[0] = 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (field)
		snprintf(out, sizeof(out), "%s: %s: %s%s", where, field, warn, msg);
	else
		snprintf(out, sizeof(out), "%s: %s%s", where, warn, msg);
	d->emit(d->opaque, sev, out);
}
