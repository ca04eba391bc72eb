/* The one command table: dispatch, `xl help`, xl(1) and bash completion
 * all read it.  Names, usage lines and -N/-f capabilities follow Xen
 * 4.17's tools/xl/xl_cmdtable.c so that scripts and habits carry over. */
#include "xl.h"

#include <string.h>

#define NI xl_not_implemented

const struct xl_cmd xl_cmd_table[] = {
	{ "create", xl_cmd_create, true, true, true,
	  "Create a domain from config file <filename>",
	  "<ConfigFile> [options] [vars]",
	  "-h                      Print this help.\n"
	  "-p                      Leave the domain paused after it is created.\n"
	  "-c                      Connect to the console after the domain is created.\n"
	  "-f FILE, --defconfig=FILE\n"
	  "                        Use the given configuration file.\n"
	  "-q, --quiet             Quiet.\n"
	  "-n, --dryrun            Dry run - prints the resulting configuration\n"
	  "                         (deprecated in favour of global -N option).\n"
	  "-d                      Enable debug messages.\n"
	  "-F                      Run in foreground until death of the domain.\n"
	  "-e                      Do not wait in the background for the death of the domain.\n"
	  "-V, --vncviewer         Connect to the VNC display after the domain is created.\n"
	  "-A, --vncviewer-autopass\n"
	  "                        Pass VNC password to viewer via stdin." },
	{ "list", xl_cmd_list, false, false, true,
	  "List information about all/some domains",
	  "[options] [Domain]",
	  "-l, --long              Output all VM details\n"
	  "-v, --verbose           Prints out UUIDs and security context\n"
	  "-Z, --context           Prints out security context\n"
	  "-c, --cpupool           Prints the cpupool the domain is in\n"
	  "-n, --numa              Prints out NUMA node affinity" },
	{ "destroy", xl_cmd_destroy, false, true, true,
	  "Terminate a domain immediately",
	  "[options] <Domain>",
	  "-f                      Permit destroying domain 0 (refused by domus: Domain-0 is the host)." },
	{ "shutdown", xl_cmd_shutdown, false, true, true,
	  "Issue a shutdown signal to a domain",
	  "[options] <-a|Domain>",
	  "-a, --all               Shutdown all guest domains.\n"
	  "-h                      Print this help.\n"
	  "-F                      Fallback to ACPI power event for HVM guests with\n"
	  "                        no PV drivers.\n"
	  "-w, --wait              Wait for guest(s) to shutdown." },
	{ "reboot", xl_cmd_reboot, false, true, true,
	  "Issue a reboot signal to a domain",
	  "[options] <-a|Domain>",
	  "-a, --all               Reboot all guest domains.\n"
	  "-h                      Print this help.\n"
	  "-F                      Fallback to ACPI reset event for HVM guests with\n"
	  "                        no PV drivers.\n"
	  "-w, --wait              Wait for guest(s) to reboot." },
	{ "pause", xl_cmd_pause, false, true, true, "Pause execution of a domain", "<Domain>", NULL },
	{ "unpause", xl_cmd_unpause, false, true, true, "Unpause a paused domain", "<Domain>", NULL },
	{ "console", xl_cmd_console, false, false, true, "Attach to domain's console",
	  "[options] <Domain>",
	  "-t <type>       console type, pv , serial or vuart\n"
	  "-n <number>     console number" },
	{ "save", xl_cmd_save, false, true, true, "Save a domain state to restore later",
	  "[options] <Domain> <CheckpointFile> [<ConfigFile>]",
	  "-h  Print this help.\n"
	  "-c  Leave domain running after creating the snapshot.\n"
	  "-p  Leave domain paused after creating the snapshot." },
	{ "migrate", NI, false, true, false, "Migrate a domain to another host",
	  "[options] <Domain> <host>",
	  "-h              Print this help.\n"
	  "-C <config>     Send <config> instead of config file from creation.\n"
	  "-s <sshcommand> Use <sshcommand> instead of ssh.\n"
	  "-e              Do not wait in the background (on <host>) for the death\n"
	  "                of the domain.\n"
	  "--debug         Print huge (!) amount of debug during the migration process.\n"
	  "-p              Do not unpause domain after migrating it." },
	{ "restore", xl_cmd_restore, false, true, true, "Restore a domain from a saved state",
	  "[options] [<ConfigFile>] <CheckpointFile>",
	  "-h                       Print this help.\n"
	  "-p                       Do not unpause domain after restoring it.\n"
	  "-e                       Do not wait in the background for the death of the domain.\n"
	  "-d                       Enable debug messages." },
	{ "migrate-receive", NI, false, true, false, "Restore a domain from a saved state",
	  "- for internal use only", NULL },
	{ "cd-insert", NI, true, true, false, "Insert a cdrom into a guest's cd drive",
	  "<Domain> <VirtualDevice> <path>", NULL },
	{ "cd-eject", NI, true, true, false, "Eject a cdrom from a guest's cd drive",
	  "<Domain> <VirtualDevice>", NULL },
	{ "mem-max", NI, false, true, false, "Set the maximum amount reservation for a domain",
	  "<Domain> <MemMB['b'[bytes]|'k'[KB]|'m'[MB]|'g'[GB]|'t'[TB]]>", NULL },
	{ "mem-set", NI, false, true, false, "Set the current memory usage for a domain",
	  "<Domain> <MemMB['b'[bytes]|'k'[KB]|'m'[MB]|'g'[GB]|'t'[TB]]>", NULL },
	{ "vcpu-list", NI, false, false, false, "List the VCPUs for all/some domains",
	  "[Domain, ...]", NULL },
	{ "vcpu-pin", NI, true, true, false, "Set which CPUs a VCPU can use",
	  "[option] <Domain> <VCPU|all> <Hard affinity|-|all> <Soft affinity|-|all>",
	  "-f, --force        undo an override pinning done by the kernel" },
	{ "vcpu-set", NI, false, true, false,
	  "Set the number of active VCPUs allowed for the domain",
	  "[option] <Domain> <vCPUs>",
	  "-i, --ignore-host  Don't limit the vCPU based on the host CPU count" },
	{ "vm-list", NI, false, false, false, "List guest domains, excluding dom0, stubdoms, etc.",
	  "", NULL },
	{ "info", xl_cmd_info, false, false, true, "Get information about Xen host",
	  "[-n, --numa]", "-n, --numa         List host NUMA topology information" },
	{ "sched-credit", xl_cmd_sched_credit, false, true, true, "Get/set credit scheduler parameters",
	  "[-d <Domain> [-w[=WEIGHT]|-c[=CAP]]] [-s [-t TSLICE] [-r RATELIMIT]] [-p CPUPOOL]",
	  "-d DOMAIN, --domain=DOMAIN        Domain to modify\n"
	  "-w WEIGHT, --weight=WEIGHT        Weight (int)\n"
	  "-c CAP, --cap=CAP                 Cap (int)\n"
	  "-s         --schedparam           Query / modify scheduler parameters\n"
	  "-t TSLICE, --tslice_ms=TSLICE     Set the timeslice, in milliseconds\n"
	  "-r RLIMIT, --ratelimit_us=RLIMIT  Set the scheduling rate limit, in microseconds\n"
	  "-p CPUPOOL, --cpupool=CPUPOOL     Restrict output to CPUPOOL" },
	{ "domid", xl_cmd_domid, false, false, true, "Convert a domain name to domain id", "<DomainName>",
	  NULL },
	{ "domname", xl_cmd_domname, false, false, true, "Convert a domain id to domain name", "<DomainId>",
	  NULL },
	{ "rename", NI, false, true, false, "Rename a domain", "<Domain> <NewDomainName>", NULL },
	{ "trigger", NI, false, true, false, "Send a trigger to a domain",
	  "<Domain> <nmi|reset|init|power|sleep|s3resume> [<VCPU>]", NULL },
	{ "sysrq", NI, false, true, false, "Send a sysrq to a domain", "<Domain> <letter>", NULL },
	{ "dmesg", NI, false, false, false, "Read and/or clear dmesg buffer", "[-c]",
	  "  -c                        Clear dmesg buffer as well as printing it" },
	{ "top", NI, false, false, false, "Monitor a host and the domains in real time", "", NULL },
	{ "network-attach", xl_cmd_network_attach, true, true, true,
	  "Create a new virtual network device",
	  "<Domain> [type=<type>] [mac=<mac>] [bridge=<bridge>] [ip=<ip>] [script=<script>] "
	  "[backend=<BackDomain>] [vifname=<name>] [rate=<rate>] [model=<model>] [accel=<accel>]",
	  NULL },
	{ "network-list", xl_cmd_network_list, false, false, true, "List virtual network interfaces for a domain",
	  "<Domain(s)>", NULL },
	{ "network-detach", xl_cmd_network_detach, false, true, true, "Destroy a domain's virtual network device",
	  "<Domain> <DevId|mac>", NULL },
	{ "block-attach", xl_cmd_block_attach, true, true, true,
	  "Create a new virtual block device",
	  "<Domain> <disk-spec-component(s)>...", NULL },
	{ "block-list", xl_cmd_block_list, false, false, true, "List virtual block devices for a domain",
	  "<Domain(s)>", NULL },
	{ "block-detach", xl_cmd_block_detach, false, true, true, "Destroy a domain's virtual block device",
	  "[option] <Domain> <DevId>",
	  "-f, --force        do not wait for the domain to release the device" },
	{ "uptime", xl_cmd_uptime, false, false, true, "Print uptime for all/some domains", "[-s] [Domain]",
	  NULL },
};

const size_t xl_cmd_count = sizeof(xl_cmd_table) / sizeof(xl_cmd_table[0]);

const struct xl_cmd *xl_cmd_lookup(const char *name)
{
	for (size_t i = 0; i < xl_cmd_count; i++)
		if (!strcmp(xl_cmd_table[i].name, name))
			return &xl_cmd_table[i];
	return NULL;
}
