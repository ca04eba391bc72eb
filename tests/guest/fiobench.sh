# bench/disk (bench/disk.inner): fio's six jobs on one disk, one after the
# other, each time-based over the disk's first MIB MiB, O_DIRECT, one job
# thread:
#   seqread, seqwrite          1 MiB blocks, iodepth 8
#   randread1, randwrite1      4 KiB blocks, iodepth 1
#   randread32, randwrite32    4 KiB blocks, iodepth 32
# For each job it prints one line, fio's terse (version 3) result cut down
# by awk to the job's own direction (KiB/s is fio's unit, 1024 bytes/s):
#   GUEST-FIO-RESULT JOB bw_kib N iops N
# or GUEST-FIO-ERROR JOB TEXT, and GUEST-FIO-DONE at the end.
#
# In a guest the disk is the first xen-blkfront (xvd*) or virtio-blk (vd*)
# disk, and the knobs come from the kernel command line:
# domus.fio_runtime=S (default 10), domus.fio_mib=N (default 1024),
# domus.fio_engine=libaio|io_uring (default libaio).  The environment
# (FIO_DEV, FIO_RUNTIME, FIO_MIB, FIO_ENGINE) overrides them: bench/disk.inner
# runs this same script on the lab's own file, so that every peer runs
# exactly the same jobs.
cmdline() { sed -n "s/.*domus\.$1=\([^ ]*\).*/\1/p" /proc/cmdline 2>/dev/null; }
RUNTIME=${FIO_RUNTIME:-$(cmdline fio_runtime)}
MIB=${FIO_MIB:-$(cmdline fio_mib)}
ENGINE=${FIO_ENGINE:-$(cmdline fio_engine)}
RUNTIME=${RUNTIME:-10}
MIB=${MIB:-1024}
ENGINE=${ENGINE:-libaio}
command -v fio >/dev/null || { echo "GUEST-FIO-ERROR all fio is missing (boot the fixture of lab/fixture --bench)"; exit 1; }

dev=${FIO_DEV:-}
# first_disk: the first xvd* or vd* block device, or nothing
first_disk() {
	for b in /sys/block/xvd* /sys/block/vd*; do
		[ -e "$b" ] && [ -b "/dev/${b##*/}" ] && { echo "${b##*/}"; return; }
	done
}
if [ -z "$dev" ]; then
	i=0
	while [ "$i" -lt 60 ] && [ -z "$(first_disk)" ]; do
		sleep 0.5
		i=$((i + 1))
	done
	name=$(first_disk)
	if [ -z "$name" ]; then
		echo "GUEST-FIO-ERROR all no xvd or vd disk: $(ls /sys/block)"
		exit 1
	fi
	dev=/dev/$name
	echo "GUEST-FIO dev=$name sectors=$(cat "/sys/block/$name/size") scheduler=$(tr ' ' , <"/sys/block/$name/queue/scheduler" 2>/dev/null)"
fi
echo "GUEST-FIO runtime=$RUNTIME mib=$MIB engine=$ENGINE"

# counts: the disk's completed requests (reads + writes of its stat) and
# its driver's interrupts (blkif, virtio); a guest only.  Their ratio per
# job says how well a peer batches: each interrupt costs an exit.
counts() {
	[ -n "${FIO_DEV:-}" ] && return
	ios=$(awk '{ print $1 + $5 }' "/sys/block/$name/stat")
	irqs=$(awk '/blkif|virtio[0-9]*-req|virtio[0-9]*-request/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts)
	echo "$ios $irqs"
}

# run JOB RW BS IODEPTH
rc=0
run() {
	before=$(counts)
	out=$(fio --name="$1" --filename="$dev" --rw="$2" --bs="$3" --iodepth="$4" \
		--ioengine="$ENGINE" --direct=1 --numjobs=1 --size="${MIB}M" \
		--time_based --runtime="$RUNTIME" \
		--output-format=terse --terse-version=3 2>&1)
	# terse v3: 5 error, 7 read KiB/s, 8 read IOPS, 48 write KiB/s, 49 write IOPS
	line=$(echo "$out" | awk -F';' -v job="$1" -v dir="$2" '
		$1 == "3" && NF > 49 {
			if ($5 != 0) { print "GUEST-FIO-ERROR " job " fio error " $5; exit }
			if (dir ~ /read/) print "GUEST-FIO-RESULT " job " bw_kib " $7 " iops " $8
			else print "GUEST-FIO-RESULT " job " bw_kib " $48 " iops " $49
			exit
		}')
	after=$(counts)
	if [ -n "$before" ]; then
		set -- "$1" $before $after
		echo "GUEST-FIO stat $1 requests=$(($4 - $2)) interrupts=$(($5 - $3))"
	fi
	case "$line" in
	GUEST-FIO-RESULT*) echo "$line" ;;
	*)
		echo "${line:-GUEST-FIO-ERROR $1 no terse result}"
		echo "$out" | tail -n 5 | sed "s/^/GUEST-FIO-ERROR $1 /"
		rc=1
		;;
	esac
}
run seqread read 1M 8
run seqwrite write 1M 8
run randread1 randread 4k 1
run randwrite1 randwrite 4k 1
run randread32 randread 4k 32
run randwrite32 randwrite 4k 32
# A guest's disk drivers' complaints: errors fio's totals would not show.
if [ -z "${FIO_DEV:-}" ]; then
	dmesg | grep -iE 'I/O error|blkfront.*(fail|error)|virtio_blk.*(fail|error)' | sed 's/^/GUEST-FIO-DMESG /'
fi
echo "GUEST-FIO-DONE rc=$rc"
exit "$rc"
