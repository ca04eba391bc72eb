/* The one JSON writer of domus (xl's `-N` and `list -l` output, and any
 * other program that prints JSON).  Its text is what libxl's generator
 * gives through yajl's beautifier (tools/libs/light/libxl_json.c
 * libxl_yajl_gen_alloc: yajl_gen_beautify, 4-space indent), so that
 * domus's output can be compared byte for byte with Xen's:
 *   - "{" or "[", a newline, each item on its own line, indented by four
 *     spaces per level, items separated by ",\n", then a newline, the
 *     closing indent and "}" or "]";
 *   - an empty object or array still gets its line break: "{\n\n<indent>}";
 *   - "key": value with one space;
 *   - strings escaped as yajl escapes them: \" \\ \b \f \n \r \t, other
 *     bytes below 0x20 as \u00XX (upper-case hex), '/' as it is, and every
 *     other byte as it is: libxl does not ask yajl to check UTF-8, so
 *     neither does this (a configuration's non-UTF-8 bytes come out as
 *     Xen's xl prints them, which a strict JSON reader refuses).
 * Errors (a write error of the stream, nesting deeper than JSON_MAX_DEPTH,
 * a close that does not match) are sticky: json_end() returns the first. */
#ifndef DOMUS_JSON_H
#define DOMUS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *f;
	int depth;
	int err;		     /* 0 or the first -errno */
	bool first[JSON_MAX_DEPTH];  /* no item yet at this level */
	char close[JSON_MAX_DEPTH];  /* '}' or ']' for this level */
};

void json_init(struct json_writer *w, FILE *f);
/* key: the member's name inside an object; NULL in an array or at the top. */
void json_object_open(struct json_writer *w, const char *key);
void json_array_open(struct json_writer *w, const char *key);
/* Closes the innermost object or array. */
void json_close(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *s);
void json_int(struct json_writer *w, const char *key, long long v);
void json_uint(struct json_writer *w, const char *key, uint64_t v);
void json_bool(struct json_writer *w, const char *key, bool v);
void json_null(struct json_writer *w, const char *key);
/* 0, or the first error: -EINVAL for unbalanced nesting (something left
 * open, a close too many, a second value at the top), -E2BIG for nesting
 * too deep, -EIO when the stream had an error. */
int json_end(struct json_writer *w);

#endif
