/* Differential libFuzzer target: domus's disk spec parser against Xen's
 * libxlutil (xlu_disk_parse).  Two properties:
 *   - whatever domus accepts, Xen accepts with the same libxl JSON;
 *   - whatever Xen accepts and domus refuses is refused for a documented
 *     reason (docs/xl-cfg.md): a vdev domus cannot number, format qcow or
 *     qed, a driver domain backend, COLO or virtio parameters, or Xen's
 *     lexer ignoring a trailing '='.
 * The libxl ctx is a zeroed stand-in, as in libxl_roundtrip.c. */
#include <libxl.h>
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool allowed_stricter(const libxl_device_disk *x, const char *spec, size_t len)
{
	return !x->vdev || dom_vdev_to_devid(x->vdev, NULL, NULL) < 0 ||
	       x->format == LIBXL_DISK_FORMAT_QCOW || x->format == LIBXL_DISK_FORMAT_QED ||
	       (x->backend_domname && strcmp(x->backend_domname, "0") &&
		strcmp(x->backend_domname, "Domain-0")) ||
	       strstr(spec, "colo") || strstr(spec, "specification=") ||
	       strstr(spec, "active-disk=") || strstr(spec, "hidden-disk=") ||
	       (len && spec[len - 1] == '=');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static libxl_ctx *ctx;
	static FILE *devnull;
	struct cfg_diag d = { .emit = NULL }; /* messages counted, not formatted */
	libxl_device_disk x;
	struct dom_disk k;
	XLU_Config *cfg;
	char *spec, *ours = NULL, *xens = NULL;
	const char *sp;
	int xrc, orc;

	if (!ctx) {
		ctx = calloc(1, 1 << 16);
		devnull = fopen("/dev/null", "w");
		if (!ctx || !devnull)
			abort();
	}
	/* a spec is one C string on one line (as in a config or argv) */
	if (memchr(data, 0, size) || memchr(data, '\n', size))
		return 0;
	spec = strndup((const char *)data, size);
	if (!spec)
		return 0;
	sp = spec;
	dom_disk_init(&k);
	orc = dom_disk_parse(&k, &sp, 1, &d, "fuzz", 0, "disk");
	libxl_device_disk_init(&x);
	cfg = xlu_cfg_init(devnull, "fuzz");
	xrc = cfg ? xlu_disk_parse(cfg, 1, &sp, &x) : -1;
	if (!orc) {
		ours = dom_disk_to_json(&k);
		xens = xrc ? NULL : libxl_device_disk_to_json(ctx, &x);
		/* libxl's text ends with a newline, ours does not */
		if (!ours || !xens || strncmp(ours, xens, strlen(ours)) ||
		    strcmp(xens + strlen(ours), "\n")) {
			fprintf(stderr, "domus accepts '%s' as\n%s\nXen: %s\n", spec, ours,
				xens ? xens : "refuses it");
			abort();
		}
	} else if (!xrc && !allowed_stricter(&x, spec, size)) {
		fprintf(stderr, "Xen accepts '%s', domus refuses it for no documented reason\n", spec);
		abort();
	}
	free(ours);
	free(xens);
	if (cfg)
		xlu_cfg_destroy(cfg);
	libxl_device_disk_dispose(&x);
	dom_disk_dispose(&k);
	free(spec);
	return 0;
}
