/* Checks domus's JSON against Xen's own libxl: reads JSON on stdin, parses
 * it with libxl's generated *_from_json() into a libxl_domain_config (or a
 * disk or nic), prints it back with *_to_json().  Output equal to input
 * means the JSON is a fixed point of libxl: every key is one libxl knows,
 * in its order, with its types, and nothing printed is at a libxl default.
 *
 * libxl's JSON functions take a libxl_ctx only to own their temporary
 * allocations and to log errors; a real one needs a hypervisor
 * (libxl_ctx_alloc opens privcmd), so this passes a zeroed stand-in.  Test
 * code only; it relies on libxl 4.17's success paths not reading the ctx.
 * usage: libxl-roundtrip domain|disk|nic <JSON */
#include <libxl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	const char *kind = argc == 2 ? argv[1] : "";
	libxl_ctx *ctx = calloc(1, 1 << 16); /* see above */
	size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);
	char *out = NULL;
	int rc = 1;

	buf[n] = 0;
	if (!ctx)
		return 1;
	if (!strcmp(kind, "domain")) {
		libxl_domain_config c;

		libxl_domain_config_init(&c);
		if (!libxl_domain_config_from_json(ctx, &c, buf))
			out = libxl_domain_config_to_json(ctx, &c);
		libxl_domain_config_dispose(&c);
	} else if (!strcmp(kind, "disk")) {
		libxl_device_disk d;

		libxl_device_disk_init(&d);
		if (!libxl_device_disk_from_json(ctx, &d, buf))
			out = libxl_device_disk_to_json(ctx, &d);
		libxl_device_disk_dispose(&d);
	} else if (!strcmp(kind, "nic")) {
		libxl_device_nic nic;

		libxl_device_nic_init(&nic);
		if (!libxl_device_nic_from_json(ctx, &nic, buf))
			out = libxl_device_nic_to_json(ctx, &nic);
		libxl_device_nic_dispose(&nic);
	} else {
		fprintf(stderr, "usage: libxl-roundtrip domain|disk|nic <JSON\n");
		return 2;
	}
	if (out) {
		fputs(out, stdout); /* libxl's text ends in a newline, as xl prints it */
		rc = 0;
	} else {
		fprintf(stderr, "libxl could not parse the JSON\n");
	}
	free(out);
	free(ctx);
	return rc;
}
