/* monitor_save (saverestore.h). */
#include "saverestore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "state/mem_rec.h"
#include "state/platform_state.h"
#include "state/vcpu_state.h"
#include "xenstate_bind.h"

#define EXTRA_PAGES (LAYOUT_SPECIAL_PAGES + GNTTAB_MAX_FRAMES)

static int get_here(struct vm *vm, int vcpu, void *arg)
{
	return vcpu_state_get(vm, vcpu, arg);
}

/* Every vCPU's record payload, read before guest memory is copied: reading
 * a vCPU first completes an exit user space answered, and completing a
 * string I/O read writes guest memory (vcpu_state.h).  Each is read on its
 * own vCPU thread, which serves the request parked (vm_pause.c). */
static int get_vcpus(struct vm *vm, struct stream_writer *payloads, char *why, size_t wl)
{
	struct vcpu_state *s = calloc(1, sizeof(*s));
	int rc = s ? 0 : -ENOMEM;

	for (int i = 0; i < vm->nr_vcpus && rc == 0; i++) {
		memset(s, 0, sizeof(*s));
		rc = vm_vcpu_run_on(vm, i, get_here, s, 0);
		if (rc == 0)
			rc = vcpu_rec_encode(s, &payloads[i]);
		if (rc < 0)
			snprintf(why, wl, "reading vcpu%d: %s", i, strerror(-rc));
	}
	free(s);
	return rc;
}

static int write_stream(struct monitor *m, int fd, char *why, size_t wl)
{
	struct vm *vm = &m->vm;
	struct stream_writer w, *payloads = calloc((size_t)vm->nr_vcpus, sizeof(*payloads));
	struct xenstate x;
	int rc;

	if (!payloads)
		return -ENOMEM;
	for (int i = 0; i < vm->nr_vcpus; i++)
		stream_writer_init_mem(&payloads[i]);
	stream_writer_init_fd(&w, fd);
	rc = get_vcpus(vm, payloads, why, wl);
	if (rc == 0 && (rc = mem_save(&vm->mem, EXTRA_PAGES, &w)) < 0)
		snprintf(why, wl, "writing guest memory: %s", strerror(-rc));
	if (rc == 0 && (rc = platform_state_save(vm, &w)) < 0)
		snprintf(why, wl, "saving clock, irqchip, PIT and ACPI: %s", strerror(-rc));
	if (rc == 0) {
		vm_xenstate(vm, &x);
		rc = xenstate_save(&x, &w);
		if (rc == -EBUSY)
			snprintf(why, wl, "a back end holds a grant mapping of the guest");
		else if (rc < 0)
			snprintf(why, wl, "saving the Xen state: %s", strerror(-rc));
	}
	/* the back ends' xenbus states (docs/xenbus.md), quiesced */
	if (rc == 0 && (rc = devs_save(&m->devs, &w)) < 0)
		snprintf(why, wl, "saving the back ends' xenbus state: %s", strerror(-rc));
	for (int i = 0; i < vm->nr_vcpus && rc == 0; i++) {
		rc = stream_write_record(&w, STREAM_REC_VCPU, payloads[i].buf, (uint32_t)payloads[i].len);
		if (rc < 0)
			snprintf(why, wl, "writing vcpu%d: %s", i, strerror(-rc));
	}
	if (rc == 0 && (rc = stream_write_end(&w)) < 0)
		snprintf(why, wl, "writing the end record: %s", strerror(-rc));
	/* The file must be whole on disk before xl destroys the domain. */
	if (rc == 0 && fsync(fd) < 0 && errno != EINVAL) {
		rc = -errno;
		snprintf(why, wl, "fsync of the save file: %s", strerror(-rc));
	}
	for (int i = 0; i < vm->nr_vcpus; i++)
		stream_writer_fini(&payloads[i]);
	free(payloads);
	return rc;
}

/* "vcpu1, vcpu3 did not park within 10 s": the save's one line. */
static void stuck_vcpus(char *why, size_t wl, uint32_t stuck, int ms)
{
	size_t used = 0;

	why[0] = '\0';
	for (int i = 0; i < 32 && used < wl; i++)
		if (stuck & (1u << i)) {
			int n = snprintf(why + used, wl - used, "%svcpu%d", used ? ", " : "", i);

			if (n < 0)
				break;
			used += (size_t)n;
		}
	if (used < wl)
		snprintf(why + used, wl - used, " did not park within %d s (stuck in an exit); the domain is left as it was",
			 ms / 1000);
}

int monitor_save(struct monitor *m, int fd, char *why, size_t wl)
{
	struct vm *vm = &m->vm;
	uint32_t stuck = 0;
	bool was_paused;
	int rc;

	pthread_mutex_lock(&vm->lock);
	was_paused = vm->paused;
	pthread_mutex_unlock(&vm->lock);
	rc = vm_pause_sync(vm, VM_PAUSE_SYNC_MS, &stuck);
	if (rc == -ETIMEDOUT) {
		stuck_vcpus(why, wl, stuck, VM_PAUSE_SYNC_MS);
		goto out;
	}
	if (rc < 0) {
		snprintf(why, wl, "the domain is ending");
		goto out;
	}
	/* No back end runs meanwhile: this is the loop thread.  Quiescing lets
	 * the console drain what the guest left in its ring, and the disks
	 * finish and flush what the guest was told is written: if that fails
	 * the save stops, naming the device, and the domain runs on. */
	rc = devs_quiesce(&m->devs, why, wl);
	if (rc == 0)
		rc = write_stream(m, fd, why, wl);
	if (devs_start(&m->devs) < 0)
		log_err(m->opt.name, "save: the devices did not start again");
out:
	if (!was_paused)
		vm_pause(vm, false);
	if (rc < 0)
		log_err(m->opt.name, "save failed: %s", why);
	else
		log_info(m->opt.name, "saved");
	return rc;
}
