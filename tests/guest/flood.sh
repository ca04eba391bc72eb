# Prints about 290 KiB to the console as fast as it can (more than a Unix
# socket buffer holds), then a last line: a console client that does not
# read must not stall the guest.  "domus.flood=N" on the command line prints
# N lines instead of 50000.
n=$(sed -n 's/.*domus\.flood=\([0-9]*\).*/\1/p' /proc/cmdline)
seq 1 "${n:-50000}"
echo "FLOOD-END"
