# Helpers for the step scripts the host sends (sourced by /init).
# Results go to the second serial port (ttyS1), framed so the host can split
# them into named sections; the console (ttyS0) keeps the kernel log.

T=/sys/kernel/tracing
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3>/dev/ttyS1

# emit NAME CMD...: run CMD, send its output and exit status as section
# NAME.  The serial port is slow under TCG, so the output goes gzip'ed and
# base64'ed; the host decodes it.
emit() {
	_name=$1
	shift
	_rc=0
	"$@" >/tmp/emit.out 2>&1 || _rc=$?
	echo "=== BEGIN $_name gzip-base64" >&3
	gzip -1 </tmp/emit.out | base64 >&3
	echo "=== END $_name rc=$_rc" >&3
	rm -f /tmp/emit.out
	return 0
}

# emit_file NAME FILE: send a file as section NAME.
emit_file() {
	emit "$1" cat "$2"
}

data_flush() {
	sync
}

# workload SECONDS: keep the scheduler, timers and interrupts busy on every
# CPU so that sched/timer/irq events are recorded everywhere, until SECONDS
# have passed or workload_stop.
workload() {
	_end=$(($(date +%s) + $1))
	rm -f /tmp/workload.stop
	for _c in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$_c" sh -c "while [ \$(date +%s) -lt $_end ] && [ ! -e /tmp/workload.stop ]; do usleep 5000; done" &
	done
	wait
}

# seq_markers MARKER_FILE [USLEEP]: on every CPU, a writer pinned to it
# writes "lb-seq CPU N" to MARKER_FILE, N counting up from 0, every USLEEP
# microseconds (default 2000; 0: as fast as the shell goes) until
# workload_stop; a write the instance refuses (tracing_on is 0) is tried
# again with the same N.  The host checks that the markers that come back
# form one unbroken run (harness/tracefile.py).
seq_markers() {
	for _c in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$_c" sh -c "n=0; while [ ! -e /tmp/workload.stop ]; do
			echo \"lb-seq $_c \$n\" 2>/dev/null >$1 && n=\$((n + 1))
			[ ${2:-2000} = 0 ] || usleep ${2:-2000}; done" &
	done
}

workload_stop() {
	touch /tmp/workload.stop
	sleep 1
}

# fill_until_wrapped INSTANCE_DIR MAX_SECONDS: record function-tracer events
# into INSTANCE_DIR on every CPU until every CPU's part has wrapped
# (overrun > 0), then stop it; fail after MAX_SECONDS.  A dd of single
# bytes per CPU keeps each CPU in and out of the kernel all the time.
fill_until_wrapped() {
	echo function >"$1/current_tracer"
	for _c in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$_c" dd if=/dev/zero of=/dev/null bs=1 count=1000000000 2>/dev/null &
	done
	_n=0
	until _all_wrapped "$1"; do
		sleep 1
		_n=$((_n + 1))
		[ $_n -lt "$2" ] || { echo "lastboot-guest: $1 did not wrap in $2 s"; return 1; }
	done
	echo 0 >"$1/tracing_on"
	echo "lastboot-guest: $1 wrapped after $_n s" >/dev/kmsg
}

# drain_pipe INSTANCE_DIR OUT: consume INSTANCE_DIR/trace_pipe into OUT with
# non-blocking reads (guest/drain.c): it returns once the pipe is empty,
# whether the instance held anything or not. Tracing is turned off first
# where the instance has a switch (a backup has none). A failed read fails
# the step; a read that never returns hangs the guest, and the host's boot
# timeout reports it.
drain_pipe() {
	[ ! -e "$1/tracing_on" ] || echo 0 >"$1/tracing_on"
	lastboot-drain "$1/trace_pipe" >"$2"
}

_all_wrapped() {
	for _c in $(seq 0 $(($(nproc) - 1))); do
		grep -q '^overrun: [1-9]' "$1/per_cpu/cpu$_c/stats" || return 1
	done
}

# crash: panic the kernel the way an operator's sysrq would.
crash() {
	echo "lastboot-guest: crashing now"
	echo c >/proc/sysrq-trigger
}

# stage: which kernel of a kexec chain this is (lastboot.stage=N, default 1).
stage() {
	_s=$(sed -n 's/.*lastboot\.stage=\([0-9]*\).*/\1/p' /proc/cmdline)
	echo "${_s:-1}"
}

# pstore_emit_files STAGE: what /sys/fs/pstore holds, as section
# stageSTAGE-files, and each file's contents as stageSTAGE-file-NAME.
pstore_emit_files() {
	emit "stage$1-files" ls /sys/fs/pstore
	for _f in /sys/fs/pstore/*; do
		[ -e "$_f" ] || continue
		emit_file "stage$1-file-${_f##*/}" "$_f"
	done
}

# kexec_next EXTRA_CMDLINE...: KHO-capable kexec (in-kernel file loader) into
# this same kernel (/boot/bzImage, packed by the host), with an initrd
# repacked from this root file system, this kernel's command line, the next
# stage number and EXTRA_CMDLINE.  (fw_cfg would be simpler but reads at
# ~70 KB/s under TCG.)
kexec_next() {
	(cd / && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \) -prune -o -print |
		cpio -o -H newc >/tmp/initrd 2>/dev/null)
	# NEXT_CMDLINE, when set, replaces this kernel's command line.
	_cmd=${NEXT_CMDLINE:-$(sed 's/ *lastboot\.stage=[0-9]*//' /proc/cmdline)}
	tsc_mark load-start
	kexec -s -l /boot/bzImage --initrd=/tmp/initrd --command-line="$_cmd lastboot.stage=$(($(stage) + 1)) $*"
	tsc_mark load-end
	rm -f /tmp/initrd
	data_flush
	echo "lastboot-guest: kexec into stage $(($(stage) + 1))"
	tsc_mark exec
	kexec -e
}

# tsc_mark WHAT: with LASTBOOT_TSC=1, log "lastboot-tsc stage<N> WHAT
# <counter>" to the kernel log, whose console lines reach the host even
# from the last moment before a kexec: make bench times kexec chains so.
tsc_mark() {
	[ -z "${LASTBOOT_TSC:-}" ] || echo "lastboot-tsc stage$(stage) $1 $(lastboot-tsc)" >/dev/kmsg
}

# systemd_pstore [SOURCE ARCHIVE]: run Debian's systemd-pstore (packed by
# the host with its libraries) as systemd-pstore.service runs it at boot:
# it archives what /sys/fs/pstore holds to /var/lib/systemd/pstore
# (Storage=external) and removes each file it archived from pstore
# (Unlink=yes), or as /etc/systemd/pstore.conf says.  There is no journal
# here: it logs to stderr (SYSTEMD_LOG_LEVEL=debug for more).
systemd_pstore() {
	SYSTEMD_LOG_TARGET=console /lib/systemd/systemd-pstore "$@"
}
