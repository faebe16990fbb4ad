#!/usr/bin/env bash
# make bench: see harness/bench.py.
. "$(dirname "$0")/lib.sh"
use_series
need_packages "${HOST_PACKAGES[@]}"
exec python3 "$TOP/harness/bench.py" "$@"
