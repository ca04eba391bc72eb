/* libFuzzer target for the hypercall dispatcher (vmm/xen/hypercall.c) and
 * every family behind it, on the monitor's Xen state and a fake KVM
 * (kvm_fake.h), no /dev/kvm.  An input is one byte of vCPU count, then
 * commands, each a byte then its operands:
 *
 *   0-2  hypercall: u8 number (>= 0xf0: from guest user space), u8 vCPU,
 *        u8 width mask, six arguments (u64 where the mask's bit is set,
 *        else u32)
 *   3    guest memory: u32 offset into RAM, u8 length, the bytes
 *   4    page table: u16 virtual page, u32 target page (0xffffffff:
 *        unmapped; bit 31: the page above 4 GiB)
 *   5    a back end (Domain 0): u8 action, u16 port or grant reference
 *   6    save the Xen state, load it into a fresh VM, post-load; go on there
 *   7    the last hypercall again, u8 x 16 times (ports run out)
 *
 * After every command KVM's side must be what the monitor believes it told
 * KVM (kvm_fake_check); after a load it must be what the saved VM's was
 * (kvm_fake_same); a console_io writes at most 16 KiB; at the end every
 * grant a back end held is released.  Seeds in fuzz-seeds/hypercall/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kvm_fake.h"
#include "evtchn.h"
#include "gnttab.h"
#include "xen/hypercall.h"
#include "xenstate_bind.h"

#define MAX_MAPS 16
#define REPEAT_BUDGET 4096

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct in *in, size_t len)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len && in->n; i++, in->n--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

struct world {
	struct kvm_fake *f, *spare; /* the VM, and the one a load goes to */
	int efd; /* the back ends' eventfd */
	struct gnttab_mapping maps[MAX_MAPS];
	unsigned nmaps;
	uint64_t nr, args[6];
	int vcpu;
	uint32_t cpl;
	unsigned repeated;
};

static void fail(const struct world *w, const char *what)
{
	fprintf(stderr, "fuzz-hypercall: %s\n", what);
	abort();
}

static void check(const struct world *w)
{
	const char *why = kvm_fake_check(w->f);

	if (why)
		fail(w, why);
}

static void call(struct world *w)
{
	uint64_t before = w->f->console_bytes;

	hypercall_dispatch(&w->f->vm, w->vcpu, w->nr, w->args, w->cpl);
	if (w->f->console_bytes - before > 16384)
		fail(w, "one console_io wrote more than 16 KiB");
}

static void hypercall(struct world *w, struct in *in)
{
	uint8_t sel = (uint8_t)take(in, 1), wide;

	w->nr = sel % 40; /* every number the table has, and some it has not */
	w->cpl = sel >= 0xf0 ? 3 : 0;
	w->vcpu = (int)(take(in, 1) % (uint64_t)w->f->vm.nr_vcpus);
	wide = (uint8_t)take(in, 1);
	for (int i = 0; i < 6; i++)
		w->args[i] = take(in, wide & (1u << i) ? 8 : 4);
	call(w);
}

static void poke(struct world *w, struct in *in)
{
	const struct guest_mem *m = &w->f->vm.mem;
	uint64_t off = take(in, 4) % m->ram_size, len = take(in, 1);
	uint64_t gpa = off < m->low_size ? off : LAYOUT_HIGH_BASE + (off - m->low_size);
	uint8_t buf[256] = { 0 };

	len = len < in->n ? len : in->n;
	memcpy(buf, in->p, len);
	in->p += len, in->n -= len;
	/* Clipped to the end of its RAM region. */
	while (len && gmem_write(m, gpa, buf, len) < 0)
		len--;
}

static void map(struct world *w, struct in *in)
{
	uint64_t page = take(in, 2) % KF_VA_PAGES, to = take(in, 4);

	if (to == 0xffffffff)
		kvm_fake_map(w->f, page, KF_NO_GPA);
	else if (to & 0x80000000u)
		kvm_fake_map(w->f, page, LAYOUT_HIGH_BASE + (to & 0xff) * 4096);
	else
		kvm_fake_map(w->f, page, to * 4096);
}

static void unmap_all(struct world *w)
{
	while (w->nmaps) {
		if (gnttab_unmap_ref(&w->f->vm, &w->maps[--w->nmaps]) < 0)
			fail(w, "a back end's mapping would not unmap");
	}
}

static void backend(struct world *w, struct in *in)
{
	struct vm *vm = &w->f->vm;
	uint8_t act = (uint8_t)take(in, 1), buf[64];
	uint32_t n = (uint32_t)take(in, 2), port;

	switch (act % 8) {
	case 0:
		evtchn_alloc_interdomain(vm, 0, w->efd, &port);
		break;
	case 1:
		evtchn_bind_backend(vm, n, w->efd);
		break;
	case 2:
		evtchn_unbind_backend(vm, n, w->efd);
		break;
	case 3:
		evtchn_notify_guest(vm, n);
		break;
	case 4:
		if (w->nmaps < MAX_MAPS && gnttab_map_ref(vm, n, act & 0x80, &w->maps[w->nmaps]) == 0)
			w->nmaps++;
		break;
	case 5:
		if (w->nmaps && gnttab_unmap_ref(vm, &w->maps[--w->nmaps]) < 0)
			fail(w, "a back end's mapping would not unmap");
		break;
	case 6:
		gnttab_copy_from_ref(vm, n, act * 32u, buf, act & 1 ? 64 : 16);
		break;
	default:
		memset(buf, act, sizeof(buf));
		gnttab_copy_to_ref(vm, n, act * 32u, buf, act & 1 ? 64 : 16);
		break;
	}
}

/* Save, load into a fresh VM with the same memory, post-load, and give the
 * back ends' ports their eventfd again (as the back ends do after a load). */
static void save_load(struct world *w)
{
	struct kvm_fake *g;
	struct xenstate xa, xb;
	struct stream_writer sw;
	struct stream_reader sr;
	uint8_t had_fd[EVTCHN_NR_PORTS];
	const char *why;
	int rc;

	unmap_all(w); /* a save refuses while a back end holds a grant */
	g = w->spare;
	if (kvm_fake_reset(g, w->f->vm.nr_vcpus) < 0)
		fail(w, "no second VM");
	memcpy(g->vm.mem.hva, w->f->vm.mem.hva, w->f->mem_size);
	memcpy(g->va, w->f->va, sizeof(g->va));
	for (uint32_t p = 0; p < EVTCHN_NR_PORTS; p++)
		had_fd[p] = w->f->vm.evtchn.notify_fd[p] >= 0;
	vm_xenstate(&w->f->vm, &xa);
	vm_xenstate(&g->vm, &xb);
	stream_writer_init_mem(&sw);
	if (stream_write_header(&sw) < 0 || xenstate_save(&xa, &sw) < 0 || stream_write_end(&sw) < 0)
		fail(w, "the state hypercalls made would not save");
	stream_reader_init_mem(&sr, sw.buf, sw.len);
	rc = stream_read_header(&sr);
	if (rc == 0)
		rc = xenstate_load(&xb, &sr);
	if (rc < 0) {
		fprintf(stderr, "fuzz-hypercall: load: %s\n", stream_error(&sr));
		fail(w, "the state hypercalls made would not load");
	}
	stream_reader_fini(&sr);
	stream_writer_fini(&sw);
	g->vm.restored = true;
	rc = vm_xenstate_post_load(&g->vm);
	if (rc < 0) {
		fprintf(stderr, "fuzz-hypercall: post-load: %d\n", rc);
		fail(w, "the loaded state would not apply to KVM");
	}
	for (uint32_t p = 1; p < EVTCHN_NR_PORTS; p++) {
		if (had_fd[p] && evtchn_attach_notify(&g->vm, p, w->efd) < 0)
			fail(w, "a back end's port would not take its eventfd again");
	}
	why = kvm_fake_same(w->f, g);
	if (why)
		fail(w, why);
	w->spare = w->f;
	w->f = g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Two VMs made once (a memfd each), reset for every input. */
	static struct kvm_fake *vms[2];
	struct in in = { data, size };
	struct world w = { .nr = 64 };

	log_set_level(LOG_ERR);
	if (!vms[0] && (kvm_fake_create(&vms[0], 1) < 0 || kvm_fake_create(&vms[1], 1) < 0))
		abort();
	w.f = vms[0];
	w.spare = vms[1];
	if (kvm_fake_reset(w.f, 1 + (int)(take(&in, 1) % 4)) < 0)
		abort();
	w.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w.efd < 0)
		abort();
	while (in.n) {
		uint8_t op = (uint8_t)take(&in, 1);

		switch (op % 8) {
		case 0:
		case 1:
		case 2:
			hypercall(&w, &in);
			break;
		case 3:
			poke(&w, &in);
			break;
		case 4:
			map(&w, &in);
			break;
		case 5:
			backend(&w, &in);
			break;
		case 6:
			save_load(&w);
			break;
		default: {
			/* A balloon call walks up to 2^20 extents: not worth repeating. */
			unsigned k = (unsigned)take(&in, 1) * 16;
			if (w.nr == 12)
				break;
			for (unsigned i = 0; i < k && w.repeated < REPEAT_BUDGET; i++, w.repeated++)
				call(&w);
			break;
		}
		}
		check(&w);
	}
	unmap_all(&w);
	if (w.f->vm.gnttab.core.holds)
		fail(&w, "a grant is still held");
	vms[0] = w.f;
	vms[1] = w.spare;
	close(w.efd);
	return 0;
}
