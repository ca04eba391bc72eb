/* The JSON writer (domus/json.h): yajl's beautified text. */
#include "domus/json.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

void json_init(struct json_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->first[0] = true;
}

static void indent(struct json_writer *w)
{
	for (int i = 0; i < w->depth; i++)
		fputs("    ", w->f);
}

/* As yajl_string_encode() without yajl_gen_escape_solidus: the two JSON
 * escapes that must be, the short ones for \b \f \n \r \t, \u00XX in
 * upper-case hex for the other control bytes, every other byte as it is. */
static void put_string(struct json_writer *w, const char *s)
{
	fputc('"', w->f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", w->f); break;
		case '\\': fputs("\\\\", w->f); break;
		case '\n': fputs("\\n", w->f); break;
		case '\r': fputs("\\r", w->f); break;
		case '\t': fputs("\\t", w->f); break;
		case '\b': fputs("\\b", w->f); break;
		case '\f': fputs("\\f", w->f); break;
		default:
			if (*p < 0x20)
				fprintf(w->f, "\\u%04X", *p);
			else
				fputc(*p, w->f);
		}
	}
	fputc('"', w->f);
}

/* Before each value: the separator and, in an object, the key.  false when
 * nothing may be written any more. */
static bool pre(struct json_writer *w, const char *key)
{
	if (w->err)
		return false;
	if (w->depth == 0 && !w->first[0]) {
		w->err = -EINVAL; /* a second value at the top */
		return false;
	}
	if (w->depth > 0) {
		fputs(w->first[w->depth] ? "\n" : ",\n", w->f);
		indent(w);
	}
	w->first[w->depth] = false;
	if (key) {
		put_string(w, key); /* keys are quoted like any string */
		fputs(": ", w->f);
	}
	return true;
}

static void open_(struct json_writer *w, const char *key, char open, char close)
{
	if (!pre(w, key))
		return;
	if (w->depth + 1 >= JSON_MAX_DEPTH) {
		w->err = -E2BIG;
		return;
	}
	fputc(open, w->f);
	w->depth++;
	w->first[w->depth] = true;
	w->close[w->depth] = close;
}

void json_object_open(struct json_writer *w, const char *key)
{
	open_(w, key, '{', '}');
}

void json_array_open(struct json_writer *w, const char *key)
{
	open_(w, key, '[', ']');
}

void json_close(struct json_writer *w)
{
	if (w->err)
		return;
	if (w->depth == 0) {
		w->err = -EINVAL;
		return;
	}
	/* yajl's beautifier: an empty container still gets its newline */
	if (w->first[w->depth])
		fputc('\n', w->f);
	fputc('\n', w->f);
	w->depth--;
	indent(w);
	fputc(w->close[w->depth + 1], w->f);
}

void json_string(struct json_writer *w, const char *key, const char *s)
{
	if (pre(w, key))
		put_string(w, s);
}

void json_int(struct json_writer *w, const char *key, long long v)
{
	if (pre(w, key))
		fprintf(w->f, "%lld", v);
}

void json_uint(struct json_writer *w, const char *key, uint64_t v)
{
	if (pre(w, key))
		fprintf(w->f, "%" PRIu64, v);
}

void json_bool(struct json_writer *w, const char *key, bool v)
{
	if (pre(w, key))
		fputs(v ? "true" : "false", w->f);
}

void json_null(struct json_writer *w, const char *key)
{
	if (pre(w, key))
		fputs("null", w->f);
}

int json_end(struct json_writer *w)
{
	if (!w->err && w->depth != 0)
		w->err = -EINVAL;
	if (!w->err && ferror(w->f))
		w->err = -EIO;
	return w->err;
}
