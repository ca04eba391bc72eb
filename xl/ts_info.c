/* xl info: the host, with the field names and order of Xen 4.17's
 * tools/xl/xl_info.c (print_info: output_nodeinfo, output_physinfo,
 * output_xeninfo, xend_config_format).  The values are this Linux host's,
 * and for the hypervisor fields what domus's monitor tells its guests
 * (vmm/xen/version.c): scripts that read `xl info xen_version` see the
 * Xen interface domus implements, and xen_changeset names domus's own
 * version (docs/install.md "xl info"). */
#include "ts.h"
#include "xl.h"
#include "version.h"

#include <dirent.h>
#include <elf.h>
#include <getopt.h>
#include <inttypes.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#define INFO_VAL_MAX 512

/* What vmm/xen/version.c answers to XENVER_version, _extraversion,
 * _capabilities and _platform_parameters. */
#define INFO_XEN_MAJOR 4
#define INFO_XEN_MINOR 17
#define INFO_XEN_EXTRA ".0-domus"
#define INFO_XEN_CAPS "hvm-3.0-x86_64"
#define INFO_VIRT_START 0xffff800000000000ULL

struct info_ctx {
	struct utsname u;
	struct sysinfo si;
};

typedef void (*info_fn)(const struct info_ctx *c, char *v, size_t len);

/* Counts the CPUs in a sysfs cpu list ("0-3,8,10-11"); 0 if unreadable. */
static int cpulist_count(const char *path)
{
	char buf[4096], *p, *end;
	FILE *f = fopen(path, "re");
	int n = 0;

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	for (p = buf; *p && *p != '\n';) {
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (b >= a)
			n += (int)(b - a + 1);
		p = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return n;
}

/* A /proc/meminfo value in kB, or -1 (ts.h). */
long long ts_meminfo_kb(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (v < 0 && fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = strtoll(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

static void f_host(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%s", c->u.nodename);
}

static void f_release(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%s", c->u.release);
}

static void f_version(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%s", c->u.version);
}

static void f_machine(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%s", c->u.machine);
}

static void f_nr_cpus(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
}

static void f_max_cpu_id(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%ld", sysconf(_SC_NPROCESSORS_CONF) - 1);
}

static void f_nr_nodes(const struct info_ctx *c, char *v, size_t len)
{
	int n = cpulist_count("/sys/devices/system/node/online");

	snprintf(v, len, "%d", n > 0 ? n : 1);
}

static int threads_per_core(void)
{
	int n = cpulist_count("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list");

	return n > 0 ? n : 1;
}

static void f_cores_per_socket(const struct info_ctx *c, char *v, size_t len)
{
	int n = cpulist_count("/sys/devices/system/cpu/cpu0/topology/core_siblings_list");

	snprintf(v, len, "%d", n > 0 ? n / threads_per_core() : 1);
}

static void f_threads_per_core(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%d", threads_per_core());
}

/* Xen prints its cpu_khz as MHz with three decimals; /proc/cpuinfo's
 * "cpu MHz" is the same number for the first CPU. */
static void f_cpu_mhz(const struct info_ctx *c, char *v, size_t len)
{
	char line[256];
	double mhz = 0;
	FILE *f = fopen("/proc/cpuinfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "cpu MHz", 7) == 0 && strchr(line, ':')) {
			mhz = strtod(strchr(line, ':') + 1, NULL);
			break;
		}
	if (f)
		fclose(f);
	snprintf(v, len, "%.3f", mhz);
}

/* The first eight words of Xen's x86 featureset, in its order
 * (xen/include/public/arch-x86/cpufeatureset.h: 1d, 1c, e1d, e1c, Da1,
 * 7b0, 7c0, e7d), as this CPU reports them to the host. */
static void f_hw_caps(const struct info_ctx *c, char *v, size_t len)
{
	uint32_t w[8] = { 0 };
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, cx, d, max = __get_cpuid_max(0, NULL), emax = __get_cpuid_max(0x80000000, NULL);

	if (max >= 1 && __get_cpuid_count(1, 0, &a, &b, &cx, &d)) {
		w[0] = d;
		w[1] = cx;
	}
	if (emax >= 0x80000001 && __get_cpuid_count(0x80000001, 0, &a, &b, &cx, &d)) {
		w[2] = d;
		w[3] = cx;
	}
	if (max >= 0xd && __get_cpuid_count(0xd, 1, &a, &b, &cx, &d))
		w[4] = a;
	if (max >= 7 && __get_cpuid_count(7, 0, &a, &b, &cx, &d)) {
		w[5] = b;
		w[6] = cx;
	}
	if (emax >= 0x80000007 && __get_cpuid_count(0x80000007, 0, &a, &b, &cx, &d))
		w[7] = d;
#endif
	snprintf(v, len, "%08x:%08x:%08x:%08x:%08x:%08x:%08x:%08x", w[0], w[1], w[2], w[3], w[4], w[5], w[6],
		 w[7]);
}

/* Xen's " hvm" when it can run HVM guests: here, when /dev/kvm is there
 * (xl's line starts with the field's separator, then " cap" per cap). */
static void f_virt_caps(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%s", access("/dev/kvm", F_OK) == 0 ? "hvm" : "");
}

static void f_total_memory(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%llu", (unsigned long long)c->si.totalram * c->si.mem_unit >> 20);
}

/* What a new domain could still get: the kernel's MemAvailable (guests'
 * RAM is ordinary host memory), else free RAM. */
static void f_free_memory(const struct info_ctx *c, char *v, size_t len)
{
	long long kb = ts_meminfo_kb("MemAvailable");

	if (kb >= 0)
		snprintf(v, len, "%lld", kb >> 10);
	else
		snprintf(v, len, "%llu", (unsigned long long)c->si.freeram * c->si.mem_unit >> 20);
}

/* No page sharing, no claims, no cpupools in domus: Xen's zeros. */
static void f_zero(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "0");
}

static void f_xen_major(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%d", INFO_XEN_MAJOR);
}

static void f_xen_minor(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%d", INFO_XEN_MINOR);
}

static void f_xen_extra(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%s", INFO_XEN_EXTRA);
}

static void f_xen_version(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%d.%d%s", INFO_XEN_MAJOR, INFO_XEN_MINOR, INFO_XEN_EXTRA);
}

static void f_xen_caps(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%s", INFO_XEN_CAPS);
}

/* Linux's scheduler runs the vCPU threads; no Xen scheduler name fits. */
static void f_xen_scheduler(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "linux");
}

static void f_xen_pagesize(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "%ld", sysconf(_SC_PAGESIZE));
}

static void f_platform_params(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "virt_start=0x%llx", INFO_VIRT_START);
}

static void f_xen_changeset(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "domus %s (%s)", DOMUS_PROJECT_VERSION, DOMUS_VCS_VERSION);
}

/* No hypervisor, so no hypervisor command line. */
static void f_empty(const struct info_ctx *c, char *v, size_t len)
{
	v[0] = '\0';
}

static void f_cc_compiler(const struct info_ctx *c, char *v, size_t len)
{
#ifdef __clang__
	snprintf(v, len, "clang %s", __clang_version__);
#else
	snprintf(v, len, "gcc %s", __VERSION__);
#endif
}

static void f_cc_compile_date(const struct info_ctx *c, char *v, size_t len)
{
	/* gcc and clang take __DATE__ from SOURCE_DATE_EPOCH when set */
	snprintf(v, len, "%s", __DATE__);
}

struct note_search {
	char *v;
	size_t len;
	bool found;
};

/* The GNU build-id note of xl itself (the main program, the first object). */
static int find_build_id(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct note_search *s = arg;

	for (int i = 0; i < info->dlpi_phnum && !s->found; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;

		if (ph->p_type != PT_NOTE)
			continue;
		while (!s->found && p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof(*n);
			const unsigned char *desc = (const unsigned char *)name + ((n->n_namesz + 3) & ~3u);

			if ((const char *)desc + n->n_descsz > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
				size_t o = 0;

				for (size_t k = 0; k < n->n_descsz && o + 3 <= s->len; k++)
					o += (size_t)snprintf(s->v + o, s->len - o, "%02x", desc[k]);
				s->found = true;
			}
			p = (const char *)desc + ((n->n_descsz + 3) & ~3u);
		}
	}
	return 1; /* the main program only */
}

static void f_build_id(const struct info_ctx *c, char *v, size_t len)
{
	struct note_search s = { v, len, false };

	v[0] = '\0';
	dl_iterate_phdr(find_build_id, &s);
}

static void f_xend_config_format(const struct info_ctx *c, char *v, size_t len)
{
	snprintf(v, len, "4");
}

struct info_field {
	const char *name;
	info_fn fn;
};

/* Xen 4.17's fields, in its order: output_nodeinfo and output_physinfo, */
static const struct info_field host_fields[] = {
	{ "host", f_host },
	{ "release", f_release },
	{ "version", f_version },
	{ "machine", f_machine },
	{ "nr_cpus", f_nr_cpus },
	{ "max_cpu_id", f_max_cpu_id },
	{ "nr_nodes", f_nr_nodes },
	{ "cores_per_socket", f_cores_per_socket },
	{ "threads_per_core", f_threads_per_core },
	{ "cpu_mhz", f_cpu_mhz },
	{ "hw_caps", f_hw_caps },
	{ "virt_caps", f_virt_caps },
	{ "total_memory", f_total_memory },
	{ "free_memory", f_free_memory },
	{ "sharing_freed_memory", f_zero },
	{ "sharing_used_memory", f_zero },
	{ "outstanding_claims", f_zero },
	{ "free_cpus", f_zero },
	{ NULL, NULL },
};

/* then (after the topology of -n) output_xeninfo and xend_config_format. */
static const struct info_field xen_fields[] = {
	{ "xen_major", f_xen_major },
	{ "xen_minor", f_xen_minor },
	{ "xen_extra", f_xen_extra },
	{ "xen_version", f_xen_version },
	{ "xen_caps", f_xen_caps },
	{ "xen_scheduler", f_xen_scheduler },
	{ "xen_pagesize", f_xen_pagesize },
	{ "platform_params", f_platform_params },
	{ "xen_changeset", f_xen_changeset },
	{ "xen_commandline", f_empty },
	{ "cc_compiler", f_cc_compiler },
	{ "cc_compile_by", f_empty },
	{ "cc_compile_domain", f_empty },
	{ "cc_compile_date", f_cc_compile_date },
	{ "build_id", f_build_id },
	{ "xend_config_format", f_xend_config_format },
	{ NULL, NULL },
};

/* A small integer from a sysfs file, or def. */
static long sysfs_long(const char *path, long def)
{
	FILE *f = fopen(path, "re");
	long v = def;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = def;
		fclose(f);
	}
	return v;
}

/* The NUMA node of a CPU: the nodeN link in its sysfs directory. */
static int cpu_node(long cpu)
{
	char path[128];
	struct dirent *e;
	DIR *d;
	int node = 0;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld", cpu);
	d = opendir(path);
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9')
			node = atoi(e->d_name + 4);
	if (d)
		closedir(d);
	return node;
}

/* `xl info -n`: Xen's output_topologyinfo and output_numainfo, from sysfs.
 * PCI devices are listed with the node Linux gives them, when it gives one. */
static void print_topology(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	char path[320], line[256];
	struct dirent *e;
	int valid = 0, nodes = 0;
	DIR *d;

	printf("cpu_topology           :\n");
	printf("cpu:    core    socket     node\n");
	for (long i = 0; i < ncpu; i++) {
		long core;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld/topology/core_id", i);
		core = sysfs_long(path, -1);
		if (core < 0)
			continue; /* offline: Xen's INVALID_ENTRY */
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld/topology/physical_package_id", i);
		printf("%3ld:    %4ld     %4ld     %4d\n", i, core, sysfs_long(path, 0), cpu_node(i));
	}
	printf("device topology        :\n");
	printf("device           node\n");
	d = opendir("/sys/bus/pci/devices");
	while (d && (e = readdir(d))) {
		unsigned seg, bus, dev, fn;
		long node;

		if (sscanf(e->d_name, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/numa_node", e->d_name);
		node = sysfs_long(path, -1);
		if (node < 0)
			continue;
		printf("%04x:%02x:%02x.%01x      %ld\n", seg, bus, dev, fn, node);
		valid++;
	}
	if (d)
		closedir(d);
	if (!valid)
		printf("No device topology data available\n");
	printf("numa_info              :\n");
	printf("node:    memsize    memfree    distances\n");
	for (int n = 0; n < 1024; n++) {
		unsigned long long total = 0, nfree = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", n);
		f = fopen(path, "re");
		if (!f)
			continue; /* node ids may have holes */
		nodes++;
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "MemTotal:");
			char *q = strstr(line, "MemFree:");

			if (p)
				total = strtoull(p + 9, NULL, 10);
			if (q)
				nfree = strtoull(q + 8, NULL, 10);
		}
		fclose(f);
		printf("%4d:    %6llu     %6llu      ", n, total >> 10, nfree >> 10);
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/distance", n);
		f = fopen(path, "re");
		if (f && fgets(line, sizeof(line), f)) {
			char *tok, *save = NULL;
			bool first = true;

			for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
				printf("%s%s", first ? "" : ",", tok);
				first = false;
			}
		}
		if (f)
			fclose(f);
		printf("\n");
	}
	if (!nodes) /* a kernel without NUMA: one node, the whole host */
		printf("%4d:    %6s     %6s      %d\n", 0, "-", "-", 10);
}

/* The fields of table t: all, or the values of those whose name begins
 * with only (Xen's maybe_printf). */
static void print_fields(const struct info_field *t, const struct info_ctx *c, const char *only)
{
	char v[INFO_VAL_MAX];

	for (; t->name; t++) {
		bool caps = strcmp(t->name, "virt_caps") == 0;

		if (only && strncmp(t->name, only, strlen(only)) != 0)
			continue;
		t->fn(c, v, sizeof(v));
		/* Xen prints virt_caps as ":" then " cap" for each; with none the
		 * line has no ": " and a lookup of it prints nothing. */
		if (only && !(caps && !v[0]))
			printf("%s\n", v);
		else if (caps && !only)
			printf("%-23s:%s%s\n", t->name, v[0] ? " " : "", v);
		else if (!only)
			printf("%-23s: %s\n", t->name, v);
	}
}

int xl_cmd_info(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = { { "help", 0, NULL, 'h' }, { "numa", 0, NULL, 'n' }, { 0 } };
	struct info_ctx c;
	const char *only = NULL;
	int opt, rc = 0;
	bool numa = false;

	while ((opt = xl_getopt(x, argc, argv, "n", lopts, 0, &rc)) != -1) {
		if (opt == XL_OPT_EXIT)
			return rc;
		if (opt == 'n')
			numa = true;
	}
	/* As Xen's main_info: one argument (without -n) prints only the
	 * value of the fields whose name it begins. */
	if (!numa && optind < argc)
		only = argv[optind];
	if (uname(&c.u) < 0 || sysinfo(&c.si) < 0) {
		perror("xl info");
		return 1;
	}
	print_fields(host_fields, &c, only);
	if (numa)
		print_topology();
	print_fields(xen_fields, &c, only);
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}
