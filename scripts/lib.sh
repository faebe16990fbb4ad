# Shared helpers for the lastboot scripts; source it, do not run it.
# shellcheck shell=bash

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LASTBOOT_CACHE:-$HOME/.cache/lastboot}
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_BASEDIR=$CACHE
# Depend mode: on a miss the compiler runs once, without the two extra
# preprocessor passes of the default mode (from an empty cache: 1.57 times
# plain gcc's CPU in default mode, 1.09 in depend mode; make bench, figure 7).
export CCACHE_DEPEND=1

GIT_ID=(-c user.name=lastboot -c user.email=lastboot@localhost)

say()  { printf '[lastboot] %s\n' "$*" >&2; }
die()  { printf '[lastboot] error: %s\n' "$*" >&2; exit 1; }
warn() {
	printf '\n[lastboot] ************************************************************\n' >&2
	printf '[lastboot] WARNING: %s\n' "$@" >&2
	printf '[lastboot] ************************************************************\n\n' >&2
}

# Load bases/<base>.pin; rejects unknown bases by listing the known ones.
load_pin() {
	local base=$1 pin=$TOP/bases/$1.pin
	if [[ ! -f $pin ]]; then
		die "unknown BASE '$base' (known: $(cd "$TOP/bases" && ls ./*.pin | sed 's,\./,,;s,\.pin,,' | tr '\n' ' '))"
	fi
	# shellcheck source=/dev/null
	. "$pin"
	BASE=$base
	TREE=$CACHE/trees/$BASE
}

# The patches of series/<base> in order, one path per line: the
# format-patch files without the cover letter (git am refuses it: no diff).
series_patches() {
	find "$TOP/series/$1" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-cover-letter.patch' | sort
}

# Run a command with a progress line every 30 s so long steps show life.
with_progress() {
	local what=$1; shift
	local start=$SECONDS
	say "$what ..."
	"$@" &
	local pid=$! ticks=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if (( ++ticks % 30 == 0 )); then
			say "$what: still running ($((SECONDS - start)) s)"
		fi
	done
	local rc=0
	wait "$pid" || rc=$?
	(( rc == 0 )) || die "$what failed (exit $rc)"
	say "$what: done in $((SECONDS - start)) s"
}

# missing_packages PKG...: print those of PKG not installed.
missing_packages() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"
	done
}

# Install missing Debian packages (root, apt), once per package set.
need_packages() {
	local missing lock stamp=$CACHE/apt-updated
	mapfile -t missing < <(missing_packages "$@")
	(( ${#missing[@]} )) || return 0
	[[ $(id -u) == 0 ]] || die "need root to install: ${missing[*]}"
	mkdir -p "$CACHE"
	# Steps that run side by side (the harness fetches trees and packs the
	# initramfs during a build) may each find packages missing: they
	# install one at a time, each only what the previous one did not.
	exec {lock}>"$CACHE/apt.lock"
	flock "$lock"
	mapfile -t missing < <(missing_packages "$@")
	if (( ${#missing[@]} )); then
		if [[ ! -f $stamp ]] || [[ -n $(find "$stamp" -mmin +1440) ]]; then
			with_progress "apt-get update" apt-get update -qq
			touch "$stamp"
		fi
		say "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
			|| die "apt-get install ${missing[*]} failed"
	fi
	exec {lock}>&-
}

HOST_PACKAGES=(build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils zstd
	ccache kmod qemu-system-x86 busybox-static trace-cmd kexec-tools python3 git rsync)
