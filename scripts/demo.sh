#!/usr/bin/env bash
# make demo: see harness/demo.py.
. "$(dirname "$0")/lib.sh"
# The kernels are built from series/ as it is in the repository: a tree
# that differs is put back on the series (its own work kept; sync_series).
export LASTBOOT_FROM_SERIES=${LASTBOOT_FROM_SERIES:-1}
need_packages "${HOST_PACKAGES[@]}"
exec python3 "$TOP/harness/demo.py" "$@"
