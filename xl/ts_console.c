/* xl console: the domain's primary console, through its monitor's console
 * socket.  Ctrl-] detaches, as in Xen's xenconsole. */
#include "ts.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define ESCAPE_CHAR 0x1d /* Ctrl-] */

int ts_console_attach(uint32_t domid, const char *name)
{
	struct sockaddr_un sa;
	struct termios old, raw;
	char buf[4096];
	bool tty = isatty(STDIN_FILENO), in_open = true;
	int fd, rc = 0;

	rc = ts_dom_socket(domid, "console", &sa);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		fprintf(stderr, "xl: cannot attach to the console of %s (id %u): %s\n", name, domid, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
		raw = old;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		tty = false;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break; /* the domain is gone */
			if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				in_open = false; /* keep showing output until the domain ends */
				continue;
			}
			char *esc = tty ? memchr(buf, ESCAPE_CHAR, (size_t)n) : NULL;
			if (esc)
				n = esc - buf;
			if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
				break;
			if (esc)
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
	close(fd);
	return rc;
}
