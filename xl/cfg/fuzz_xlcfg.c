/* libFuzzer target for the xl.cfg parser: every input goes through the
 * whole pipeline (grammar, semantic pass, JSON) and, as a string, through
 * the disk and vif spec parsers.  Built with clang only (xl/meson.build). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domcfg.h"
#include "syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop(void *opaque, enum cfg_sev sev, const char *line)
{
	(void)opaque;
	(void)sev;
	(void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t uuid[16] = { 1, 2, 3 };
	struct cfg_diag d = { .emit = drop };
	struct domain_config c;
	struct xl_defaults xd;
	struct dom_disk k;
	struct dom_nic n;
	struct cfg_file f;
	char *s, *json;

	cfg_file_init(&f);
	domcfg_init(&c);
	xl_defaults_init(&xd);
	if (cfg_parse(&f, "fuzz.cfg", (const char *)data, size, &d) == 0) {
		if (domcfg_from_cfg(&c, &f, &xd, uuid, &d) == 0) {
			json = domcfg_to_json(&c);
			free(json);
		}
		(void)xl_defaults_from_cfg(&xd, &f, &d);
	}
	domcfg_dispose(&c);
	xl_defaults_dispose(&xd);
	cfg_file_dispose(&f);

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	dom_disk_init(&k);
	if (dom_disk_parse(&k, (const char *const *)&s, 1, &d, "fuzz", 1, "disk") == 0)
		free(dom_disk_to_json(&k));
	dom_disk_dispose(&k);
	dom_nic_init(&n);
	if (dom_nic_parse(&n, s, &d, "fuzz", 1, "vif") == 0)
		free(dom_nic_to_json(&n));
	dom_nic_dispose(&n);
	free(s);
	return 0;
}
