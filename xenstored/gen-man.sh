#!/bin/sh
# gen-man.sh XENSTORED VERSION: xenstored(8), made from `xenstored --help`
# so that the page and the program cannot tell different stories.  The
# options are its usage lines ("  -x, --long <arg>  text", continued by
# deeper-indented lines); the rest is the page's own few paragraphs.
set -eu
help=$("$1" --help 2>&1) || true
echo "$help" | grep -q '^Usage: xenstored' || { echo "gen-man: $1 --help printed no usage" >&2; exit 1; }
cat <<EOT
.TH XENSTORED 8 "" "domus $2" "domus"
.SH NAME
xenstored \\- the XenStore daemon of domus
.SH SYNOPSIS
.B xenstored
[\\fIoptions\\fR]
.SH DESCRIPTION
.B xenstored
keeps the XenStore, the tree of keys through which Domain-0's tools and the
guests' drivers find each other, and serves it on the wire protocol of Xen's
own daemon (Xen's \\fIxenstore.txt\\fR): to Domain-0's clients on a Unix
socket, and to each guest through the ring its monitor (domus-vmm) hands
over.  \\fBxl\\fR(1) starts it on first use when no service runs it.
Its state outlives restarts (SIGTERM, kill \\-9) and an in-place upgrade.
.SH OPTIONS
EOT
echo "$help" | awk '
	function flush() { if (opt != "") { print ".TP"; print "\\fB" opt "\\fR"; print text } opt = ""; text = "" }
	/^Usage:/ { next }
	/^  -/ {
		flush()
		line = $0; sub(/^  /, "", line)
		# the option part ends at the first run of two spaces
		i = index(line, "  ")
		if (i) { opt = substr(line, 1, i - 1); text = substr(line, i); sub(/^ +/, "", text) }
		else { opt = line; text = "" }
		next
	}
	/^      / && opt != "" && !/^      -/ { l = $0; sub(/^ +/, "", l); text = text " " l; next }
	/^      --/ { flush(); line = $0; sub(/^ +/, "", line); i = index(line, "  ");
		if (i) { opt = substr(line, 1, i - 1); text = substr(line, i); sub(/^ +/, "", text) } else { opt = line; text = "" }; next }
	{ flush(); rest = rest $0 "\n" }
	END { flush(); if (rest != "") { print ".SH SIGNALS"; printf "%s", rest } }
' | sed 's/-/\\-/g'
cat <<EOT
.SH FILES
.TP
.I /run/xenstored/socket
Domain-0's clients (XENSTORED_PATH, XENSTORED_RUNDIR).
.TP
.I /run/xenstored/guest
where monitors hand over guest rings.
.SH SEE ALSO
\\fBxl\\fR(1), \\fBxenstore-read\\fR(1), docs/xenstored.md in domus's source.
EOT
