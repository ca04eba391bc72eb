/* The kernel loader: bzImage → payload → ELF → guest RAM.
 *
 * Everything in the file is untrusted.  The bzImage header gives the payload
 * (Linux Documentation/x86/boot.rst: setup_sects at 0x1F1, "HdrS" at 0x202,
 * version at 0x206, payload_offset/payload_length at 0x248/0x24C since
 * protocol 2.08); the payload's last 4 bytes are its decompressed size
 * (scripts/Makefile.lib size_append), which bounds our output buffer.  The
 * ELF is validated as a whole before a byte is written to the guest. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/elfnote.h>

#include "common.h"
#include "decompress.h"
#include "file.h"
#include "kernel.h"

#define BZ_SETUP_SECTS 0x1F1
#define BZ_HDRS 0x202
#define BZ_VERSION 0x206
#define BZ_PAYLOAD_OFFSET 0x248
#define BZ_PAYLOAD_LENGTH 0x24C
#define BZ_HEADER_END 0x250
#define BZ_MIN_VERSION 0x0208 /* payload_offset appeared in boot protocol 2.08 */

#define ELF_MAX_PHDRS 64

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* [off, off + size) lies inside a buffer of len bytes. */
static int in_buf(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

/* Looks for XEN_ELFNOTE_PHYS32_ENTRY in one PT_NOTE segment.  Returns 1 and
 * sets *entry if found, 0 if not, -EINVAL on a malformed note. */
static int find_phys32_entry(const char *name, const uint8_t *notes, uint64_t size,
			     uint64_t align, uint32_t *entry, char *err, size_t errlen)
{
	uint64_t pos = 0;

	/* Linux's notes are 4-aligned even in ELF64 (include/linux/elfnote.h);
	 * honour 8 when the segment says so. */
	align = align == 8 ? 8 : 4;
	while (size - pos >= sizeof(Elf64_Nhdr)) {
		const uint8_t *n = notes + pos;
		uint64_t namesz = get32(n), descsz = get32(n + 4), type = get32(n + 8);
		uint64_t name_off = pos + sizeof(Elf64_Nhdr);
		uint64_t desc_off = name_off + ((namesz + align - 1) & ~(align - 1));
		uint64_t next = desc_off + ((descsz + align - 1) & ~(align - 1));

		if (desc_off > size || descsz > size - desc_off) {
			snprintf(err, errlen, "%s: malformed ELF note (lengths run past its segment)",
				 name);
			return -EINVAL;
		}
		if (namesz == 4 && !memcmp(notes + name_off, "Xen", 4) &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY) {
			const uint8_t *d = notes + desc_off;
			uint64_t v;

			/* _ASM_PTR: 8 bytes on x86_64, 4 on i386. */
			if (descsz == 8)
				v = get32(d) | (uint64_t)get32(d + 4) << 32;
			else if (descsz == 4)
				v = get32(d);
			else {
				snprintf(err, errlen, "%s: Xen PHYS32_ENTRY note has %llu bytes, not 4 or 8",
					 name, (unsigned long long)descsz);
				return -EINVAL;
			}
			if (v > UINT32_MAX) {
				snprintf(err, errlen, "%s: Xen PVH entry point 0x%llx is above 4 GiB",
					 name, (unsigned long long)v);
				return -EINVAL;
			}
			*entry = (uint32_t)v;
			return 1;
		}
		if (next >= size)
			break;
		pos = next;
	}
	return 0;
}

/* Checks one PT_LOAD against the file and guest memory. */
static int check_load(const char *name, const Elf64_Phdr *ph, size_t len,
		      const struct guest_mem *m, char *err, size_t errlen)
{
	const char *what;
	uint64_t at;

	if (ph->p_filesz > ph->p_memsz || !in_buf(len, ph->p_offset, ph->p_filesz)) {
		snprintf(err, errlen, "%s: ELF segment at offset 0x%llx runs past the end of the file",
			 name, (unsigned long long)ph->p_offset);
		return -EINVAL;
	}
	/* The PVH entry runs in 32-bit mode with absolute _pa() addresses, so
	 * every segment must sit below 4 GiB in RAM. */
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr || ph->p_paddr + ph->p_memsz > LAYOUT_LOW_MAX ||
	    !gmem_ptr(m, ph->p_paddr, ph->p_memsz)) {
		snprintf(err, errlen,
			 "%s: ELF segment [0x%llx, +0x%llx) is outside guest RAM (%llu MiB below 4 GiB)",
			 name, (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz,
			 (unsigned long long)(m->low_size >> 20));
		return -EFAULT;
	}
	what = boot_area_overlap(ph->p_paddr, ph->p_memsz, &at);
	if (what) {
		snprintf(err, errlen, "%s: ELF segment [0x%llx, +0x%llx) overlaps %s at 0x%llx", name,
			 (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz, what,
			 (unsigned long long)at);
		return -EFAULT;
	}
	return 0;
}

int kernel_load_elf(const char *name, const uint8_t *buf, size_t len, struct guest_mem *m,
		    struct kernel_info *out, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	uint64_t low = UINT64_MAX, high = 0;
	uint32_t entry = 0;
	int have_entry = 0, rc;

	if (len < sizeof(eh)) {
		snprintf(err, errlen, "%s: truncated ELF header", name);
		return -EINVAL;
	}
	memcpy(&eh, buf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		snprintf(err, errlen, "%s: no ELF magic in the kernel image", name);
		return -EINVAL;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC) {
		snprintf(err, errlen, "%s: not an x86-64 executable ELF kernel", name);
		return -EINVAL;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > ELF_MAX_PHDRS ||
	    !in_buf(len, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr))) {
		snprintf(err, errlen, "%s: bad ELF program header table", name);
		return -EINVAL;
	}

	/* Pass 1: validate every note and segment. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE && !have_entry) {
			if (!in_buf(len, ph.p_offset, ph.p_filesz)) {
				snprintf(err, errlen, "%s: ELF note segment runs past the end of the file",
					 name);
				return -EINVAL;
			}
			rc = find_phys32_entry(name, buf + ph.p_offset, ph.p_filesz, ph.p_align,
					       &entry, err, errlen);
			if (rc < 0)
				return rc;
			have_entry = rc;
		} else if (ph.p_type == PT_LOAD && ph.p_memsz > 0) {
			rc = check_load(name, &ph, len, m, err, errlen);
			if (rc < 0)
				return rc;
			if (ph.p_paddr < low)
				low = ph.p_paddr;
			if (ph.p_paddr + ph.p_memsz > high)
				high = ph.p_paddr + ph.p_memsz;
		}
	}
	if (!have_entry) {
		snprintf(err, errlen,
			 "%s: kernel has no Xen PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY); "
			 "domus boots PVH kernels", name);
		return -EINVAL;
	}
	if (high == 0) {
		snprintf(err, errlen, "%s: ELF kernel has no loadable segment", name);
		return -EINVAL;
	}
	if (entry < low || entry >= high) {
		snprintf(err, errlen, "%s: PVH entry point 0x%x is outside the loaded kernel [0x%llx, 0x%llx)",
			 name, entry, (unsigned long long)low, (unsigned long long)high);
		return -EINVAL;
	}

	/* Pass 2: copy, and zero what the file does not cover (BSS). */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		dst = gmem_ptr(m, ph.p_paddr, ph.p_memsz); /* checked in pass 1 */
		memcpy(dst, buf + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	out->entry = entry;
	out->load_low = low;
	out->load_high = high;
	out->format = "elf";
	return 0;
}

/* The payload of a bzImage, or -EINVAL. */
static int bzimage_payload(const char *name, const uint8_t *buf, size_t len,
			   const uint8_t **payload, size_t *plen, char *err, size_t errlen)
{
	uint16_t version = get16(buf + BZ_VERSION);
	uint64_t sects = buf[BZ_SETUP_SECTS] ? buf[BZ_SETUP_SECTS] : 4; /* 0 means 4 (boot.rst) */
	uint64_t off = (sects + 1) * 512 + get32(buf + BZ_PAYLOAD_OFFSET);
	uint64_t n = get32(buf + BZ_PAYLOAD_LENGTH);

	if (version < BZ_MIN_VERSION) {
		snprintf(err, errlen, "%s: Linux boot protocol %u.%02u is too old (PVH needs 2.08+)",
			 name, version >> 8, version & 0xff);
		return -EINVAL;
	}
	if (n < 4 || !in_buf(len, off, n)) {
		snprintf(err, errlen, "%s: bzImage payload [0x%llx, +0x%llx) is outside the file",
			 name, (unsigned long long)off, (unsigned long long)n);
		return -EINVAL;
	}
	*payload = buf + off;
	*plen = n;
	return 0;
}

int kernel_load_buf(const char *name, const uint8_t *buf, size_t len, struct guest_mem *m,
		    struct kernel_info *out, char *err, size_t errlen)
{
	const uint8_t *payload;
	uint8_t *image = NULL;
	size_t plen, ilen;
	const char *fmt;
	char why[160];
	uint32_t isize;
	int rc;

	if (len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG))
		return kernel_load_elf(name, buf, len, m, out, err, errlen);
	if (len < BZ_HEADER_END || memcmp(buf + BZ_HDRS, "HdrS", 4)) {
		snprintf(err, errlen, "%s: not a Linux kernel (no bzImage header, no ELF magic)", name);
		return -EINVAL;
	}
	rc = bzimage_payload(name, buf, len, &payload, &plen, err, errlen);
	if (rc < 0)
		return rc;
	if (plen >= SELFMAG && !memcmp(payload, ELFMAG, SELFMAG))
		return kernel_load_elf(name, payload, plen, m, out, err, errlen);

	rc = boot_compression_check(payload, plen, &fmt, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s: bzImage payload: %s", name, why);
		return rc;
	}
	isize = get32(payload + plen - 4);
	if (isize == 0 || isize > KERNEL_IMAGE_MAX) {
		snprintf(err, errlen, "%s: bzImage payload records an implausible size (%u bytes)",
			 name, isize);
		return -EINVAL;
	}
	rc = boot_decompress(payload, plen, isize, &image, &ilen, &fmt, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s: bzImage payload: %s", name, why);
		return rc;
	}
	rc = kernel_load_elf(name, image, ilen, m, out, err, errlen);
	free(image);
	if (rc == 0)
		out->format = fmt;
	return rc;
}

int kernel_load(const char *path, struct guest_mem *m, struct kernel_info *out,
		char *err, size_t errlen)
{
	uint8_t *buf;
	uint64_t size;
	int rc;

	rc = boot_file_slurp(path, KERNEL_FILE_MAX, &buf, &size, err, errlen);
	if (rc < 0)
		return rc;
	rc = kernel_load_buf(path, buf, size, m, out, err, errlen);
	free(buf);
	return rc;
}
