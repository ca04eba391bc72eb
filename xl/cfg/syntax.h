/* The generic layer of the xl.cfg parser: the grammar of xl.cfg(5), nothing
 * about what keys mean (that is domcfg.c).
 *
 *   file   := { stmt }
 *   stmt   := NEWLINE | ';' | KEY ('=' | '+=') value (NEWLINE | ';' | EOF)
 *   value  := STRING | NUMBER | '[' { value ',' } [ value ] ']'   (newlines allowed inside [])
 *   KEY    := [a-z][a-z0-9_.]*        NUMBER := -?[0-9][0-9a-fx]*
 *   STRING := '...' or "..." on one line, with \\ \' \" \n \t \r \a \b \f \v \xHH \ooo escapes
 *   '#' starts a comment that runs to the end of the line.
 * This is the language of Xen's libxlu_cfg_l.l/libxlu_cfg_y.y; the one
 * extension is a leading '-' on numbers, so "memory = -1" gets a semantic
 * error naming the key instead of a lexical error. */
#ifndef DOMUS_XLCFG_SYNTAX_H
#define DOMUS_XLCFG_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum cfg_vkind { CFG_STRING, CFG_NUMBER, CFG_LIST };

struct cfg_value {
	enum cfg_vkind kind;
	const char *source; /* owned by the cfg_file; items appended by "+=" keep theirs */
	unsigned line, col;
	char *str;		  /* CFG_STRING (unquoted, unescaped) and CFG_NUMBER (as written) */
	struct cfg_value *items;  /* CFG_LIST */
	size_t n;
};

struct cfg_entry {
	char *key;
	const char *source; /* owned by the cfg_file (sources[]) */
	unsigned line, col;
	bool append; /* "+=" */
	struct cfg_value val;
};

struct cfg_file {
	struct cfg_entry *e;
	size_t n;
	char **sources;
	size_t nsources;
};

void cfg_file_init(struct cfg_file *f);
void cfg_file_dispose(struct cfg_file *f);

/* Parses buf[0..len) (need not be NUL-terminated) and appends its entries to f.
 * An entry whose key is already in f replaces it, as the last assignment wins
 * in xl; replacing an entry of the same source is reported as a warning
 * (a likely mistake), replacing one of another source (command-line
 * KEY=VALUE overrides) is not.  "+=" appends to an existing list or string.
 * Returns 0, -EINVAL after reporting syntax errors through d, or -ENOMEM. */
int cfg_parse(struct cfg_file *f, const char *source, const char *buf, size_t len,
	      struct cfg_diag *d);

/* One KEY=VALUE argument (xl create's [vars]): parsed as a line of source
 * "command line"; its entries carry no line number. */
int cfg_parse_override(struct cfg_file *f, const char *arg, struct cfg_diag *d);

const struct cfg_entry *cfg_find(const struct cfg_file *f, const char *key);

/* Small helpers shared by the parsers. */
int cfg_hexval(char c);					/* 0..15, or -1 */
int cfg_replace_str(char **slot, const char *v);	/* strdup into *slot; -ENOMEM */

#endif
