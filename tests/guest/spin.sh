# A guest that keeps its vCPU busy (tests/lab/domain-sched.sh: the CPU
# share its weight gives it against another's).
echo "GUEST-SPIN start"
while :; do :; done
