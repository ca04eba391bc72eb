/* A domain's whole state into and out of the save stream
 * (docs/save-restore.md): what `xl save` and `xl restore` ask the monitor
 * for.  The records come in the order a load needs them
 * (docs/vmm-state.md "Order on load"):
 *
 *   MEMORY..., EXTRA_MEMORY...      guest pages first: KVM reads and writes
 *                                   shared_info and vcpu_info as soon as it
 *                                   is told where they are
 *   CLOCK, IRQCHIP, PIT, ACPI_PM    platform (CLOCK first)
 *   EVTCHN, GNTTAB, HVM_PARAMS, SHARED_INFO   the Xen state, then post-load
 *   XENBUS...                       each xenbus back end's state (docs/xenbus.md),
 *                                   kept until the devices part creates them
 *   VCPU x nr_vcpus
 *   END
 *
 * The stream has no header here: xl writes the file's header and its own
 * records (config, xenstore export) and hands over the descriptor at the
 * first of the monitor's records. */
#ifndef DOMUS_VMM_SAVERESTORE_H
#define DOMUS_VMM_SAVERESTORE_H

#include <stddef.h>

struct monitor;

/* On the event loop thread, the domain running or paused: pause the
 * vCPUs, quiesce the devices, append the records and END to fd, fsync;
 * then start the devices again and leave the vCPUs as they were (xl
 * destroys the domain after a save that is not a checkpoint, as Xen's xl
 * does).  A failure says why in `why` and leaves the domain as it was. */
int monitor_save(struct monitor *m, int fd, char *why, size_t wl);

/* On the main thread, the VM created and nothing else yet: reads the
 * records from fd (its offset at the first of them) in the order above
 * and loads them; the vm is then marked restored (back ends take their
 * ports from the loaded HVM params).  An unknown, misplaced, truncated or
 * malformed record fails with one line in `why` naming it. */
int monitor_restore(struct monitor *m, int fd, char *why, size_t wl);

#endif
