/* LD_PRELOAD stand-in for the few hypervisor calls Xen 4.17's xl makes
 * before it prints a dry-run configuration (`xl -N create`), so that Xen's
 * own xl can make golden files on a host without Xen (peers.md §4 found
 * the list).  Maintainer tool: see make-golden.sh; not used by the tests.
 * Build: gcc -O2 -shared -fPIC -o libfakexen.so fakexen.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>
#include <libxl.h>

/* Any non-NULL handle will do: the stubs below never look into it. */
xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				unsigned open_flags)
{
	(void)logger;
	(void)dombuild_logger;
	(void)open_flags;
	return calloc(1, 4096);
}

int xc_interface_close(xc_interface *xch)
{
	free(xch);
	return 0;
}

/* libxl_get_version_info(): Xen 4.17, empty strings, 4 KiB pages. */
int xc_version(xc_interface *xch, int cmd, void *arg)
{
	(void)xch;
	switch (cmd) {
	case XENVER_version:
		return 4 << 16 | 17;
	case XENVER_extraversion:
		memset(arg, 0, sizeof(xen_extraversion_t));
		return 0;
	case XENVER_compile_info:
		memset(arg, 0, sizeof(xen_compile_info_t));
		return 0;
	case XENVER_capabilities:
		memset(arg, 0, sizeof(xen_capabilities_info_t));
		return 0;
	case XENVER_changeset:
		memset(arg, 0, sizeof(xen_changeset_info_t));
		return 0;
	case XENVER_platform_parameters:
		memset(arg, 0, sizeof(xen_platform_parameters_t));
		return 0;
	case XENVER_pagesize:
		return 4096;
	case XENVER_commandline:
		memset(arg, 0, sizeof(xen_commandline_t));
		return 0;
	default:
		return 0;
	}
}

/* A host of 64 CPUs, so that cpus= up to 63 is valid. */
int xc_get_max_cpus(xc_interface *xch)
{
	(void)xch;
	return 64;
}

int xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
	(void)xch;
	memset(info, 0, sizeof(*info));
	info->threads_per_core = 1;
	info->cores_per_socket = 64;
	info->nr_cpus = 64;
	info->max_cpu_id = 63;
	info->nr_nodes = 1;
	info->max_node_id = 0;
	info->total_pages = 1 << 20;
	info->free_pages = 1 << 19;
	return 0;
}

int libxl_get_physinfo(libxl_ctx *ctx, libxl_physinfo *physinfo)
{
	(void)ctx;
	physinfo->nr_cpus = 64;
	physinfo->max_cpu_id = 63;
	physinfo->threads_per_core = 1;
	physinfo->cores_per_socket = 64;
	return 0;
}
