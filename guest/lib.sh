# Helpers for the step scripts the host sends (sourced by /init).
# Results go to the second serial port (ttyS1), framed so the host can split
# them into named sections; the console (ttyS0) keeps the kernel log.

T=/sys/kernel/tracing
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3>/dev/ttyS1

# emit NAME CMD...: run CMD, send its output as section NAME.
emit() {
	_name=$1
	shift
	echo "=== BEGIN $_name" >&3
	_rc=0
	"$@" >&3 2>&1 || _rc=$?
	echo "=== END $_name rc=$_rc" >&3
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
# CPU so that sched/timer/irq events are recorded everywhere.
workload() {
	_end=$(($(date +%s) + $1))
	for _c in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$_c" sh -c "while [ \$(date +%s) -lt $_end ]; do usleep 2000; done" &
	done
	wait
}

# crash: panic the kernel the way an operator's sysrq would.
crash() {
	echo "lastboot-guest: crashing now"
	echo c >/proc/sysrq-trigger
}
