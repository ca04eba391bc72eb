# Crashes the guest kernel on purpose: the domain must end as crashed.
echo "DOMUS-PANICKING"
echo c > /proc/sysrq-trigger
