# Prints about 290 KiB to the console as fast as it can (more than a Unix
# socket buffer holds), then a last line: a console client that does not
# read must not stall the guest.
seq 1 50000
echo "FLOOD-END"
