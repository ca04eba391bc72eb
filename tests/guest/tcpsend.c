/* tcpsend: writes N zero bytes to HOST:PORT over TCP in 64 KiB writes, for
 * the vif rate test (tests/lab/domain-netsave.sh).  The fixture's busybox
 * nc moves about 3 Mbit/s from a lab guest to the lab host where iperf3
 * moves over 100 (bench/net): too slow to show a 10 Mb/s limit, so the
 * guest sends with this instead.
 *
 * Usage: tcpsend HOST PORT BYTES
 * Exit status: 0 when every byte was written and the connection closed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int send_all(int fd, unsigned long long bytes)
{
	static char buf[65536];

	while (bytes) {
		size_t n = bytes < sizeof(buf) ? (size_t)bytes : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		bytes -= (unsigned long long)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned long long bytes;
	char *end;
	long port;
	int fd, rc;

	if (argc != 4) {
		fprintf(stderr, "usage: tcpsend HOST PORT BYTES\n");
		return 2;
	}
	port = strtol(argv[2], &end, 10);
	if (*end)
		port = 0;
	errno = 0;
	bytes = strtoull(argv[3], &end, 10);
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 || port < 1 || port > 65535 || errno || *end) {
		fprintf(stderr, "tcpsend: HOST is an IPv4 address, PORT 1-65535, BYTES a number\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "tcpsend: cannot connect to %s:%ld: %s\n", argv[1], port, strerror(errno));
		return 1;
	}
	rc = send_all(fd, bytes);
	if (rc < 0)
		fprintf(stderr, "tcpsend: write to %s:%ld: %s\n", argv[1], port, strerror(-rc));
	if (close(fd) < 0 && rc == 0) {
		fprintf(stderr, "tcpsend: close: %s\n", strerror(errno));
		rc = -EIO;
	}
	return rc < 0 ? 1 : 0;
}
