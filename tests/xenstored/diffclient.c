/* The differential test's client: plays one fixed sequence of raw requests
 * over two connections to the daemon XENSTORED_PATH names and prints every
 * reply and watch event in a canonical form.  Run against domus's xenstored
 * and Xen 4.17's, the two transcripts must be identical (diff.sh). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "testutil.h"

struct step {
	int conn;	/* 0 or 1 */
	uint32_t type;
	uint32_t tx;
	const char *body; /* may contain NULs: len gives the size */
	uint32_t len;
	int mask_gen;	/* reply starts with a generation number: hide it */
};

#define S(c, t, tx, lit) { c, t, tx, lit, sizeof(lit) - 1, 0 } /* no final NUL */
#define SN(c, t, tx, lit) { c, t, tx, lit, sizeof(lit), 0 } /* with final NUL */

static const struct step script[] = {
	SN(0, XS_DIRECTORY, 0, "/"),
	SN(0, XS_GET_PERMS, 0, "/tool/xenstored"),
	S(0, XS_WRITE, 0, "/d/a\0hello"),
	SN(0, XS_READ, 0, "/d/a"),
	SN(0, XS_READ, 0, "/d"),
	SN(0, XS_READ, 0, "/nope"),
	SN(0, XS_READ, 0, "/bad path"),
	SN(0, XS_READ, 0, "/d/"),
	SN(0, XS_READ, 0, "/d//a"),
	S(0, XS_WRITE, 0, "/d/b/c/e\0deep"),
	SN(0, XS_DIRECTORY, 0, "/d"),
	SN(0, XS_DIRECTORY, 0, "/d/b"),
	SN(0, XS_MKDIR, 0, "/d/a"),
	SN(0, XS_MKDIR, 0, "/d/m"),
	SN(0, XS_RM, 0, "/d/nothere"),
	SN(0, XS_RM, 0, "/zz/nothere"),
	SN(0, XS_RM, 0, "/"),
	S(0, XS_WRITE, 0, "rel/x\0r"),
	SN(0, XS_READ, 0, "/local/domain/0/rel/x"),
	SN(0, XS_SET_PERMS, 0, "/d/a\0n3\0r4\0b5"),
	SN(0, XS_GET_PERMS, 0, "/d/a"),
	SN(0, XS_SET_PERMS, 0, "/d/a\0q3"),
	S(0, XS_SET_PERMS, 0, "/d/a\0"),
	S(0, XS_SET_PERMS, 0, "/d/a\0n1\0b2"),
	SN(0, XS_SET_PERMS, 0, "/nope\0n0"),
	/* Watches: initial events, below, removal (exact children). */
	SN(1, XS_WATCH, 0, "/d\0tokd"),
	SN(1, XS_WATCH, 0, "rel\0tokr"),
	SN(1, XS_WATCH, 0, "/d\0tokd"),
	S(0, XS_WRITE, 0, "/d/b/c/f\0x"),
	S(0, XS_WRITE, 0, "/local/domain/0/rel/y\0x"),
	SN(0, XS_RM, 0, "/d/b"),
	SN(1, XS_UNWATCH, 0, "/d\0tokd"),
	SN(1, XS_UNWATCH, 0, "/d\0tokd"),
	SN(1, XS_WATCH, 0, "/d\0only\0three"),
	S(1, XS_WATCH, 0, "/d\0unterminated"),
	/* Transactions: commit, conflict (EAGAIN), abort, errors. */
	SN(0, XS_TRANSACTION_START, 0, ""),
	SN(0, XS_READ, 1, "/d/a"),
	S(0, XS_WRITE, 1, "/d/t1\0v"),
	SN(1, XS_READ, 0, "/d/t1"),
	SN(0, XS_READ, 1, "/d/t1"),
	SN(0, XS_TRANSACTION_END, 1, "T"),
	SN(1, XS_READ, 0, "/d/t1"),
	SN(0, XS_TRANSACTION_START, 0, ""),
	SN(0, XS_READ, 2, "/d/a"),
	S(1, XS_WRITE, 0, "/d/a\0changed"),
	S(0, XS_WRITE, 2, "/d/t2\0v"),
	SN(0, XS_TRANSACTION_END, 2, "T"),
	SN(0, XS_READ, 0, "/d/t2"),
	SN(0, XS_TRANSACTION_START, 0, ""),
	SN(0, XS_TRANSACTION_START, 3, ""),
	S(0, XS_WRITE, 3, "/d/t3\0v"),
	SN(0, XS_TRANSACTION_END, 3, "X"),
	SN(0, XS_TRANSACTION_END, 3, "F"),
	SN(0, XS_READ, 0, "/d/t3"),
	SN(0, XS_TRANSACTION_END, 0, "T"),
	SN(0, XS_READ, 77, "/d/a"),
	/* Domains. */
	SN(1, XS_WATCH, 0, "@introduceDomain\0intro"),
	SN(1, XS_WATCH, 0, "@releaseDomain\0rel"),
	SN(0, XS_GET_DOMAIN_PATH, 0, "7"),
	SN(0, XS_IS_DOMAIN_INTRODUCED, 0, "7"),
	SN(0, XS_INTRODUCE, 0, "7\0" "4660\0" "3"),
	SN(0, XS_INTRODUCE, 0, "8\0" "4660\0" "0"),
	SN(0, XS_IS_DOMAIN_INTRODUCED, 0, "7"),
	SN(0, XS_IS_DOMAIN_INTRODUCED, 0, "0"),
	SN(0, XS_SET_TARGET, 0, "9\0" "7"),
	SN(0, XS_INTRODUCE, 0, "9\0" "1\0" "5"),
	SN(0, XS_SET_TARGET, 0, "9\0" "7"),
	SN(0, XS_SET_TARGET, 0, "9"),
	SN(0, XS_RELEASE, 0, "9"),
	S(0, XS_WRITE, 0, "/local/domain/7/x\0y"),
	SN(0, XS_SET_PERMS, 0, "/local/domain/7\0n7"),
	SN(0, XS_SET_PERMS, 0, "/local/domain/7/x\0n7"),
	S(0, XS_WRITE, 0, "/d/acl\0v"),
	SN(0, XS_SET_PERMS, 0, "/d/acl\0n0\0r7"),
	SN(0, XS_RESUME, 0, "7"),
	SN(0, XS_RELEASE, 0, "7"),
	SN(0, XS_GET_PERMS, 0, "/d/acl"),
	SN(0, XS_READ, 0, "/local/domain/7/x"),
	SN(0, XS_RELEASE, 0, "7"),
	SN(0, XS_RELEASE, 0, "0"),
	SN(0, XS_IS_DOMAIN_INTRODUCED, 0, "7"),
	/* Directory part and the odd ones. */
	{ 0, XS_DIRECTORY_PART, 0, "/d\0" "0", 5, 1 },
	{ 0, XS_DIRECTORY_PART, 0, "/d\0" "2", 5, 1 },
	{ 0, XS_DIRECTORY_PART, 0, "/d\0" "100", 7, 1 },
	SN(0, XS_RESET_WATCHES, 0, ""),
	SN(1, XS_RESET_WATCHES, 0, ""),
	/* xenstore-control requests (not help: domus lists fewer commands). */
	SN(0, XS_CONTROL, 0, "quota"),
	SN(0, XS_CONTROL, 0, "quota-soft"),
	SN(0, XS_CONTROL, 0, "quota\0set\0nodes\0" "500"),
	SN(0, XS_CONTROL, 0, "quota\0set\0nodes\0" "0"),
	SN(0, XS_CONTROL, 0, "quota\0set\0bogus\0" "5"),
	SN(0, XS_CONTROL, 0, "quota"),
	SN(0, XS_CONTROL, 0, "quota\0set\0nodes\0" "1000"),
	SN(0, XS_CONTROL, 0, "quota-soft\0set\0memory\0" "100"),
	SN(0, XS_CONTROL, 0, "quota-soft"),
	SN(0, XS_CONTROL, 0, "check"),
	SN(0, XS_CONTROL, 0, "log\0maybe"),
	SN(0, XS_CONTROL, 0, "bogus"),
	S(0, 1234, 0, "x"),
	S(0, XS_WATCH_EVENT, 0, "x"),
	S(0, XS_ERROR, 0, "x"),
	S(0, 20, 0, "x"), /* XS_RESTRICT, removed from xs_wire.h */
};



static void print_body(const char *b, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)b[i];

		if (ch == 0)
			fputs("\\0", stdout);
		else if (isprint(ch) && ch != '\\')
			putchar(ch);
		else
			printf("\\x%02x", ch);
	}
}

/* One message from fd; prints it; returns its type or -1. */
static int read_msg(int fd, int conn, int mask_gen)
{
	struct xsd_sockmsg h;
	char body[XENSTORE_PAYLOAD_MAX];
	uint32_t skip = 0;

	if (read_full(fd, &h, sizeof(h)) < 0 || h.len > sizeof(body) ||
	    read_full(fd, body, h.len) < 0)
		return -1;
	printf("  c%d %s", conn, h.type == XS_WATCH_EVENT ? "EVENT" : h.type == XS_ERROR ? "ERROR" : "OK");
	if (mask_gen && h.type != XS_ERROR) {
		while (skip < h.len && body[skip])
			skip++;
		fputs(" <gen>", stdout);
	}
	putchar(' ');
	print_body(body + skip, h.len - skip);
	putchar('\n');
	return (int)h.type;
}

/* Print the events queued for fd so far: a GET_DOMAIN_PATH round trip is
 * answered after every event the earlier requests caused, in both daemons,
 * so no timing is involved. */
static void sync_events(int fd, int conn)
{
	struct xsd_sockmsg h = { .type = XS_GET_DOMAIN_PATH, .req_id = 0xffff, .len = 2 };
	char body[XENSTORE_PAYLOAD_MAX];
	int t;

	if (write(fd, &h, sizeof(h)) != sizeof(h) || write(fd, "0", 2) != 2)
		return;
	for (;;) {
		if (read_full(fd, &h, sizeof(h)) < 0 || h.len > sizeof(body) ||
		    read_full(fd, body, h.len) < 0)
			return;
		if (h.req_id == 0xffff && h.type == XS_GET_DOMAIN_PATH)
			return;
		t = (int)h.type;
		printf("  c%d %s ", conn, t == XS_WATCH_EVENT ? "EVENT" : "OTHER");
		print_body(body, h.len);
		putchar('\n');
	}
}

int main(void)
{
	int fd[2] = { dial(), dial() };

	for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++) {
		const struct step *s = &script[i];
		struct xsd_sockmsg h = { .type = s->type, .req_id = (uint32_t)i + 1, .tx_id = s->tx,
					 .len = s->len };
		int t;

		printf("%zu: c%d type %u tx %u ", i, s->conn, s->type, s->tx);
		print_body(s->body, s->len);
		putchar('\n');
		fflush(stdout);
		if (write(fd[s->conn], &h, sizeof(h)) != sizeof(h) ||
		    write(fd[s->conn], s->body, s->len) != (ssize_t)s->len)
			return 1;
		/* Events may precede the reply; print them in order. */
		while ((t = read_msg(fd[s->conn], s->conn, s->mask_gen)) == XS_WATCH_EVENT)
			;
		if (t < 0) {
			printf("  c%d connection closed\n", s->conn);
			return 1;
		}
		sync_events(fd[0], 0);
		sync_events(fd[1], 1);
	}
	return 0;
}
