/* Kernel payload decompression.  The magics are the ones Linux's own
 * decompressor table keys on (lib/decompress.c compressed_formats[]); the
 * formats are those arch/x86/boot/compressed/Makefile can produce.  Each
 * decoder runs to the end of one stream into a buffer of fixed size, so a
 * hostile payload can neither overflow it nor make us allocate more than the
 * caller allowed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "decompress.h"

/* lz4 -l: the legacy frame, a magic then blocks of {u32 LE size, data}, each
 * decompressing to at most 8 MiB (lz4 programs/lz4io.c LEGACY_BLOCKSIZE). */
#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_LEGACY_BLOCK (8u << 20)

/* liblzma's decoder memory limit: Linux's xz_wrap.sh uses a 32 MiB
 * dictionary at most, lzma -9 a 64 MiB one. */
#define LZMA_MEMLIMIT (256ull << 20)

struct magic {
	const char *name;
	uint8_t len;
	uint8_t bytes[6];
};

static const struct magic magics[] = {
	{ "gzip", 2, { 0x1f, 0x8b } },
	{ "bzip2", 3, { 'B', 'Z', 'h' } },
	{ "lzma", 3, { 0x5d, 0x00, 0x00 } },
	{ "xz", 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
	{ "lzo", 4, { 0x89, 'L', 'Z', 'O' } },
	{ "lz4", 4, { 0x02, 0x21, 0x4c, 0x18 } },
	{ "zstd", 4, { 0x28, 0xb5, 0x2f, 0xfd } },
};

const char *boot_compression(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (len >= magics[i].len && !memcmp(buf, magics[i].bytes, magics[i].len))
			return magics[i].name;
	return NULL;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int too_big(size_t outmax, char *err, size_t errlen)
{
	snprintf(err, errlen, "decompresses to more than %zu bytes (its recorded size)", outmax);
	return -EFBIG;
}

static int corrupt(const char *fmt, const char *why, char *err, size_t errlen)
{
	snprintf(err, errlen, "corrupt %s data (%s)", fmt, why);
	return -EINVAL;
}

static int unlz4_legacy(const uint8_t *in, size_t len, uint8_t *out, size_t outmax,
			size_t *outlen, char *err, size_t errlen)
{
	size_t pos = 0, done = 0;

	while (pos < len) {
		if (len - pos < 4)
			return corrupt("lz4", "truncated block header", err, errlen);
		uint32_t csize = le32(in + pos);

		if (csize == LZ4_LEGACY_MAGIC) {
			/* Concatenated legacy frames: Linux's unlz4 skips the magic too. */
			pos += 4;
			continue;
		}
		/* The last 4 bytes after at least one block are the size Linux
		 * appends (cmd_lz4_with_size); a real block header needs data. */
		if (len - pos == 4 && done > 0)
			break;
		pos += 4;
		if (csize == 0 || csize > len - pos || csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return corrupt("lz4", "bad block size", err, errlen);
		size_t room = outmax - done;

		if (room == 0)
			return too_big(outmax, err, errlen);
		if (room > LZ4_LEGACY_BLOCK)
			room = LZ4_LEGACY_BLOCK;
		int n = LZ4_decompress_safe((const char *)in + pos, (char *)out + done, (int)csize, (int)room);

		if (n < 0) {
			if (room < LZ4_LEGACY_BLOCK)
				return too_big(outmax, err, errlen);
			return corrupt("lz4", "bad block", err, errlen);
		}
		done += (size_t)n;
		pos += csize;
	}
	if (done == 0)
		return corrupt("lz4", "no blocks", err, errlen);
	*outlen = done;
	return 0;
}

static int ungzip(const uint8_t *in, size_t len, uint8_t *out, size_t outmax, size_t *outlen,
		  char *err, size_t errlen)
{
	z_stream zs = { 0 };
	int rc;

	/* 16 + MAX_WBITS: a gzip wrapper, not raw zlib. */
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)in;
	zs.next_out = out;
	/* zlib counts in uInt; a kernel is far below 4 GiB and outmax is capped. */
	zs.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
	zs.avail_out = outmax > UINT32_MAX ? UINT32_MAX : (uInt)outmax;
	rc = inflate(&zs, Z_FINISH);
	if (rc == Z_STREAM_END) {
		*outlen = zs.total_out;
		rc = 0;
	} else if (rc == Z_BUF_ERROR && zs.avail_out == 0) {
		rc = too_big(outmax, err, errlen);
	} else {
		rc = corrupt("gzip", zs.msg ? zs.msg : "truncated", err, errlen);
	}
	inflateEnd(&zs);
	return rc;
}

static int unbzip2(const uint8_t *in, size_t len, uint8_t *out, size_t outmax, size_t *outlen,
		   char *err, size_t errlen)
{
	bz_stream bs = { 0 };
	int rc;

	if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK)
		return -ENOMEM;
	bs.next_in = (char *)in;
	bs.next_out = (char *)out;
	bs.avail_in = len > UINT32_MAX ? UINT32_MAX : (unsigned)len;
	bs.avail_out = outmax > UINT32_MAX ? UINT32_MAX : (unsigned)outmax;
	/* One call decodes until the stream ends or a buffer runs out. */
	do
		rc = BZ2_bzDecompress(&bs);
	while (rc == BZ_OK && bs.avail_in > 0 && bs.avail_out > 0);
	if (rc == BZ_STREAM_END) {
		*outlen = (size_t)bs.total_out_hi32 << 32 | bs.total_out_lo32;
		rc = 0;
	} else if (rc == BZ_OK && bs.avail_out == 0) {
		rc = too_big(outmax, err, errlen);
	} else {
		rc = corrupt("bzip2", rc == BZ_OK ? "truncated" : "bad stream", err, errlen);
	}
	BZ2_bzDecompressEnd(&bs);
	return rc;
}

/* xz (the .xz container, with Linux's x86 BCJ filter) and lzma (the
 * lzma-alone format of `lzma -9`) share liblzma's stream interface. */
static int unxz(const char *fmt, const uint8_t *in, size_t len, uint8_t *out, size_t outmax,
		size_t *outlen, char *err, size_t errlen)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_ret lr;
	int rc;

	if (!strcmp(fmt, "xz"))
		lr = lzma_stream_decoder(&ls, LZMA_MEMLIMIT, 0);
	else
		lr = lzma_alone_decoder(&ls, LZMA_MEMLIMIT);
	if (lr != LZMA_OK)
		return -ENOMEM;
	ls.next_in = in;
	ls.avail_in = len;
	ls.next_out = out;
	ls.avail_out = outmax;
	do
		lr = lzma_code(&ls, LZMA_FINISH);
	while (lr == LZMA_OK && ls.avail_out > 0 && ls.avail_in > 0);
	if (lr == LZMA_STREAM_END) {
		*outlen = ls.total_out;
		rc = 0;
	} else if ((lr == LZMA_OK || lr == LZMA_BUF_ERROR) && ls.avail_out == 0) {
		rc = too_big(outmax, err, errlen);
	} else if (lr == LZMA_MEM_ERROR || lr == LZMA_MEMLIMIT_ERROR) {
		rc = corrupt(fmt, "dictionary too large", err, errlen);
	} else {
		rc = corrupt(fmt, lr == LZMA_OK || lr == LZMA_BUF_ERROR ? "truncated" : "bad stream",
			     err, errlen);
	}
	lzma_end(&ls);
	return rc;
}

static int unzstd(const uint8_t *in, size_t len, uint8_t *out, size_t outmax, size_t *outlen,
		  char *err, size_t errlen)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob = { out, outmax, 0 };
	size_t r;
	int rc;

	if (!dctx)
		return -ENOMEM;
	/* Streaming keeps the default window limit (2^27, enough for Linux's
	 * `zstd -22 --ultra`) and stops at the end of the first frame. */
	do
		r = ZSTD_decompressStream(dctx, &ob, &ib);
	while (!ZSTD_isError(r) && r != 0 && ob.pos < ob.size && ib.pos < ib.size);
	if (ZSTD_isError(r))
		rc = corrupt("zstd", ZSTD_getErrorName(r), err, errlen);
	else if (r == 0) {
		*outlen = ob.pos;
		rc = 0;
	} else if (ob.pos == ob.size)
		rc = too_big(outmax, err, errlen);
	else
		rc = corrupt("zstd", "truncated", err, errlen);
	ZSTD_freeDCtx(dctx);
	return rc;
}

int boot_compression_check(const uint8_t *in, size_t len, const char **fmt, char *err,
			   size_t errlen)
{
	const char *name = boot_compression(in, len);

	if (!name) {
		snprintf(err, errlen, "unknown compression (magic %02x %02x %02x %02x)",
			 len > 0 ? in[0] : 0, len > 1 ? in[1] : 0, len > 2 ? in[2] : 0,
			 len > 3 ? in[3] : 0);
		return -EINVAL;
	}
	if (!strcmp(name, "lzo")) {
		snprintf(err, errlen,
			 "LZO-compressed kernel; domus reads gzip, bzip2, lzma, xz, lz4 and zstd");
		return -EINVAL;
	}
	*fmt = name;
	return 0;
}

int boot_decompress(const uint8_t *in, size_t len, size_t outmax, uint8_t **out,
		    size_t *outlen, const char **fmt, char *err, size_t errlen)
{
	const char *name;
	uint8_t *buf;
	size_t n = 0;
	int rc;

	rc = boot_compression_check(in, len, &name, err, errlen);
	if (rc < 0)
		return rc;
	if (outmax == 0)
		return too_big(outmax, err, errlen);
	buf = malloc(outmax);
	if (!buf)
		return -ENOMEM;

	if (!strcmp(name, "lz4"))
		rc = unlz4_legacy(in + 4, len - 4, buf, outmax, &n, err, errlen);
	else if (!strcmp(name, "gzip"))
		rc = ungzip(in, len, buf, outmax, &n, err, errlen);
	else if (!strcmp(name, "bzip2"))
		rc = unbzip2(in, len, buf, outmax, &n, err, errlen);
	else if (!strcmp(name, "zstd"))
		rc = unzstd(in, len, buf, outmax, &n, err, errlen);
	else
		rc = unxz(name, in, len, buf, outmax, &n, err, errlen);

	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = n;
	*fmt = name;
	return 0;
}
