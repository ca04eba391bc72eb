# The guest's own xenstore-utils (over /dev/xen/xenbus) write into its
# domain directory; the host reads it back while the guest stays up.
xenstore-write data/hello world && echo "GUEST-XS-WRITE ok"
echo "GUEST-XS-READ $(xenstore-read name)"
while :; do sleep 3600; done
