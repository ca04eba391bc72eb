/* See boot_util.h. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xen/elfnote.h>

#include "boot_util.h"

struct guest_mem *tmem_new(uint64_t low_mib, uint64_t high_mib)
{
	struct guest_mem *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	m->low_size = low_mib << 20;
	m->high_size = high_mib << 20;
	m->ram_size = m->low_size + m->high_size;
	m->memfd = -1;
	m->hva = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->hva == MAP_FAILED)
		abort();
	return m;
}

void tmem_free(struct guest_mem *m)
{
	if (!m)
		return;
	munmap(m->hva, m->ram_size);
	free(m);
}

uint8_t tdata_byte(size_t i)
{
	/* Compressible but not constant: runs of a slowly changing value. */
	return (uint8_t)((i / 64) * 13 + (i % 7));
}

uint8_t *telf_new(size_t datalen, size_t *len)
{
	size_t total = TELF_DATA_OFF + datalen;
	uint8_t *b = calloc(1, total);
	Elf64_Ehdr eh = {
		.e_type = ET_EXEC,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = 0xffffffff81000000ULL,
		.e_phoff = TELF_PHDR_LOAD,
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = 2,
	};
	Elf64_Phdr load = {
		.p_type = PT_LOAD,
		.p_flags = PF_R | PF_X,
		.p_offset = TELF_DATA_OFF,
		.p_vaddr = 0xffffffff81000000ULL,
		.p_paddr = TELF_PADDR,
		.p_filesz = datalen,
		.p_memsz = datalen + TELF_BSS,
		.p_align = 0x1000,
	};
	Elf64_Phdr note = {
		.p_type = PT_NOTE,
		.p_offset = TELF_NOTE_OFF,
		.p_filesz = TELF_NOTE_LEN,
		.p_memsz = TELF_NOTE_LEN,
		.p_align = 4,
	};
	Elf64_Nhdr nh = { .n_namesz = 4, .n_descsz = 8, .n_type = XEN_ELFNOTE_PHYS32_ENTRY };
	uint64_t entry = TELF_ENTRY;

	if (!b)
		abort();
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(b, &eh, sizeof(eh));
	memcpy(b + TELF_PHDR_LOAD, &load, sizeof(load));
	memcpy(b + TELF_PHDR_NOTE, &note, sizeof(note));
	memcpy(b + TELF_NOTE_OFF, &nh, sizeof(nh));
	memcpy(b + TELF_NOTE_OFF + 12, "Xen", 4);
	memcpy(b + TELF_NOTE_OFF + 16, &entry, 8);
	for (size_t i = 0; i < datalen; i++)
		b[TELF_DATA_OFF + i] = tdata_byte(i);
	*len = total;
	return b;
}

uint8_t *tbz_new(const uint8_t *payload, size_t plen, size_t *len)
{
	const size_t setup_sects = 1, poff = 0x100;
	size_t start = (setup_sects + 1) * 512 + poff;
	uint8_t *b = calloc(1, start + plen);
	uint16_t version = 0x020f;
	uint32_t po = (uint32_t)poff, pl = (uint32_t)plen;

	if (!b)
		abort();
	b[0x1F1] = (uint8_t)setup_sects;
	memcpy(b + 0x202, "HdrS", 4);
	memcpy(b + 0x206, &version, 2);
	memcpy(b + 0x248, &po, 4);
	memcpy(b + 0x24C, &pl, 4);
	memcpy(b + start, payload, plen);
	*len = start + plen;
	return b;
}

uint8_t *tsize_append(uint8_t *buf, size_t *len, uint32_t size)
{
	uint8_t *b = realloc(buf, *len + 4);

	if (!b)
		abort();
	memcpy(b + *len, &size, 4);
	*len += 4;
	return b;
}
