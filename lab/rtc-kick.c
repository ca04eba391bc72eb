/* rtc-kick: keeps the lab's RTC raising a periodic interrupt, so that an
 * interrupt QEMU forgets to deliver is delivered by the next one.
 *
 * Why (issue 10, measured): a frozen lab is a halted vCPU with IF=1 and the
 * local APIC timer's vector (0xec) set in IRR, yet QEMU does not wake it:
 * the CPU's interrupt request was lost.  QEMU's TCG VMRUN helper sets
 * CPU_INTERRUPT_VIRQ with a plain read-modify-write of interrupt_request
 * while it does not hold the iothread lock (target/i386/tcg/sysemu/
 * svm_helper.c, helper_vmrun, "if (ctl_has_irq(env)) ... |= VIRQ"), and the
 * main loop sets CPU_INTERRUPT_POLL in the same word when a device or the
 * APIC timer fires.  When both race, the POLL request is lost; the APIC's
 * IRR keeps the vector but nothing makes the vCPU look at it.  L1 KVM asks
 * for a virtual interrupt window (V_IRQ) whenever it holds an interrupt for
 * a nested guest that has IF=0, which a console-flooding guest does all the
 * time.  Any later interrupt re-runs the APIC's poll and delivers what was
 * lost (a byte on the serial console was seen to revive a frozen lab), so a
 * periodic device interrupt bounds the loss to one period.  The RTC is
 * chosen because it costs nothing else: the lab keeps its one-shot,
 * high-resolution timers.
 *
 *   rtc-kick [HZ]   default 16; runs until killed */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long hz = argc > 1 ? strtoul(argv[1], NULL, 10) : 16, data;
	int fd = open("/dev/rtc0", O_RDONLY);

	/* The RTC divides 32768 Hz by powers of two: 2..64 Hz need no privilege. */
	if (hz < 2 || hz > 64 || (hz & (hz - 1))) {
		fprintf(stderr, "rtc-kick: HZ must be a power of two from 2 to 64, not %s\n", argv[1]);
		return 2;
	}
	if (fd < 0) {
		fprintf(stderr, "rtc-kick: /dev/rtc0: %s\n", strerror(errno));
		return 1;
	}
	if (ioctl(fd, RTC_IRQP_SET, hz) < 0 || ioctl(fd, RTC_PIE_ON, 0) < 0) {
		fprintf(stderr, "rtc-kick: periodic interrupts on /dev/rtc0: %s\n", strerror(errno));
		return 1;
	}
	printf("LAB-KICK on: RTC periodic interrupt at %lu Hz\n", hz);
	fflush(stdout);
	/* Reading is not needed for the interrupts to fire; it keeps the process
	 * asleep in the kernel and notices if the RTC stops. */
	for (;;) {
		if (read(fd, &data, sizeof(data)) < 0 && errno != EINTR) {
			fprintf(stderr, "rtc-kick: read /dev/rtc0: %s\n", strerror(errno));
			return 1;
		}
	}
}
