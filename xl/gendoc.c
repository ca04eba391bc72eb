/* Generates xl(1), xl.cfg(5) and the bash completion of xl from the tables
 * the program itself runs on (the command table, the xl.cfg key table), so
 * the documentation cannot drift from the code.  The prose around the
 * tables is the small doc source below.
 * usage: xl-gendoc man1|man5|bash-completion > FILE */
#include "xl.h"

#include <stdio.h>
#include <string.h>

/* roff-escapes text: backslashes, and '.' or '\'' at the start of a line. */
static void roff(const char *s)
{
	bool bol = true;

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", stdout);
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else
			putchar(*s);
		bol = *s == '\n';
	}
}

static void man1(void)
{
	fputs(".TH XL 1 \"\" \"domus\" \"domus manual\"\n"
	      ".SH NAME\n"
	      "xl \\- the domus toolstack, Xen's xl command line on Linux KVM\n"
	      ".SH SYNOPSIS\n"
	      ".B xl\n"
	      "[\\fB\\-v\\fR] [\\fB\\-N\\fR] [\\fB\\-f\\fR] [\\fB\\-t\\fR] [\\fB\\-T\\fR] \\fIsubcommand\\fR [\\fIargs\\fR]\n"
	      ".SH DESCRIPTION\n"
	      "\\fBxl\\fR manages domus domains with the commands, options and output of\n"
	      "Xen's xl. Domain configuration files are described in \\fBxl.cfg\\fR(5).\n"
	      "Commands marked \\fInot implemented yet\\fR check their options and exit 1.\n"
	      ".SH GLOBAL OPTIONS\n"
	      ".TP\n.B \\-v\nMore messages; twice for debug messages.\n"
	      ".TP\n.B \\-N\nDry run: print what would be done. Commands that cannot honour it refuse it.\n"
	      ".TP\n.B \\-f\nForce the action (for commands that modify a domain).\n"
	      ".TP\n.B \\-t\nAccepted for compatibility (progress output with carriage returns).\n"
	      ".TP\n.B \\-T\nAccepted for compatibility (timestamps on messages).\n"
	      ".SH COMMANDS\n",
	      stdout);
	for (size_t i = 0; i < xl_cmd_count; i++) {
		const struct xl_cmd *c = &xl_cmd_table[i];

		fputs(".TP\n.B ", stdout);
		roff(c->name);
		putchar(' ');
		roff(c->usage);
		putchar('\n');
		roff(c->summary);
		fputs(".", stdout);
		if (c->can_dryrun)
			fputs(" Honours \\fB\\-N\\fR.", stdout);
		if (!c->implemented)
			fputs(" \\fINot implemented yet in domus.\\fR", stdout);
		putchar('\n');
		if (c->options) {
			fputs(".RS\n.nf\n", stdout);
			roff(c->options);
			fputs("\n.fi\n.RE\n", stdout);
		}
	}
	fputs(".SH EXIT STATUS\n"
	      "0 on success; 1 on failure, for an unknown command, or for \\fB\\-N\\fR with a\n"
	      "command that cannot honour it; 2 for a bad option or too few arguments.\n"
	      ".SH ENVIRONMENT\n"
	      ".TP\n.B DOMUS_XL_CONF\nPath of the global configuration instead of /etc/xen/xl.conf.\n"
	      ".TP\n.B DOMUS_SANDBOX\nEach domain's monitor runs its threads under seccomp allowlists once the\n"
	      "domain is set up, unless this is \\fB0\\fR; \\fBlog\\fR has the kernel log a call outside them\n"
	      "and run it.\n"
	      ".SH FILES\n"
	      ".TP\n.I /etc/xen/xl.conf\nGlobal defaults: autoballoon, run_hotplug_scripts, claim_mode,\n"
	      "lockfile, vif.default.bridge, vif.default.script, vif.default.gatewaydev.\n"
	      ".SH SEE ALSO\n"
	      "\\fBxl.cfg\\fR(5), \\fBxl-disk-configuration\\fR(5), \\fBxl-network-configuration\\fR(5)\n",
	      stdout);
}

static void key_list(enum cfg_key_support which)
{
	struct cfg_key_doc k;

	for (size_t i = 0; domcfg_key_doc(i, &k) == 0; i++) {
		if (k.support != which)
			continue;
		if (which == KEY_SUPPORTED) {
			fputs(".TP\n.B ", stdout);
			roff(k.key);
			putchar('\n');
			roff(k.doc);
			putchar('\n');
		} else if (which == KEY_REFUSED) {
			fputs(".TP\n.B ", stdout);
			roff(k.key);
			putchar('\n');
			roff(k.doc);
			fputs(": an error.\n", stdout);
		} else {
			roff(k.key);
			fputs("\n", stdout);
		}
	}
}

static void man5(void)
{
	fputs(".TH XL.CFG 5 \"\" \"domus\" \"domus manual\"\n"
	      ".SH NAME\n"
	      "xl.cfg \\- domain configuration files of domus (Xen's xl.cfg)\n"
	      ".SH SYNTAX\n"
	      "A file is a sequence of \\fIKEY\\fR = \\fIVALUE\\fR settings, one per line or\n"
	      "separated by \\fB;\\fR. \\fIKEY\\fR += \\fIVALUE\\fR appends to a list or a string.\n"
	      "A value is a string in single or double straight quotes (escapes \\e\\e \\e' \\e\" \\en \\et\n"
	      "\\exHH \\eooo), a number, or a list [ value, ... ] that may span lines and end with\n"
	      "a comma. \\fB#\\fR starts a comment. Keys are lower case. Typographic quotes\n"
	      "(\\(lq \\(rq \\(oq \\(cq) are an error naming file, line and column.\n"
	      "A key given twice: the last one wins, with a warning.\n"
	      "KEY=VALUE arguments of \\fBxl create\\fR override the file.\n"
	      ".SH SUPPORTED KEYS\n",
	      stdout);
	key_list(KEY_SUPPORTED);
	fputs(".SH DISKS\n"
	      "Each item of \\fBdisk\\fR is a spec as in \\fBxl-disk-configuration\\fR(5):\n"
	      "positional \\fItarget\\fR, \\fIformat\\fR (raw, qcow2, vhd), \\fIvdev\\fR, \\fIaccess\\fR\n"
	      "(r, w), or \\fBtarget=\\fR, \\fBformat=\\fR, \\fBvdev=\\fR, \\fBaccess=\\fR,\n"
	      "\\fBdevtype=cdrom\\fR, \\fBbackendtype=\\fR, \\fBscript=\\fR; legacy prefixes such as\n"
	      "\\fBfile:\\fR and \\fBphy:\\fR. The vdev is xvdN, sdN, hdN or dN[pN]; two disks may\n"
	      "not name the same device.\n"
	      ".SH NETWORK\n"
	      "Each item of \\fBvif\\fR is comma-separated settings as in\n"
	      "\\fBxl-network-configuration\\fR(5): mac, bridge, ip, script, vifname, type, model,\n"
	      "rate, gatewaydev, mtu. A MAC must be unicast; '' is a vif with defaults.\n"
	      ".SH REFUSED KEYS\n"
	      "These keys of Xen's xl.cfg are errors in domus, because ignoring them would\n"
	      "give the guest less than the configuration asks for:\n",
	      stdout);
	key_list(KEY_REFUSED);
	fputs(".SH KEYS NOT SUPPORTED YET\n"
	      "These keys of Xen's xl.cfg are accepted with a warning and have no effect:\n"
	      ".PP\n.nf\n",
	      stdout);
	key_list(KEY_IGNORED_WARN);
	fputs(".fi\n.PP\nAny other key is unknown and gets a warning.\n"
	      ".SH SEE ALSO\n\\fBxl\\fR(1)\n",
	      stdout);
}

static void bash_completion(void)
{
	fputs("# bash completion for xl (domus); generated from the command table\n"
	      "_xl()\n{\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} i cmd=\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tcase ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac\n"
	      "\tdone\n"
	      "\tif [ -z \"$cmd\" ]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W '-v -N -f -t -T help",
	      stdout);
	for (size_t i = 0; i < xl_cmd_count; i++)
		printf(" %s", xl_cmd_table[i].name);
	fputs("' -- \"$cur\"))\n"
	      "\telif [ \"$cmd\" = help ]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W '",
	      stdout);
	for (size_t i = 0; i < xl_cmd_count; i++)
		printf("%s%s", i ? " " : "", xl_cmd_table[i].name);
	fputs("' -- \"$cur\"))\n"
	      "\telse\n"
	      "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\tfi\n"
	      "}\n"
	      "complete -F _xl xl\n",
	      stdout);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "man1"))
		man1();
	else if (argc == 2 && !strcmp(argv[1], "man5"))
		man5();
	else if (argc == 2 && !strcmp(argv[1], "bash-completion"))
		bash_completion();
	else {
		fprintf(stderr, "usage: xl-gendoc man1|man5|bash-completion\n");
		return 2;
	}
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}
