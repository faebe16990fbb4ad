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
	# shellcheck disable=SC2034 # for the scripts that source this file
	TREE=$CACHE/trees/$BASE
}

# The patches of series/<base> in order, one path per line: the
# format-patch files without the cover letter (git am refuses it: no diff).
series_patches() {
	find "$TOP/series/$1" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-cover-letter.patch' | sort
}

# use_series: make check, demo and bench build series/ as it is in the
# repository: a tree that differs is put back on the series, its own work
# kept (sync_series, set_aside_tree).  LASTBOOT_FROM_SERIES=0 in the
# environment builds the tree as it is instead.
use_series() { export LASTBOOT_FROM_SERIES=${LASTBOOT_FROM_SERIES:-1}; }

# apply_series TREE PATCH...: reset TREE to its base (tag lastboot-base) and
# git am PATCH... onto it; the head this makes is remembered, so that a
# later series may replace a stack that is still ours (see sync_series).
apply_series() {
	local tree=$1 p
	shift
	git -C "$tree" reset -q --hard lastboot-base
	rm -f "$tree/.git/lastboot-applied"
	for p in "$@"; do
		git "${GIT_ID[@]}" -C "$tree" am -q --keep-cr "$p" >/dev/null 2>&1 || {
			git -C "$tree" am --abort >/dev/null 2>&1 || true
			git -C "$tree" reset -q --hard lastboot-base
			die "${p#"$TOP"/} does not apply on the base of $tree"
		}
	done
	git -C "$tree" rev-parse HEAD >"$tree/.git/lastboot-applied"
}

# sync_series TREE PATCH...: make TREE's commits on its base be PATCH...
# A stack this function applied and nobody touched since is replaced when
# the series changed (a pull, a stale cache).  Commits or uncommitted
# changes of a developer are built as they are, with a warning, unless
# LASTBOOT_FROM_SERIES=1 (make check, demo and bench: they use the series):
# then they are kept on a branch lastboot-saved-<time> and in the stash,
# and the series is applied.
sync_series() {
	local tree=$1 head applied ids_tree ids_series dirty saved
	shift
	ids_tree=$(git -C "$tree" log -p --reverse lastboot-base..HEAD | git patch-id --stable | awk '{print $1}')
	ids_series=$( (($#)) && cat "$@" | git patch-id --stable | awk '{print $1}' || true)
	dirty=$(git -C "$tree" status --porcelain -uno)
	head=$(git -C "$tree" rev-parse HEAD)
	if [[ $ids_tree == "$ids_series" && -z $dirty ]]; then
		# The tree is the series (applied, or exported from it): ours.
		echo "$head" >"$tree/.git/lastboot-applied"
		return 0
	fi
	applied=$(cat "$tree/.git/lastboot-applied" 2>/dev/null || git -C "$tree" rev-parse lastboot-base)
	if [[ $head == "$applied" && -z $dirty ]]; then
		say "applying the $# patches of the series to $tree"
		apply_series "$tree" "$@"
		return 0
	fi
	if [[ ${LASTBOOT_FROM_SERIES:-0} != 1 ]]; then
		warn "$tree differs from the series: building it as it is (make export writes its commits back)"
		return 0
	fi
	saved=lastboot-saved-$(date +%Y%m%d-%H%M%S)
	if [[ -n $dirty ]]; then
		git "${GIT_ID[@]}" -C "$tree" stash push -q -m "$saved: uncommitted changes"
		say "uncommitted changes of $tree kept in its stash ($saved)"
	fi
	if [[ $ids_tree != "$ids_series" ]]; then
		git -C "$tree" branch "$saved" "$head"
		say "commits of $tree that differ from the series kept on branch $saved"
	fi
	say "applying the $# patches of the series to $tree"
	apply_series "$tree" "$@"
}

# set_aside_tree TREE STOCK DEB: move TREE, made from the package DEB, out of
# the way to TREE.from-<package>-<time>, everything in it kept; its stock
# worktree STOCK, which holds nothing of its own, is removed.
set_aside_tree() {
	local tree=$1 stock=$2 old
	old=$tree.from-${3%_all.deb}-$(date +%Y%m%d-%H%M%S)
	git -C "$tree" worktree remove --force "$stock" >/dev/null 2>&1 || rm -rf "$stock"
	mv "$tree" "$old"
	git -C "$old" worktree prune
	warn "$tree was made from ${3:-an unknown package}, not from the pinned one: moved to $old"
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

# systemd: for its systemd-pstore, packed into the guest initramfs.
# shellcheck disable=SC2034 # for the scripts that source this file
HOST_PACKAGES=(build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils zstd
	ccache kmod qemu-system-x86 busybox-static trace-cmd kexec-tools python3 git rsync
	systemd)
