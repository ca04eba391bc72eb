/* A synthetic save file for xl restore's host tests: the head as `xl save`
 * writes it (xl/savefile.c: header, CONFIG from a file, UUID) and a monitor
 * part that is whole in its framing (one MEMORY chunk, CLOCK, END), which is
 * all xl reads before it would start anything.
 *   mksave CONFIG OUT */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domus/stream.h"
#include "savefile.h"

int main(int argc, char **argv)
{
	static const uint8_t uuid[16] = { 0x5a, 0x7e, 0xd0, 0x00, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1 };
	static uint8_t page[STREAM_MEM_HEAD + 4096];
	struct stream_writer w;
	char cfg[65536], err[256];
	ssize_t n;
	int in, out, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: mksave CONFIG OUT\n");
		return 2;
	}
	in = open(argv[1], O_RDONLY | O_CLOEXEC);
	n = in >= 0 ? read(in, cfg, sizeof(cfg)) : -1;
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (n < 0 || out < 0) {
		perror("mksave");
		return 1;
	}
	rc = savefile_write_head(out, cfg, (size_t)n, uuid, NULL, 0, err, sizeof(err));
	page[8] = 1; /* one page at frame 0 */
	stream_writer_init_fd(&w, out);
	if (rc == 0)
		rc = stream_write_record(&w, STREAM_REC_MEMORY, page, sizeof(page));
	if (rc == 0)
		rc = stream_write_record(&w, STREAM_REC_CLOCK, page, 32);
	if (rc == 0)
		rc = stream_write_end(&w);
	close(out);
	close(in);
	if (rc < 0)
		fprintf(stderr, "mksave: %s\n", err[0] ? err : strerror(-rc));
	return rc < 0;
}
