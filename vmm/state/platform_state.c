/* The VM-wide KVM state (platform_state.h): ioctls around the pure records
 * of platform_rec.c and acpi_pm.c. */
#include "platform_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "vm.h"

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Writes the memory writer's bytes as one record of type. */
static int put_record(struct stream_writer *w, uint32_t type, struct stream_writer *payload)
{
	int rc = payload->error ? payload->error
				: stream_write_record(w, type, payload->buf, (uint32_t)payload->len);

	stream_writer_fini(payload);
	return rc;
}

static int save_clock(struct vm *vm, struct stream_writer *w)
{
	struct kvm_clock_data c = { 0 };
	struct stream_writer p;

	if (ioctl(vm->fd, KVM_GET_CLOCK, &c) < 0)
		return -errno;
	/* Without a master clock KVM gives no realtime and no host TSC
	 * (6.1 x86.c __get_kvmclock); the load needs the realtime of the
	 * save, so stamp it here, next to the read. */
	if (!(c.flags & KVM_CLOCK_REALTIME)) {
		c.realtime = now_ns(CLOCK_REALTIME);
		c.flags |= KVM_CLOCK_REALTIME;
	}
	if (!(c.flags & KVM_CLOCK_HOST_TSC))
		c.host_tsc = 0;
	stream_writer_init_mem(&p);
	platform_rec_encode_clock(&c, &p);
	return put_record(w, STREAM_REC_CLOCK, &p);
}

static int save_irqchip(struct vm *vm, struct stream_writer *w)
{
	struct platform_irqchip ic;
	struct stream_writer p;

	memset(&ic, 0, sizeof(ic));
	for (uint32_t i = 0; i < 3; i++) {
		ic.chip[i].chip_id = i;
		if (ioctl(vm->fd, KVM_GET_IRQCHIP, &ic.chip[i]) < 0)
			return -errno;
	}
	stream_writer_init_mem(&p);
	platform_rec_encode_irqchip(&ic, &p);
	return put_record(w, STREAM_REC_IRQCHIP, &p);
}

static int save_pit(struct vm *vm, struct stream_writer *w)
{
	struct kvm_pit_state2 pit;
	struct stream_writer p;

	memset(&pit, 0, sizeof(pit));
	if (ioctl(vm->fd, KVM_GET_PIT2, &pit) < 0)
		return -errno;
	stream_writer_init_mem(&p);
	platform_rec_encode_pit(&pit, &p);
	return put_record(w, STREAM_REC_PIT, &p);
}

static int save_acpi_pm(struct vm *vm, struct stream_writer *w)
{
	struct stream_writer p;

	stream_writer_init_mem(&p);
	/* The clock vcpu.c's pm_io() gives the model. */
	pthread_mutex_lock(&vm->pm_lock);
	acpi_pm_save(&vm->pm, now_ns(CLOCK_MONOTONIC), &p);
	pthread_mutex_unlock(&vm->pm_lock);
	return put_record(w, STREAM_REC_ACPI_PM, &p);
}

/* vm_create() makes an in-kernel irqchip and PIT for every domain, so both
 * are always saved. */
int platform_state_save(struct vm *vm, struct stream_writer *w)
{
	int rc = save_clock(vm, w);

	if (rc == 0)
		rc = save_irqchip(vm, w);
	if (rc == 0)
		rc = save_pit(vm, w);
	if (rc == 0)
		rc = save_acpi_pm(vm, w);
	return rc;
}

/* ---- load ---- */

static int ioctl_failed(struct stream_reader *r, const struct stream_record *rec, const char *what, int err)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "%s failed: %s", what, strerror(err));
	stream_reject(r, rec, msg);
	return -err;
}

/* KVM advances the clock by the realtime that passed since the save
 * (KVM_CLOCK_REALTIME; 6.1 x86.c kvm_vm_ioctl_set_clock never steps it
 * back): the guest's clock neither goes back nor stands still for the time
 * it was saved, as Linux's KVM_VCPU_TSC_OFFSET documentation prescribes
 * for migration.  The clock as it then is goes to the vCPU loaders. */
static int load_clock(struct vm *vm, struct platform_clock *clk, struct stream_reader *r,
		      const struct stream_record *rec)
{
	struct kvm_clock_data src, set, dst = { 0 };
	char why[STREAM_ERR_MAX];
	uint64_t now;

	if (platform_rec_decode_clock(rec, &src, why, sizeof(why)) < 0)
		return stream_reject(r, rec, why);
	set = (struct kvm_clock_data){ .clock = src.clock, .flags = KVM_CLOCK_REALTIME, .realtime = src.realtime };
	if (ioctl(vm->fd, KVM_SET_CLOCK, &set) < 0)
		return ioctl_failed(r, rec, "KVM_SET_CLOCK", errno);
	if (ioctl(vm->fd, KVM_GET_CLOCK, &dst) < 0)
		return ioctl_failed(r, rec, "KVM_GET_CLOCK", errno);
	now = now_ns(CLOCK_REALTIME);
	*clk = (struct platform_clock){ .loaded = true, .src = src, .dst = dst,
					.elapsed_ns = now > src.realtime ? now - src.realtime : 0 };
	return 0;
}

static int load_irqchip(struct vm *vm, struct platform_clock *clk, struct stream_reader *r,
			const struct stream_record *rec)
{
	struct platform_irqchip ic;
	char why[STREAM_ERR_MAX];

	if (platform_rec_decode_irqchip(rec, &ic, why, sizeof(why)) < 0)
		return stream_reject(r, rec, why);
	for (int i = 0; i < 3; i++) {
		if (ioctl(vm->fd, KVM_SET_IRQCHIP, &ic.chip[i]) < 0)
			return ioctl_failed(r, rec, "KVM_SET_IRQCHIP", errno);
	}
	return 0;
}

/* KVM_SET_PIT2 reloads each channel's count from now (6.1 i8254.c
 * kvm_pit_load_count): count_load_time, a host time, is not used. */
static int load_pit(struct vm *vm, struct platform_clock *clk, struct stream_reader *r,
		    const struct stream_record *rec)
{
	struct kvm_pit_state2 pit;
	char why[STREAM_ERR_MAX];

	if (platform_rec_decode_pit(rec, &pit, why, sizeof(why)) < 0)
		return stream_reject(r, rec, why);
	if (ioctl(vm->fd, KVM_SET_PIT2, &pit) < 0)
		return ioctl_failed(r, rec, "KVM_SET_PIT2", errno);
	return 0;
}

/* The PM timer counts the time away too, in step with kvmclock. */
static int load_acpi_pm(struct vm *vm, struct platform_clock *clk, struct stream_reader *r,
			const struct stream_record *rec)
{
	struct stream_cursor c;
	const char *why = "malformed";
	int rc;

	if (!clk->loaded)
		return stream_reject(r, rec, "comes before the CLOCK record it needs");
	stream_cursor_init(&c, rec);
	pthread_mutex_lock(&vm->pm_lock);
	rc = acpi_pm_load(&vm->pm, &c, now_ns(CLOCK_MONOTONIC) - clk->elapsed_ns, &why);
	pthread_mutex_unlock(&vm->pm_lock);
	return rc < 0 ? stream_reject(r, rec, why) : 0;
}

static const struct {
	uint32_t type;
	int (*load)(struct vm *vm, struct platform_clock *clk, struct stream_reader *r,
		    const struct stream_record *rec);
} loaders[] = {
	{ STREAM_REC_CLOCK, load_clock },
	{ STREAM_REC_IRQCHIP, load_irqchip },
	{ STREAM_REC_PIT, load_pit },
	{ STREAM_REC_ACPI_PM, load_acpi_pm },
};

int platform_state_load(struct vm *vm, struct platform_clock *clk, struct stream_reader *r,
			const struct stream_record *rec)
{
	for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
		if (loaders[i].type == rec->type)
			return loaders[i].load(vm, clk, r, rec);
	}
	return -ENOENT;
}
