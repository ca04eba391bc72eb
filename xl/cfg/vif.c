/* Network interface specifications, xl-network-configuration(5).
 *
 * A spec is "key=value" settings separated by commas (xl_parse.c:
 * parse_nic_config); an empty spec ('') is a vif with every default.
 * Unlike Xen's xl, an unknown or malformed setting is an error, not a
 * message followed by a half-configured vif, and a MAC must be six
 * two-digit hex octets that are not multicast. */
#include "domcfg.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dom_nic_init(struct dom_nic *n)
{
	memset(n, 0, sizeof(*n));
	n->devid = -1;
	n->trusted = -1;
}

void dom_nic_dispose(struct dom_nic *n)
{
	if (!n)
		return;
	free(n->bridge);
	free(n->ip);
	free(n->script);
	free(n->ifname);
	free(n->model);
	free(n->backend_domname);
	free(n->gatewaydev);
	dom_nic_init(n);
}

void dom_nic_apply_defaults(struct dom_nic *n, const struct xl_defaults *xd)
{
	/* xl_nic.c: set_default_nic_values(), before the spec is parsed. */
	if (xd->vif_script)
		(void)cfg_replace_str(&n->script, xd->vif_script);
	if (xd->vif_bridge)
		(void)cfg_replace_str(&n->bridge, xd->vif_bridge);
	if (xd->vif_gatewaydev)
		(void)cfg_replace_str(&n->gatewaydev, xd->vif_gatewaydev);
	if (xd->vif_backend)
		(void)cfg_replace_str(&n->backend_domname, xd->vif_backend);
}

/* Six octets of one or two hex digits ("00:16:3e:1:2:3" is accepted, as
 * Xen's strtoul-based parse accepts it), separated by ':' or '-'. */
int dom_mac_parse(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = cfg_hexval(s[0]), lo;

		if (hi < 0)
			return -EINVAL;
		lo = cfg_hexval(s[1]);
		if (lo < 0) {
			mac[i] = (uint8_t)hi;
			s += 1;
		} else {
			mac[i] = (uint8_t)(hi << 4 | lo);
			s += 2;
		}
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return -EINVAL;
			s++;
		}
	}
	return *s ? -EINVAL : 0;
}

static const char *const nic_type_names[] = {
	[NIC_TYPE_UNKNOWN] = "unknown", [NIC_TYPE_VIF_IOEMU] = "vif_ioemu", [NIC_TYPE_VIF] = "vif",
};

const char *nic_type_name(enum nic_type t)
{
	return (unsigned)t < 3 ? nic_type_names[t] : "?";
}

/* Reads digits up to UINT32_MAX.  A leading zero is refused: Xen reads
 * these numbers with strtoull(.., 0), so "010" would be octal there. */
static int rate_number(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t n = 0;

	if (*p < '1' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return -ERANGE;
	}
	*out = n;
	*pp = p;
	return 0;
}

/* "RATE[@INTERVAL]": RATE is N{,K,M,G}{B,b}/s, INTERVAL N[s|ms|us|m|u]
 * (seconds without a unit; 50ms by default).  Semantics of Xen's
 * tools/libs/util/libxlu_vif.c. */
static int parse_rate(const char *s, uint64_t *bytes_per_interval, uint32_t *interval_usecs)
{
	const char *p = s;
	uint64_t rate, iv = 50000;
	int rc;

	rc = rate_number(&p, &rate);
	if (rc < 0)
		return rc;
	if (*p == 'G' || *p == 'M' || *p == 'K') {
		rate *= *p == 'G' ? 1000000000ull : *p == 'M' ? 1000000ull : 1000ull;
		p++;
	}
	if (*p == 'b')
		rate /= 8;
	else if (*p != 'B')
		return -EINVAL;
	if (strncmp(p + 1, "/s", 2))
		return -EINVAL;
	p += 3;
	if (*p == '@') {
		p++;
		rc = rate_number(&p, &iv);
		if (rc < 0)
			return rc;
		if (!strcmp(p, "ms") || !strcmp(p, "m"))
			iv *= 1000;
		else if (!strcmp(p, "s") || !*p)
			iv *= 1000000;
		else if (strcmp(p, "us") && strcmp(p, "u"))
			return -EINVAL;
		if (iv > UINT32_MAX)
			return -ERANGE;
	} else if (*p) {
		return -EINVAL;
	}
	if (rate > UINT64_MAX / iv)
		return -ERANGE;
	*interval_usecs = (uint32_t)iv;
	*bytes_per_interval = rate * iv / 1000000;
	return 0;
}

static int set_token(struct dom_nic *n, char *tok, struct cfg_diag *d, const char *source,
		     unsigned line, const char *field)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{ "bridge", offsetof(struct dom_nic, bridge) },
		{ "ip", offsetof(struct dom_nic, ip) },
		{ "script", offsetof(struct dom_nic, script) },
		{ "vifname", offsetof(struct dom_nic, ifname) },
		{ "model", offsetof(struct dom_nic, model) },
		{ "gatewaydev", offsetof(struct dom_nic, gatewaydev) },
		{ "backend", offsetof(struct dom_nic, backend_domname) },
	};
	char *eq = strchr(tok, '='), *v;
	int rc;

	if (!eq) {
		if (!strcmp(tok, "trusted") || !strcmp(tok, "untrusted")) {
			n->trusted = tok[0] == 't';
			return 0;
		}
		cfg_err(d, source, line, field, "\"%s\" is not key=value (e.g. mac=00:16:3e:12:34:56,bridge=xenbr0)",
			tok);
		return -EINVAL;
	}
	*eq = 0;
	v = eq + 1;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!strcmp(tok, strs[i].key))
			return cfg_replace_str((char **)((char *)n + strs[i].off), v);
	if (!strcmp(tok, "mac")) {
		if (dom_mac_parse(v, n->mac) < 0) {
			cfg_err(d, source, line, field, "malformed MAC \"%s\" (expected six hex octets, e.g. 00:16:3e:12:34:56)",
				v);
			return -EINVAL;
		}
		if (n->mac[0] & 1) {
			cfg_err(d, source, line, field, "MAC %s is a multicast address (the low bit of the first octet must be 0; Xen's prefix is 00:16:3e)",
				v);
			return -EINVAL;
		}
		n->mac_set = true;
		return 0;
	}
	if (!strcmp(tok, "type")) {
		if (!strcmp(v, "vif"))
			n->nictype = NIC_TYPE_VIF;
		else if (!strcmp(v, "ioemu"))
			n->nictype = NIC_TYPE_VIF_IOEMU;
		else {
			cfg_err(d, source, line, field, "unknown type \"%s\" (expected vif or ioemu)", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(tok, "rate")) {
		rc = parse_rate(v, &n->rate_bytes_per_interval, &n->rate_interval_usecs);
		if (rc < 0) {
			cfg_err(d, source, line, field, "%s rate \"%s\" (expected N{,K,M,G}{B,b}/s[@N{s,ms,us}], no leading 0, e.g. 10Mb/s@20ms)",
				rc == -ERANGE ? "overflowing" : "malformed", v);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(tok, "devid") || !strcmp(tok, "mtu")) {
		char *end;
		long l = strtol(v, &end, 10);

		if (!*v || *end || l < 0 || l > (tok[0] == 'd' ? 65535 : 65535)) {
			cfg_err(d, source, line, field, "%s \"%s\" is not a number in 0..65535", tok, v);
			return -EINVAL;
		}
		if (tok[0] == 'd')
			n->devid = (int)l;
		else
			n->mtu = (int)l;
		return 0;
	}
	if (!strcmp(tok, "accel")) {
		cfg_warn(d, source, line, field, "accel is ignored (not supported by xl either)");
		return 0;
	}
	if (!strncmp(tok, "colo", 4) || !strcmp(tok, "forwarddev") || !strcmp(tok, "netdev")) {
		cfg_err(d, source, line, field, "%s is not supported by domus", tok);
		return -EINVAL;
	}
	cfg_err(d, source, line, field,
		"unknown setting \"%s\" (known: mac, bridge, ip, script, vifname, type, model, rate, gatewaydev, mtu, devid)",
		tok);
	return -EINVAL;
}

int dom_nic_parse(struct dom_nic *n, const char *spec, struct cfg_diag *d, const char *source,
		  unsigned line, const char *field)
{
	char *s = strdup(spec), *save = NULL, *tok;
	int rc = 0;

	if (!s)
		return -ENOMEM;
	n->line = line;
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		if (!*tok)
			continue;
		rc = set_token(n, tok, d, source, line, field);
		if (rc < 0)
			break;
	}
	free(s);
	if (!rc && n->backend_domname && strcmp(n->backend_domname, "0") &&
	    strcmp(n->backend_domname, "Domain-0")) {
		cfg_err(d, source, line, field,
			"backend=%s: driver domains are not supported by domus (backends run in Domain-0)",
			n->backend_domname);
		rc = -EINVAL;
	}
	return rc;
}
