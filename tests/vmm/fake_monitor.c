/* fake-monitor RUN_DIR DOMID NAME START: serves a domain's control socket
 * RUN_DIR/DOMID/control as domus-vmm does, for a fake domain
 * (fake_domain.c), so that the real xl can be run against it without KVM.
 * After destroy it removes its run directory, as the supervisor would,
 * and exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "domus/log.h"
#include "fake_domain.h"

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fake_domain f;
	char dir[sizeof(sa.sun_path) - sizeof("/control")];
	int lfd;

	log_init(argv[0], LOG_INFO, NULL);
	if (argc != 5) {
		fprintf(stderr, "usage: fake-monitor RUN_DIR DOMID NAME START\n");
		return 2;
	}
	fake_domain_init(&f, (uint32_t)strtoul(argv[2], NULL, 10), argv[3], strtoll(argv[4], NULL, 10));
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", argv[1], argv[2]) >= sizeof(dir)) {
		log_err(NULL, "%s: run directory path too long", argv[1]);
		return 1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control", dir);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (mkdir(dir, 0700) < 0 || lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 8) < 0) {
		log_err(NULL, "%s: %s", sa.sun_path, strerror(errno));
		return 1;
	}
	while (!f.destroyed) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue;
		control_serve(fd, &fake_domain_ops, &f, -1, 2000);
		close(fd);
	}
	unlink(sa.sun_path);
	rmdir(dir);
	return 0;
}
