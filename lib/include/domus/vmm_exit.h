/* The exit status of domus-vmm: how a domain ended, read by the xl
 * supervisor that waits for its monitor (on_poweroff / on_reboot / on_crash
 * are chosen from it).  The monitor's usage text and docs/domains.md list the
 * same values. */
#ifndef DOMUS_VMM_EXIT_H
#define DOMUS_VMM_EXIT_H

enum vmm_exit {
	VMM_EXIT_POWEROFF = 0,
	VMM_EXIT_FAILED = 1, /* also what a monitor that never ran the guest returns */
	VMM_EXIT_REBOOT = 2,
	VMM_EXIT_CRASH = 3,
	VMM_EXIT_DESTROYED = 4, /* xl destroy */
};

/* "powered off", "failed", "rebooted", "crashed", "destroyed"; NULL for any
 * other status (a monitor that died some other way). */
static inline const char *vmm_exit_word(int status)
{
	static const char *const words[] = {
		[VMM_EXIT_POWEROFF] = "powered off", [VMM_EXIT_FAILED] = "failed",
		[VMM_EXIT_REBOOT] = "rebooted",	     [VMM_EXIT_CRASH] = "crashed",
		[VMM_EXIT_DESTROYED] = "destroyed",
	};

	return status >= 0 && status < (int)(sizeof(words) / sizeof(words[0])) ? words[status] : NULL;
}

#endif
