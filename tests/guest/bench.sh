# bench/boot: reaching /init is the measurement (DOMUS-INIT carries the
# guest's uptime); then stay up so the host can read the monitor's memory.
echo "DOMUS-BENCH-READY"
while :; do sleep 3600; done
