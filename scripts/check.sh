#!/usr/bin/env bash
# make check: install what is missing, build the kernels the scenarios need,
# run every scenario and the series lint; the runner prints KTAP and the
# final "N passed, N failed" line.
. "$(dirname "$0")/lib.sh"
use_series
# Cold: no kernel built yet on this machine (make bench reports both).
state=warm
[[ -n $(ls -A "$CACHE/build" 2>/dev/null) ]] || state=cold
start=$(date +%s)
need_packages "${HOST_PACKAGES[@]}"
mkdir -p "$CACHE"
rc=0
python3 "$TOP/harness/run.py" "$@" | tee "$CACHE/make-check.log" || rc=$?
# The runner's last line is the count; it prints its wall time just before.
if [[ $# -eq 0 ]]; then
	# The huge page setting changes a cold run's compile time (.ci/run).
	thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || true)
	printf '{"date": "%s", "seconds": %d, "result": "%s", "thp": "%s"}\n' "$(date +%F)" \
		$(($(date +%s) - start)) "$(tail -1 "$CACHE/make-check.log")" "$thp" >"$CACHE/make-check.$state.json"
fi
exit "$rc"
