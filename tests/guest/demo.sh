# What `make demo` shows from inside the guest, then it powers off.
echo
echo "Hello from $(xenstore-read name) (domain $(xenstore-read domid)), a Xen guest on domus"
echo "  kernel:     $(uname -sr)"
echo "  hypervisor: $(cat /sys/hypervisor/type) $(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)"
echo "  cpus:       $(grep -c ^processor /proc/cpuinfo), memory: $(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"
echo "  xenstore:   $(xenstore-ls "/local/domain/$(xenstore-read domid)" 2>/dev/null | wc -l) nodes under its /local/domain directory"
dmesg | grep -E "Booting kernel on Xen PVH|2-level ABI|Grant tables" | sed 's/^/  dmesg: /'
echo
