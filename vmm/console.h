/* The primary Xen console (hvc0): the xencons_interface ring in the console
 * special page, served on the back-end event loop as a device instance
 * (dev.h, kind "console", id 0).  Guest output goes to the console log and
 * to the attached client; client input goes into the ring. */
#ifndef DOMUS_VMM_CONSOLE_H
#define DOMUS_VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev.h"

struct vm;
struct evl;
struct console;

/* Guest output from vCPU threads that the event loop has not written yet:
 * 512 KiB holds a 290 KiB flood even if the loop wrote nothing meanwhile;
 * beyond it output is dropped and counted (the log says how much). */
#define CONSOLE_QUEUE_BYTES (512u * 1024)
/* Notifications of the guest within this window are served together (console.c serve()). */
#define CONSOLE_BATCH_MS 10

struct console_cfg {
	const char *log_path;    /* NULL: no log */
	uint64_t log_max;        /* its cap (conlog.h); 0: none */
	const char *socket_path; /* for "xl console"; NULL: none */
	bool stdio;              /* mirror to stdout, read stdin */
};

/* Opens the log and the socket and gives the guest its port (HVM params);
 * the instance then goes to dev_add() with console_dev_ops. */
int console_create(struct vm *vm, struct evl *loop, const struct console_cfg *cfg, struct console **out);
extern const struct dev_ops console_dev_ops;

/* On the loop thread (SIGHUP): the log is opened again at its path, for
 * logrotate's move-and-create. */
int console_reopen_log(struct console *c);

/* From any thread (vCPU threads: console_io, port 0xE9): never blocks nor
 * writes; the event loop writes it out in order. */
void console_guest_output(struct vm *vm, const char *buf, size_t len);

#endif
