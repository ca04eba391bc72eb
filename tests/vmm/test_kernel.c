/* vmm/boot kernel loader: every payload compression Linux offers on x86
 * (made here with the same libraries), bare ELF, and malformed input that
 * must give the right one-line error and never crash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <elf.h>
#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "boot_util.h"
#include "boot/decompress.h"
#include "boot/kernel.h"

#define RAM_MIB 64

/* ---- compressors, each producing what Linux's Makefile.lib would ---- */

static uint8_t *lz4_legacy(const uint8_t *in, size_t len, size_t *out)
{
	const size_t block = 8u << 20;
	size_t cap = 4 + (len / block + 1) * (4 + (size_t)LZ4_compressBound((int)block));
	uint8_t *b = malloc(cap);
	size_t pos = 4;
	const uint32_t magic = 0x184C2102;

	assert_non_null(b);
	memcpy(b, &magic, 4);
	for (size_t off = 0; off < len; off += block) {
		int n = (int)(len - off < block ? len - off : block);
		int c = LZ4_compress_default((const char *)in + off, (char *)b + pos + 4, n,
					     LZ4_compressBound((int)block));
		uint32_t c32 = (uint32_t)c;

		assert_true(c > 0);
		memcpy(b + pos, &c32, 4);
		pos += 4 + (size_t)c;
	}
	*out = pos;
	return b;
}

static uint8_t *gzip(const uint8_t *in, size_t len, size_t *out)
{
	z_stream zs = { 0 };
	size_t cap = compressBound(len) + 64;
	uint8_t *b = malloc(cap);

	assert_non_null(b);
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = b;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*out = zs.total_out;
	deflateEnd(&zs);
	return b;
}

static uint8_t *xz(const uint8_t *in, size_t len, size_t *out)
{
	/* Linux's scripts/xz_wrap.sh: x86 BCJ then LZMA2, CRC32 check. */
	lzma_options_lzma opt;
	lzma_filter filters[] = {
		{ .id = LZMA_FILTER_X86 },
		{ .id = LZMA_FILTER_LZMA2, .options = &opt },
		{ .id = LZMA_VLI_UNKNOWN },
	};
	size_t cap = lzma_stream_buffer_bound(len), pos = 0;
	uint8_t *b = malloc(cap);

	assert_non_null(b);
	assert_false(lzma_lzma_preset(&opt, 6));
	assert_int_equal(lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, len, b, &pos, cap),
			 LZMA_OK);
	*out = pos;
	return b;
}

static uint8_t *lzma_alone(const uint8_t *in, size_t len, size_t *out)
{
	lzma_options_lzma opt;
	lzma_stream ls = LZMA_STREAM_INIT;
	size_t cap = len + len / 2 + 4096;
	uint8_t *b = malloc(cap);
	lzma_ret r;

	assert_non_null(b);
	assert_false(lzma_lzma_preset(&opt, 6));
	assert_int_equal(lzma_alone_encoder(&ls, &opt), LZMA_OK);
	ls.next_in = in;
	ls.avail_in = len;
	ls.next_out = b;
	ls.avail_out = cap;
	do
		r = lzma_code(&ls, LZMA_FINISH);
	while (r == LZMA_OK);
	assert_int_equal(r, LZMA_STREAM_END);
	*out = ls.total_out;
	lzma_end(&ls);
	return b;
}

static uint8_t *bzip2(const uint8_t *in, size_t len, size_t *out)
{
	unsigned cap = (unsigned)(len + len / 100 + 600);
	uint8_t *b = malloc(cap);

	assert_non_null(b);
	assert_int_equal(BZ2_bzBuffToBuffCompress((char *)b, &cap, (char *)in, (unsigned)len, 9, 0, 0),
			 BZ_OK);
	*out = cap;
	return b;
}

static uint8_t *zstd(const uint8_t *in, size_t len, size_t *out)
{
	size_t cap = ZSTD_compressBound(len);
	uint8_t *b = malloc(cap);
	size_t n;

	ZSTD_CCtx *cc = ZSTD_createCCtx();

	assert_non_null(b);
	assert_non_null(cc);
	/* The zstd CLI Linux runs writes a content checksum by default. */
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 19)));
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)));
	n = ZSTD_compress2(cc, b, cap, in, len);
	assert_false(ZSTD_isError(n));
	ZSTD_freeCCtx(cc);
	*out = n;
	return b;
}

typedef uint8_t *(*compress_fn)(const uint8_t *, size_t, size_t *);

/* Wraps elf in a bzImage compressed by fn, with Linux's size trailer unless
 * the format carries its own (gzip: cmd_gzip appends nothing). */
static uint8_t *make_bz(compress_fn fn, int trailer, const uint8_t *elf, size_t elflen, size_t *len)
{
	size_t plen;
	uint8_t *payload = fn(elf, elflen, &plen), *bz;

	if (trailer)
		payload = tsize_append(payload, &plen, (uint32_t)elflen);
	bz = tbz_new(payload, plen, len);
	free(payload);
	return bz;
}

/* Loads buf and checks the synthetic kernel landed: data copied, BSS zeroed
 * over guest memory that was dirty. */
static void check_loads(const uint8_t *buf, size_t len, size_t datalen, const char *format)
{
	struct guest_mem *m = tmem_new(RAM_MIB, 0);
	struct kernel_info ki;
	char err[256] = "";
	uint8_t *g;

	memset(m->hva + TELF_PADDR, 0xAA, datalen + TELF_BSS + 16);
	assert_int_equal(kernel_load_buf("k", buf, len, m, &ki, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ki.entry, TELF_ENTRY);
	assert_int_equal(ki.load_low, TELF_PADDR);
	assert_int_equal(ki.load_high, TELF_PADDR + datalen + TELF_BSS);
	assert_string_equal(ki.format, format);
	g = gmem_ptr(m, TELF_PADDR, datalen + TELF_BSS + 16);
	assert_non_null(g);
	for (size_t i = 0; i < datalen; i++)
		if (g[i] != tdata_byte(i))
			fail_msg("byte %zu of the segment differs", i);
	for (size_t i = datalen; i < datalen + TELF_BSS; i++)
		if (g[i] != 0)
			fail_msg("BSS byte %zu not zeroed", i - datalen);
	assert_int_equal(g[datalen + TELF_BSS], 0xAA); /* nothing beyond p_memsz */
	tmem_free(m);
}

static void check_format(compress_fn fn, int trailer, const char *name, size_t datalen)
{
	size_t elflen, bzlen;
	uint8_t *elf = telf_new(datalen, &elflen);
	uint8_t *bz = make_bz(fn, trailer, elf, elflen, &bzlen);

	check_loads(bz, bzlen, datalen, name);
	free(bz);
	free(elf);
}

/* Two LZ4 legacy blocks (each at most 8 MiB) plus the size trailer, as the
 * Debian 6.1 cloud kernel has. */
static void test_lz4_legacy_two_blocks(void **state)
{
	check_format(lz4_legacy, 1, "lz4", (9u << 20));
}

static void test_gzip(void **state)
{
	check_format(gzip, 0, "gzip", 300000);
}

static void test_xz_bcj(void **state)
{
	check_format(xz, 1, "xz", 300000);
}

static void test_lzma_alone(void **state)
{
	check_format(lzma_alone, 1, "lzma", 300000);
}

static void test_bzip2(void **state)
{
	check_format(bzip2, 1, "bzip2", 300000);
}

static void test_zstd(void **state)
{
	check_format(zstd, 1, "zstd", 300000);
}

static void test_bare_elf_and_uncompressed_payload(void **state)
{
	size_t elflen, bzlen;
	uint8_t *elf = telf_new(4096, &elflen);
	uint8_t *bz = tbz_new(elf, elflen, &bzlen);

	check_loads(elf, elflen, 4096, "elf");
	check_loads(bz, bzlen, 4096, "elf");
	free(bz);
	free(elf);
}

/* Runs the loader on buf and expects rc and a message containing want. */
static void expect_error(const uint8_t *buf, size_t len, int rc, const char *want)
{
	struct guest_mem *m = tmem_new(RAM_MIB, 0);
	struct kernel_info ki;
	char err[256] = "";

	assert_int_equal(kernel_load_buf("vmlinuz", buf, len, m, &ki, err, sizeof(err)), rc);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	assert_null(strchr(err, '\n'));
	tmem_free(m);
}

static void test_not_a_kernel(void **state)
{
	const uint8_t text[] = "root:x:0:0:root:/root:/bin/bash\n";
	uint8_t big[4096] = { 0 };

	expect_error(text, sizeof(text), -EINVAL,
		     "vmlinuz: not a Linux kernel (no bzImage header, no ELF magic)");
	expect_error(big, sizeof(big), -EINVAL, "not a Linux kernel");
	expect_error(text, 0, -EINVAL, "not a Linux kernel");
}

static void test_payload_errors(void **state)
{
	size_t elflen, bzlen, plen;
	uint8_t *elf = telf_new(100000, &elflen);
	uint8_t *bz = make_bz(zstd, 1, elf, elflen, &bzlen);
	uint8_t *lzo, *copy;
	uint32_t v;

	/* Corrupt the middle of the zstd frame. */
	copy = malloc(bzlen);
	memcpy(copy, bz, bzlen);
	for (size_t i = 0x500 + 100; i < 0x500 + 200 && i < bzlen - 8; i++)
		copy[i] ^= 0x5A;
	expect_error(copy, bzlen, -EINVAL, "vmlinuz: bzImage payload: corrupt zstd data");
	/* A size trailer smaller than the data: the output buffer is bounded. */
	memcpy(copy, bz, bzlen);
	v = 1000;
	memcpy(copy + bzlen - 4, &v, 4);
	expect_error(copy, bzlen, -EFBIG, "decompresses to more than 1000 bytes");
	v = 0;
	memcpy(copy + bzlen - 4, &v, 4);
	expect_error(copy, bzlen, -EINVAL, "implausible size");
	/* payload_length past the end of the file. */
	memcpy(copy, bz, bzlen);
	v = (uint32_t)bzlen;
	memcpy(copy + 0x24C, &v, 4);
	expect_error(copy, bzlen, -EINVAL, "is outside the file");
	/* Boot protocol too old for payload_offset. */
	memcpy(copy, bz, bzlen);
	copy[0x206] = 0x04;
	expect_error(copy, bzlen, -EINVAL, "boot protocol 2.04 is too old");
	free(copy);
	free(bz);

	/* A stream cut short, with its size trailer still there. */
	copy = zstd(elf, elflen, &plen);
	plen /= 2;
	copy = tsize_append(copy, &plen, (uint32_t)elflen);
	bz = tbz_new(copy, plen, &bzlen);
	expect_error(bz, bzlen, -EINVAL, "corrupt zstd data (truncated)");
	free(bz);
	free(copy);

	/* LZO is a Linux option we do not decode: say so. */
	lzo = calloc(1, 64);
	memcpy(lzo, "\x89LZO\0\r\n\x1a\n", 9);
	plen = 64;
	bz = tbz_new(lzo, plen, &bzlen);
	expect_error(bz, bzlen, -EINVAL, "LZO-compressed kernel");
	free(bz);
	/* Unknown magic. */
	memset(lzo, 0x42, 64);
	bz = tbz_new(lzo, plen, &bzlen);
	expect_error(bz, bzlen, -EINVAL, "unknown compression (magic 42 42 42 42)");
	free(bz);
	free(lzo);

	/* A corrupt LZ4 block and a block size past the end. */
	bz = make_bz(lz4_legacy, 1, elf, elflen, &bzlen);
	v = 0x7fffffff;
	memcpy(bz + 0x500 + 4, &v, 4);
	expect_error(bz, bzlen, -EINVAL, "corrupt lz4 data (bad block size)");
	free(bz);
	free(elf);
}

static void set_phdr(uint8_t *elf, size_t off, const Elf64_Phdr *ph)
{
	memcpy(elf + off, ph, sizeof(*ph));
}

static Elf64_Phdr get_phdr(const uint8_t *elf, size_t off)
{
	Elf64_Phdr ph;

	memcpy(&ph, elf + off, sizeof(ph));
	return ph;
}

/* A copy of good with the u32 at off set to v must fail with rc and want. */
static void poke32_fails(const uint8_t *good, size_t len, size_t off, uint32_t v, int rc,
			 const char *want)
{
	uint8_t *e = malloc(len);

	assert_non_null(e);
	memcpy(e, good, len);
	memcpy(e + off, &v, 4);
	expect_error(e, len, rc, want);
	free(e);
}

static void test_malformed_elf(void **state)
{
	size_t len;
	uint8_t *good = telf_new(8192, &len);
	uint8_t *e = malloc(len);
	Elf64_Phdr ph;
	uint16_t v16;

	/* Truncated header. */
	expect_error(good, 40, -EINVAL, "vmlinuz: truncated ELF header");
	/* Wrong class / machine. */
	memcpy(e, good, len);
	e[EI_CLASS] = ELFCLASS32;
	expect_error(e, len, -EINVAL, "not an x86-64 executable ELF kernel");
	/* Program headers past EOF, and absurd counts. */
	memcpy(e, good, len);
	expect_error(e, TELF_PHDR_NOTE + 10, -EINVAL, "bad ELF program header table");
	v16 = 0;
	memcpy(e + offsetof(Elf64_Ehdr, e_phnum), &v16, 2);
	expect_error(e, len, -EINVAL, "bad ELF program header table");
	v16 = 0xffff;
	memcpy(e + offsetof(Elf64_Ehdr, e_phnum), &v16, 2);
	expect_error(e, len, -EINVAL, "bad ELF program header table");
	/* Segment past EOF (file size larger than the file). */
	memcpy(e, good, len);
	ph = get_phdr(good, TELF_PHDR_LOAD);
	ph.p_filesz = len;
	ph.p_memsz = len + TELF_BSS;
	set_phdr(e, TELF_PHDR_LOAD, &ph);
	expect_error(e, len, -EINVAL, "runs past the end of the file");
	/* ... and offset + size wrapping around. */
	ph = get_phdr(good, TELF_PHDR_LOAD);
	ph.p_offset = UINT64_MAX - 8;
	set_phdr(e, TELF_PHDR_LOAD, &ph);
	expect_error(e, len, -EINVAL, "runs past the end of the file");
	/* filesz > memsz. */
	ph = get_phdr(good, TELF_PHDR_LOAD);
	ph.p_memsz = ph.p_filesz - 1;
	set_phdr(e, TELF_PHDR_LOAD, &ph);
	expect_error(e, len, -EINVAL, "runs past the end of the file");
	/* PT_LOAD outside RAM, wrapping, and above 4 GiB. */
	ph = get_phdr(good, TELF_PHDR_LOAD);
	ph.p_paddr = (RAM_MIB << 20) - 4096;
	set_phdr(e, TELF_PHDR_LOAD, &ph);
	expect_error(e, len, -EFAULT, "is outside guest RAM (64 MiB below 4 GiB)");
	ph.p_paddr = UINT64_MAX - 4096;
	set_phdr(e, TELF_PHDR_LOAD, &ph);
	expect_error(e, len, -EFAULT, "is outside guest RAM");
	ph.p_paddr = LAYOUT_HIGH_BASE;
	set_phdr(e, TELF_PHDR_LOAD, &ph);
	expect_error(e, len, -EFAULT, "is outside guest RAM");
	/* PT_LOAD over the ACPI tables and over the start info. */
	ph.p_paddr = LAYOUT_ACPI - 4096;
	set_phdr(e, TELF_PHDR_LOAD, &ph);
	expect_error(e, len, -EFAULT, "overlaps the ACPI tables at 0xe0000");
	ph.p_paddr = LAYOUT_BOOT_INFO + 0x800;
	set_phdr(e, TELF_PHDR_LOAD, &ph);
	expect_error(e, len, -EFAULT, "overlaps the start info and command line at 0x6000");
	/* Note with bad lengths: descsz and namesz running past the segment. */
	poke32_fails(good, len, TELF_NOTE_OFF + 4, 0x1000, -EINVAL, "malformed ELF note");
	poke32_fails(good, len, TELF_NOTE_OFF, 0xfffffff0, -EINVAL, "malformed ELF note");
	/* Note segment itself past EOF. */
	poke32_fails(good, len, TELF_PHDR_NOTE + offsetof(Elf64_Phdr, p_offset), (uint32_t)len - 4,
		     -EINVAL, "note segment runs past the end");
	/* PHYS32_ENTRY with a 3-byte descriptor. */
	poke32_fails(good, len, TELF_NOTE_OFF + 4, 3, -EINVAL, "PHYS32_ENTRY note has 3 bytes");
	/* Entry outside the loaded kernel, and above 4 GiB. */
	poke32_fails(good, len, TELF_NOTE_OFF + 16, 0x500000, -EINVAL,
		     "PVH entry point 0x500000 is outside the loaded kernel");
	poke32_fails(good, len, TELF_NOTE_OFF + 20, 1, -EINVAL, "is above 4 GiB");
	/* No PVH note (another Xen note type) and no loadable segment. */
	poke32_fails(good, len, TELF_NOTE_OFF + 8, 17, -EINVAL,
		     "vmlinuz: kernel has no Xen PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY); "
		     "domus boots PVH kernels");
	poke32_fails(good, len, TELF_PHDR_LOAD + offsetof(Elf64_Phdr, p_type), PT_NULL, -EINVAL,
		     "no loadable segment");
	free(e);
	free(good);
}

/* Every truncation and many random corruptions of a bzImage and of an ELF:
 * the loader returns 0 or an error and never reads outside its input (run
 * under ASan/valgrind to see the reads). */
static void test_truncations_and_mutations_never_crash(void **state)
{
	struct guest_mem *m = tmem_new(RAM_MIB, 0);
	struct kernel_info ki;
	char err[256];
	size_t elflen, bzlen;
	uint8_t *elf = telf_new(2048, &elflen);
	uint8_t *bz = make_bz(lz4_legacy, 1, elf, elflen, &bzlen);
	uint8_t *buf = malloc(bzlen > elflen ? bzlen : elflen);
	uint64_t x = 0x9E3779B97F4A7C15ULL; /* xorshift64 state: reproducible */

	for (size_t n = 0; n <= elflen; n++) {
		memcpy(buf, elf, n);
		(void)kernel_load_buf("t", buf, n, m, &ki, err, sizeof(err));
	}
	for (size_t n = 0; n <= bzlen; n += 7) {
		memcpy(buf, bz, n);
		(void)kernel_load_buf("t", buf, n, m, &ki, err, sizeof(err));
	}
	for (int round = 0; round < 3000; round++) {
		const uint8_t *src = round & 1 ? bz : elf;
		size_t n = round & 1 ? bzlen : elflen;

		memcpy(buf, src, n);
		for (int k = 0; k < 4; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Hit the headers more often than the bulk. */
			size_t at = (k & 1) ? x % (n < 1024 ? n : 1024) : x % n;

			buf[at] = (uint8_t)(x >> 32);
		}
		(void)kernel_load_buf("t", buf, n, m, &ki, err, sizeof(err));
	}
	free(buf);
	free(bz);
	free(elf);
	tmem_free(m);
}

static void test_kernel_file_errors(void **state)
{
	struct guest_mem *m = tmem_new(RAM_MIB, 0);
	struct kernel_info ki;
	char err[256] = "", path[] = "/tmp/domus-test-kernel-XXXXXX";
	int fd;

	assert_int_equal(kernel_load("/nonexistent/vmlinuz", m, &ki, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/vmlinuz: No such file or directory");
	assert_int_equal(kernel_load("/", m, &ki, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "/: not a regular file");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello\n", 6), 6);
	close(fd);
	assert_int_equal(kernel_load(path, m, &ki, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": not a Linux kernel (no bzImage header, no ELF magic)"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	unlink(path);
	tmem_free(m);
}

static void test_compression_magics(void **state)
{
	assert_string_equal(boot_compression((const uint8_t *)"\x02\x21\x4c\x18", 4), "lz4");
	assert_string_equal(boot_compression((const uint8_t *)"\x28\xb5\x2f\xfd", 4), "zstd");
	assert_string_equal(boot_compression((const uint8_t *)"\xfd" "7zXZ\0", 6), "xz");
	assert_string_equal(boot_compression((const uint8_t *)"BZh9", 4), "bzip2");
	assert_string_equal(boot_compression((const uint8_t *)"\x1f\x8b\x08", 3), "gzip");
	assert_string_equal(boot_compression((const uint8_t *)"\x5d\x00\x00\x00", 4), "lzma");
	assert_null(boot_compression((const uint8_t *)"\x02\x21", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compression_magics),
		cmocka_unit_test(test_lz4_legacy_two_blocks),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_xz_bcj),
		cmocka_unit_test(test_lzma_alone),
		cmocka_unit_test(test_bzip2),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_bare_elf_and_uncompressed_payload),
		cmocka_unit_test(test_not_a_kernel),
		cmocka_unit_test(test_payload_errors),
		cmocka_unit_test(test_malformed_elf),
		cmocka_unit_test(test_truncations_and_mutations_never_crash),
		cmocka_unit_test(test_kernel_file_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
