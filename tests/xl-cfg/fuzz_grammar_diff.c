/* Differential libFuzzer target: domus's xl.cfg grammar (cfg_parse)
 * against Xen's libxlutil (xlu_cfg_readdata).  Both must accept or both
 * refuse, and every value domus reads must be the one Xen reads (strings,
 * lists, nested lists; the last of repeated keys; "+=").
 * Inputs are skipped where domus differs on purpose or Xen has a bug:
 *   '-'           domus lexes negative numbers (for better messages);
 *   \x.. \0..     Xen's numeric escapes do not store the character
 *                 (libxlu_cfg.c: NUMERIC_CHAR);
 *   bytes >= 0x80 typographic quotes get domus's own message, Xen refuses too;
 *   NUL, no final newline: Xen's lexer drops an error at end of input;
 *   more than 8 '[': domus's nesting bound. */
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_list(const XLU_Config *cfg, const XLU_ConfigList *l, const struct cfg_value *v);

static bool same_value(const XLU_Config *cfg, XLU_ConfigValue *xv, const struct cfg_value *v)
{
	XLU_ConfigList *l;
	char *s;

	if (v->kind == CFG_LIST)
		return xlu_cfg_value_type(xv) == XLU_LIST && !xlu_cfg_value_get_list(cfg, xv, &l, 1) &&
		       same_list(cfg, l, v);
	return xlu_cfg_value_type(xv) == XLU_STRING && !xlu_cfg_value_get_string(cfg, xv, &s, 1) &&
	       !strcmp(s, v->str);
}

static bool same_list(const XLU_Config *cfg, const XLU_ConfigList *l, const struct cfg_value *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		XLU_ConfigValue *xv = xlu_cfg_get_listitem2(l, (int)i);

		if (!xv || !same_value(cfg, xv, &v->items[i]))
			return false;
	}
	return !xlu_cfg_get_listitem2(l, (int)i);
}

static bool skipped(const uint8_t *data, size_t size)
{
	size_t brackets = 0;

	if (!size || data[size - 1] != '\n')
		return true;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '-' || data[i] >= 0x80 || data[i] == 0)
			return true;
		if (data[i] == '\\' && i + 1 < size &&
		    (data[i + 1] == 'x' || (data[i + 1] >= '0' && data[i + 1] <= '9')))
			return true;
		brackets += data[i] == '[';
	}
	return brackets > 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct cfg_diag d = { .emit = NULL }; /* messages counted, not formatted */
	struct cfg_file f;
	XLU_Config *cfg;
	int ro, rx;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	if (skipped(data, size))
		return 0;
	cfg_file_init(&f);
	ro = cfg_parse(&f, "fuzz", (const char *)data, size, &d);
	cfg = xlu_cfg_init(devnull, "fuzz");
	if (!cfg)
		abort();
	rx = xlu_cfg_readdata(cfg, (const char *)data, (int)size);
	if ((ro == 0) != (rx == 0)) {
		fprintf(stderr, "domus %s it, Xen %s it\n", ro ? "refuses" : "accepts",
			rx ? "refuses" : "accepts");
		abort();
	}
	for (size_t i = 0; !ro && i < f.n; i++) {
		const struct cfg_entry *e = &f.e[i];
		XLU_ConfigList *l;
		const char *s;
		int n;
		bool ok;

		if (e->val.kind == CFG_LIST)
			ok = !xlu_cfg_get_list(cfg, e->key, &l, &n, 1) && n == (int)e->val.n &&
			     same_list(cfg, l, &e->val);
		else
			ok = !xlu_cfg_get_string(cfg, e->key, &s, 1) && !strcmp(s, e->val.str);
		if (!ok) {
			fprintf(stderr, "the value of %s differs\n", e->key);
			abort();
		}
	}
	xlu_cfg_destroy(cfg);
	cfg_file_dispose(&f);
	return 0;
}
