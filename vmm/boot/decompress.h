/* Decompression of a Linux kernel payload (the piggy inside a bzImage), by
 * its magic, with Debian's maintained libraries: liblz4, zlib, liblzma,
 * libzstd, libbz2.  The input is untrusted; the output size is bounded by the
 * caller. */
#ifndef DOMUS_VMM_BOOT_DECOMPRESS_H
#define DOMUS_VMM_BOOT_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

/* The compression whose magic starts buf, or NULL if none we know.
 * Recognises "lzo" too, which boot_decompress() refuses. */
const char *boot_compression(const uint8_t *buf, size_t len);

/* 0 and *fmt if boot_decompress() can decode what starts buf, else -EINVAL
 * with the reason (unknown magic, or LZO) in err. */
int boot_compression_check(const uint8_t *buf, size_t len, const char **fmt, char *err,
			   size_t errlen);

/* Decompresses the single stream at in[0, len) into a new malloc()ed buffer
 * of at most outmax bytes; bytes after the end of the stream are ignored
 * (Linux appends the decompressed size: scripts/Makefile.lib size_append).
 * On success *out and *outlen hold the result and *fmt the compression name.
 * Returns 0, or -EINVAL (unknown or corrupt data, err says which),
 * -EFBIG (more than outmax bytes) or -ENOMEM. */
int boot_decompress(const uint8_t *in, size_t len, size_t outmax, uint8_t **out,
		    size_t *outlen, const char **fmt, char *err, size_t errlen);

#endif
