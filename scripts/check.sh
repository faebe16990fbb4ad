#!/usr/bin/env bash
# make check: install what is missing, build the kernels the scenarios need,
# run every scenario and the series lint; the runner prints KTAP and the
# final "N passed, N failed" line.
. "$(dirname "$0")/lib.sh"
need_packages "${HOST_PACKAGES[@]}"
# The runner's last line is the count; it prints its wall time just before.
exec python3 "$TOP/harness/run.py" "$@"
