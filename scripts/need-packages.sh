#!/usr/bin/env bash
# Install the host packages lastboot needs (apt, as root), if any is missing.
. "$(dirname "$0")/lib.sh"
need_packages "${HOST_PACKAGES[@]}"
