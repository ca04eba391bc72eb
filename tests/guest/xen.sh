# What a Xen guest should see of its hypervisor (used under domus-vmm).
echo "GUEST-HYPERVISOR $(cat /sys/hypervisor/type 2>/dev/null || echo none)"
echo "GUEST-CPUS $(grep -c ^processor /proc/cpuinfo)"
dmesg | grep -E 'Xen|xen|WARNING|Oops' | head -40
