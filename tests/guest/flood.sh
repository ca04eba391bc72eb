# Prints about 290 KiB to the console as fast as it can (more than a Unix
# socket buffer holds), then a last line: a console client that does not
# read must not stall the guest.  Through a pipe, so that the console gets
# big writes: seq alone writes to the tty a line at a time, 50,000 writes
# each ending in a hypercall and a wake-up of the monitor, which under the
# lab's TCG took 140-250 s and failed the test on a loaded host (issue 10).
seq 1 50000 | cat
echo "FLOOD-END"
