#!/usr/bin/env bash
# make demo: see harness/demo.py.
. "$(dirname "$0")/lib.sh"
use_series
need_packages "${HOST_PACKAGES[@]}"
exec python3 "$TOP/harness/demo.py" "$@"
