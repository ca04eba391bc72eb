/* Hand-written lexer and recursive-descent parser for xl.cfg (see syntax.h).
 *
 * Errors are reported with FILE:LINE:COL (column in characters, 1-based)
 * and the parser recovers at the next statement, so one run reports every
 * broken line, not just the first. */
#include "syntax.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum tok {
	T_EOF, T_NL, T_SEMI, T_EQ, T_ADD, T_LBRACK, T_RBRACK, T_COMMA,
	T_IDENT, T_NUMBER, T_STRING, T_BAD,
};

struct lexer {
	const char *src, *end, *p, *line_start;
	const char *source;
	unsigned line;
	unsigned typo_line; /* last line a typographic quote was reported on */
	bool cr_seen;	    /* a carriage return was reported */
	struct cfg_diag *d;
	/* current token */
	enum tok t;
	unsigned tline, tcol;
	char *text; /* IDENT, NUMBER, STRING: malloc'd */
	int nomem;
};

static unsigned col_of(const struct lexer *lx, const char *at)
{
	unsigned col = 1;

	/* Count characters, not bytes: UTF-8 continuation bytes do not start one. */
	for (const char *q = lx->line_start; q < at; q++)
		if (((unsigned char)*q & 0xc0) != 0x80)
			col++;
	return col;
}

static void lex_error(struct lexer *lx, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void lex_error(struct lexer *lx, const char *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_diag_vreport(lx->d, CFG_SEV_ERROR, lx->source, lx->line, col_of(lx, at), NULL, fmt, ap);
	va_end(ap);
}

/* Typographic quotes that word processors and web pages substitute for
 * straight ones (the seed's example configs are such a paste). */
struct typo_quote {
	const char *utf8, *name;
	char straight;
};
static const struct typo_quote typo_quotes[] = {
	{ "\xe2\x80\x9c", "\xe2\x80\x9c (U+201C)", '"' },
	{ "\xe2\x80\x9d", "\xe2\x80\x9d (U+201D)", '"' },
	{ "\xe2\x80\x9e", "\xe2\x80\x9e (U+201E)", '"' },
	{ "\xe2\x80\xb3", "\xe2\x80\xb3 (U+2033)", '"' },
	{ "\xc2\xab", "\xc2\xab (U+00AB)", '"' },
	{ "\xc2\xbb", "\xc2\xbb (U+00BB)", '"' },
	{ "\xe2\x80\x98", "\xe2\x80\x98 (U+2018)", '\'' },
	{ "\xe2\x80\x99", "\xe2\x80\x99 (U+2019)", '\'' },
	{ "\xe2\x80\x9a", "\xe2\x80\x9a (U+201A)", '\'' },
	{ "\xe2\x80\xb2", "\xe2\x80\xb2 (U+2032)", '\'' },
};

static const struct typo_quote *typo_at(const struct lexer *lx, const char *p)
{
	for (size_t i = 0; i < sizeof(typo_quotes) / sizeof(typo_quotes[0]); i++) {
		size_t n = strlen(typo_quotes[i].utf8);

		if ((size_t)(lx->end - p) >= n && !memcmp(p, typo_quotes[i].utf8, n))
			return &typo_quotes[i];
	}
	return NULL;
}

struct sbuf {
	char *s;
	size_t n, cap;
};

static int sbuf_put(struct sbuf *b, char c)
{
	if (b->n + 1 >= b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		char *s = realloc(b->s, cap);

		if (!s)
			return -ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	b->s[b->n++] = c;
	b->s[b->n] = 0;
	return 0;
}

int cfg_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cfg_replace_str(char **slot, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

/* Decodes one backslash escape at *pp (just after the backslash). */
static int lex_escape(struct lexer *lx, const char **pp, char *out)
{
	static const char simple_in[] = "\"'\\abfnrtv", simple_out[] = "\"'\\\a\b\f\n\r\t\v";
	const char *p = *pp;
	const char *hit = p < lx->end && *p ? strchr(simple_in, *p) : NULL;
	unsigned v = 0;
	int k;

	if (hit) {
		*out = simple_out[hit - simple_in];
		*pp = p + 1;
		return 0;
	}
	if (p < lx->end && *p == 'x') {
		p++;
		for (k = 0; k < 2 && p < lx->end && cfg_hexval(*p) >= 0; k++, p++)
			v = v * 16 + (unsigned)cfg_hexval(*p);
		if (k != 2)
			goto bad;
	} else if (p < lx->end && *p >= '0' && *p <= '7') {
		for (k = 0; k < 3 && p < lx->end && *p >= '0' && *p <= '7'; k++, p++)
			v = v * 8 + (unsigned)(*p - '0');
	} else {
		goto bad;
	}
	if (v == 0 || v > 255)
		goto bad;
	*out = (char)v;
	*pp = p;
	return 0;
bad:
	lex_error(lx, *pp - 1, "invalid escape in quoted string (valid: \\\\ \\' \\\" \\n \\t \\r \\xHH \\ooo, not NUL)");
	*pp = p < lx->end ? p + 1 : p;
	return -EINVAL;
}

/* Lexes a quoted string starting at p.  close1/close2 end it (for a
 * typographic open quote either typographic close quote, or the straight
 * one, is accepted so that recovery gives sensible later errors). */
static enum tok lex_string(struct lexer *lx, const char *start, const char *body, char straight,
			   bool typographic)
{
	struct sbuf b = { 0 };
	const char *p = body;
	bool bad = false;

	for (;;) {
		const struct typo_quote *tq;

		if (p >= lx->end || *p == '\n') {
			lex_error(lx, start, "unterminated string (a string ends on its line, with the quote that began it)");
			bad = true;
			break;
		}
		if (*p == straight) {
			p++;
			break;
		}
		if (typographic && (tq = typo_at(lx, p)) && tq->straight == straight) {
			p += strlen(tq->utf8);
			break;
		}
		if (*p == 0) {
			lex_error(lx, p, "NUL byte in string");
			bad = true;
			p++;
			continue;
		}
		if (*p == '\\') {
			char c = 0;

			p++;
			if (lex_escape(lx, &p, &c) < 0) {
				bad = true;
				continue;
			}
			if (sbuf_put(&b, c) < 0)
				goto nomem;
			continue;
		}
		if (sbuf_put(&b, *p++) < 0)
			goto nomem;
	}
	lx->p = p;
	if (bad) {
		free(b.s);
		return T_BAD;
	}
	if (!b.s && !(b.s = strdup("")))
		goto nomem;
	lx->text = b.s;
	return T_STRING;
nomem:
	free(b.s);
	lx->nomem = 1;
	lx->p = lx->end;
	return T_EOF;
}

static bool is_ident_start(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static bool is_num_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == 'x';
}

static enum tok lex_word(struct lexer *lx, const char *start, bool (*more)(char), enum tok t)
{
	const char *p = start + 1;

	while (p < lx->end && more(*p))
		p++;
	lx->p = p;
	lx->text = strndup(start, (size_t)(p - start));
	if (!lx->text) {
		lx->nomem = 1;
		lx->p = lx->end;
		return T_EOF;
	}
	return t;
}

static void lex_next(struct lexer *lx)
{
	const struct typo_quote *tq;
	const char *p;

	free(lx->text);
	lx->text = NULL;
	p = lx->p;
	for (;;) {
		while (p < lx->end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= lx->end || *p != '\r')
			break;
		/* Xen's lexer takes only blanks and tabs as white space, so a
		 * file with DOS line ends fails there; say so once per file
		 * and read on. */
		if (!lx->cr_seen)
			lex_error(lx, p, "carriage return (DOS line ends?) is not allowed in xl.cfg; convert the file with dos2unix");
		lx->cr_seen = true;
		p++;
	}
	if (p < lx->end && *p == '#')
		while (p < lx->end && *p != '\n')
			p++;
	lx->p = p;
	lx->tline = lx->line;
	lx->tcol = col_of(lx, p);
	if (p >= lx->end) {
		lx->t = T_EOF;
		return;
	}
	switch (*p) {
	case '\n':
		lx->p = p + 1;
		lx->line++;
		lx->line_start = lx->p;
		lx->t = T_NL;
		return;
	case ';': lx->p = p + 1; lx->t = T_SEMI; return;
	case '=': lx->p = p + 1; lx->t = T_EQ; return;
	case '[': lx->p = p + 1; lx->t = T_LBRACK; return;
	case ']': lx->p = p + 1; lx->t = T_RBRACK; return;
	case ',': lx->p = p + 1; lx->t = T_COMMA; return;
	case '"':
	case '\'':
		lx->t = lex_string(lx, p, p + 1, *p, false);
		return;
	case '+':
		if (p + 1 < lx->end && p[1] == '=') {
			lx->p = p + 2;
			lx->t = T_ADD;
			return;
		}
		break;
	case '-':
		if (p + 1 < lx->end && p[1] >= '0' && p[1] <= '9') {
			lx->t = lex_word(lx, p, is_num_char, T_NUMBER);
			return;
		}
		break;
	default:
		break;
	}
	if (*p >= '0' && *p <= '9') {
		lx->t = lex_word(lx, p, is_num_char, T_NUMBER);
		return;
	}
	if (is_ident_start(*p)) {
		lx->t = lex_word(lx, p, is_ident_char, T_IDENT);
		return;
	}
	tq = typo_at(lx, p);
	if (tq) {
		/* One report per line: a pasted config has a pair on every line. */
		if (lx->typo_line != lx->line) {
			char msg[160];

			snprintf(msg, sizeof(msg), "typographic quote %s is not a quote in xl.cfg; use a straight %s",
				 tq->name, tq->straight == '"' ? "double quote \"" : "single quote '");
			lex_error(lx, p, "%s", msg);
			lx->typo_line = lx->line;
		}
		lx->t = lex_string(lx, p, p + strlen(tq->utf8), tq->straight, true);
		if (lx->t == T_STRING) {
			free(lx->text);
			lx->text = NULL;
		}
		lx->t = T_BAD;
		return;
	}
	if (*p >= 'A' && *p <= 'Z') {
		lex_error(lx, p, "unexpected '%.1s' (keys are lower case, as in xl.cfg(5))", p);
	} else if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f) {
		lex_error(lx, p, "unexpected '%.1s' (strings need quotes: key = \"value\")", p);
	} else {
		char hex[8];

		snprintf(hex, sizeof(hex), "0x%02x", (unsigned char)*p);
		lex_error(lx, p, "unexpected byte %s (strings need straight quotes: key = \"value\")", hex);
	}
	/* Skip the rest of the word so one mistake gives one error. */
	while (p < lx->end && *p != '\n' && *p != ' ' && *p != '\t' && *p != ';' && *p != ',' &&
	       *p != ']')
		p++;
	lx->p = p;
	lx->t = T_BAD;
}

/* ---- parser ---- */

struct parser {
	struct lexer lx;
	struct cfg_file *f;
	const char *source; /* interned in f->sources */
	bool no_lines;	    /* command-line KEY=VALUE: line numbers mean nothing */
	int err;
};

static void value_dispose(struct cfg_value *v)
{
	free(v->str);
	for (size_t i = 0; i < v->n; i++)
		value_dispose(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static const char *tok_name(enum tok t)
{
	static const char *const names[] = {
		[T_EOF] = "end of file", [T_NL] = "end of line", [T_SEMI] = "';'",
		[T_EQ] = "'='", [T_ADD] = "'+='", [T_LBRACK] = "'['", [T_RBRACK] = "']'",
		[T_COMMA] = "','", [T_IDENT] = "a name", [T_NUMBER] = "a number",
		[T_STRING] = "a string", [T_BAD] = "bad input",
	};
	return names[t];
}

static void syntax_error(struct parser *ps, const char *what)
{
	struct lexer *lx = &ps->lx;

	ps->err = -EINVAL;
	if (lx->t == T_BAD) /* the lexer has reported it already */
		return;
	cfg_diag_report(lx->d, CFG_SEV_ERROR, lx->source, lx->tline, lx->tcol, NULL,
			"syntax error: expected %s, found %s", what, tok_name(lx->t));
}

static void skip_nl(struct parser *ps)
{
	while (ps->lx.t == T_NL)
		lex_next(&ps->lx);
}

/* Depth bound: lists nest (vnuma uses two levels); hostile input must not
 * recurse without limit. */
#define CFG_MAX_DEPTH 8

static int parse_value(struct parser *ps, struct cfg_value *v, unsigned depth)
{
	struct lexer *lx = &ps->lx;
	unsigned open_line = lx->tline, open_col = lx->tcol;
	int rc;

	memset(v, 0, sizeof(*v));
	v->source = ps->source;
	v->line = lx->tline;
	v->col = lx->tcol;
	if (lx->t == T_STRING || lx->t == T_NUMBER) {
		v->kind = lx->t == T_STRING ? CFG_STRING : CFG_NUMBER;
		v->str = lx->text;
		lx->text = NULL;
		lex_next(lx);
		return 0;
	}
	if (lx->t == T_BAD) {
		/* Reported by the lexer; stand in an empty string so that the rest
		 * of a list (often over several lines) is still checked. */
		ps->err = -EINVAL;
		v->kind = CFG_STRING;
		v->str = strdup("");
		lex_next(lx);
		return v->str ? 0 : -ENOMEM;
	}
	if (lx->t != T_LBRACK) {
		syntax_error(ps, "a value (\"string\", number or [ list ])");
		return -EINVAL;
	}
	if (depth >= CFG_MAX_DEPTH) {
		cfg_diag_report(lx->d, CFG_SEV_ERROR, lx->source, lx->tline, lx->tcol, NULL,
				"lists nested too deeply (at most %d levels)", CFG_MAX_DEPTH);
		ps->err = -EINVAL;
		return -EINVAL;
	}
	v->kind = CFG_LIST;
	lex_next(lx);
	skip_nl(ps);
	while (lx->t != T_RBRACK) {
		struct cfg_value *items;

		if (lx->t == T_EOF) {
			cfg_diag_report(lx->d, CFG_SEV_ERROR, lx->source, open_line, open_col, NULL,
					"unterminated list: this '[' has no matching ']'");
			ps->err = -EINVAL;
			return -EINVAL;
		}
		if (lx->t == T_IDENT) {
			/* "key" inside a list: most likely the ']' was forgotten */
			cfg_diag_report(lx->d, CFG_SEV_ERROR, lx->source, open_line, open_col, NULL,
					"unterminated list: this '[' has no matching ']' before line %u",
					lx->tline);
			ps->err = -EINVAL;
			return -EINVAL;
		}
		items = realloc(v->items, (v->n + 1) * sizeof(*items));
		if (!items)
			return -ENOMEM;
		v->items = items;
		rc = parse_value(ps, &v->items[v->n], depth + 1);
		if (rc < 0) {
			/* not counted in v->n yet: free what it holds here */
			value_dispose(&v->items[v->n]);
			return rc;
		}
		v->n++;
		skip_nl(ps);
		if (lx->t == T_COMMA) {
			lex_next(lx);
			skip_nl(ps);
		} else if (lx->t != T_RBRACK) {
			if (lx->t == T_EOF)
				continue; /* reported as unterminated above */
			syntax_error(ps, "',' or ']' in list");
			return -EINVAL;
		}
	}
	lex_next(lx);
	return 0;
}

/* Skips the rest of the line after an error, without lexing it (lexing
 * garbage would only report more errors about the same mistake). */
static void recover(struct parser *ps)
{
	struct lexer *lx = &ps->lx;

	if (lx->t == T_NL || lx->t == T_EOF)
		return;
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
	lex_next(lx);
}

static struct cfg_entry *find_mut(struct cfg_file *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->e[i].key, key))
			return &f->e[i];
	return NULL;
}

const struct cfg_entry *cfg_find(const struct cfg_file *f, const char *key)
{
	return find_mut((struct cfg_file *)f, key);
}

static int append_value(struct parser *ps, struct cfg_entry *old, struct cfg_value *v,
			unsigned line)
{
	if (old->val.kind == CFG_LIST && v->kind == CFG_LIST) {
		struct cfg_value *items;

		if (!v->n) /* "+= []" */
			return 0;
		items = realloc(old->val.items, (old->val.n + v->n) * sizeof(*items));

		if (!items)
			return -ENOMEM;
		old->val.items = items;
		memcpy(items + old->val.n, v->items, v->n * sizeof(*items));
		old->val.n += v->n;
		free(v->items);
		v->items = NULL;
		v->n = 0;
		return 0;
	}
	if (old->val.kind != CFG_LIST && v->kind != CFG_LIST) {
		size_t a = strlen(old->val.str), b = strlen(v->str);
		char *s = realloc(old->val.str, a + b + 1);

		if (!s)
			return -ENOMEM;
		memcpy(s + a, v->str, b + 1);
		old->val.str = s;
		old->val.kind = CFG_STRING;
		return 0;
	}
	cfg_diag_report(ps->lx.d, CFG_SEV_ERROR, ps->source, line, 0, old->key,
			"'+=' mixes a list and a single value (line %u has the other one)",
			old->line);
	ps->err = -EINVAL;
	return 0;
}

static void clear_lines(struct cfg_value *v)
{
	v->line = v->col = 0;
	for (size_t i = 0; i < v->n; i++)
		clear_lines(&v->items[i]);
}

static int store(struct parser *ps, char *key, unsigned line, unsigned col, bool append,
		 struct cfg_value *v)
{
	struct cfg_file *f = ps->f;
	struct cfg_entry *old = find_mut(f, key), *e;
	int rc;

	if (ps->no_lines) {
		line = col = 0;
		clear_lines(v);
	}

	if (old && append) {
		rc = append_value(ps, old, v, line);
		free(key);
		value_dispose(v);
		return rc;
	}
	if (old) {
		if (old->source == ps->source)
			cfg_diag_report(ps->lx.d, CFG_SEV_WARNING, ps->source, line, 0, key,
					"set again (first at line %u); the last one wins, as in xl",
					old->line);
		free(old->key);
		value_dispose(&old->val);
		e = old;
	} else {
		e = realloc(f->e, (f->n + 1) * sizeof(*e));
		if (!e) {
			free(key);
			value_dispose(v);
			return -ENOMEM;
		}
		f->e = e;
		e = &f->e[f->n++];
	}
	e->key = key;
	e->source = ps->source;
	e->line = line;
	e->col = col;
	e->append = append;
	e->val = *v;
	return 0;
}

static int parse_stmt(struct parser *ps)
{
	struct lexer *lx = &ps->lx;
	struct cfg_value v;
	unsigned line, col;
	bool append;
	char *key;
	int rc;

	if (lx->t == T_NL || lx->t == T_SEMI) {
		lex_next(lx);
		return 0;
	}
	if (lx->t != T_IDENT) {
		syntax_error(ps, "a key (key = value)");
		recover(ps);
		return 0;
	}
	key = lx->text;
	lx->text = NULL;
	line = lx->tline;
	col = lx->tcol;
	lex_next(lx);
	if (lx->t != T_EQ && lx->t != T_ADD) {
		syntax_error(ps, "'=' after the key");
		free(key);
		recover(ps);
		return 0;
	}
	append = lx->t == T_ADD;
	lex_next(lx);
	rc = parse_value(ps, &v, 0);
	if (rc < 0) {
		value_dispose(&v);
		free(key);
		if (rc == -ENOMEM)
			return rc;
		/* An unterminated list ran to EOF; otherwise resume at the next line. */
		recover(ps);
		return 0;
	}
	if (lx->t != T_NL && lx->t != T_SEMI && lx->t != T_EOF) {
		syntax_error(ps, "end of line or ';' after the value");
		value_dispose(&v);
		free(key);
		recover(ps);
		return 0;
	}
	return store(ps, key, line, col, append, &v);
}

static const char *intern_source(struct cfg_file *f, const char *source)
{
	char **s;

	for (size_t i = 0; i < f->nsources; i++)
		if (!strcmp(f->sources[i], source))
			return f->sources[i];
	s = realloc(f->sources, (f->nsources + 1) * sizeof(*s));
	if (!s)
		return NULL;
	f->sources = s;
	s[f->nsources] = strdup(source);
	if (!s[f->nsources])
		return NULL;
	return s[f->nsources++];
}

static int parse(struct cfg_file *f, const char *source, const char *buf, size_t len,
		 struct cfg_diag *d, bool no_lines)
{
	struct parser ps = { .f = f, .no_lines = no_lines };
	unsigned errors_before = d->errors;
	int rc = 0;

	ps.source = intern_source(f, source ? source : "config");
	if (!ps.source)
		return -ENOMEM;
	ps.lx = (struct lexer){
		.src = buf, .end = buf + len, .p = buf, .line_start = buf,
		.source = ps.source, .line = 1, .d = d,
	};
	lex_next(&ps.lx);
	while (ps.lx.t != T_EOF) {
		rc = parse_stmt(&ps);
		if (rc < 0)
			break;
	}
	free(ps.lx.text);
	if (ps.lx.nomem)
		return -ENOMEM;
	if (rc < 0)
		return rc;
	return d->errors != errors_before ? -EINVAL : ps.err;
}

int cfg_parse(struct cfg_file *f, const char *source, const char *buf, size_t len,
	      struct cfg_diag *d)
{
	return parse(f, source, buf, len, d, false);
}

int cfg_parse_override(struct cfg_file *f, const char *arg, struct cfg_diag *d)
{
	return parse(f, "command line", arg, strlen(arg), d, true);
}

void cfg_file_init(struct cfg_file *f)
{
	memset(f, 0, sizeof(*f));
}

void cfg_file_dispose(struct cfg_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->e[i].key);
		value_dispose(&f->e[i].val);
	}
	free(f->e);
	for (size_t i = 0; i < f->nsources; i++)
		free(f->sources[i]);
	free(f->sources);
	cfg_file_init(f);
}
