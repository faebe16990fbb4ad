#!/usr/bin/env bash
# Lint a series: git am every patch onto the pinned base in a scratch
# worktree, then checkpatch.pl --strict each one.  A missing Signed-off-by is
# the one complaint accepted (the sender adds it, see README).  checkpatch
# also asks "does MAINTAINERS need updating?" of every patch that adds a
# file; the lint answers it: no, when a MAINTAINERS entry other than THE
# REST already covers every added file (get_maintainer.pl), else it fails.
# With BUILD_EACH=1, also build the kernel after each patch (normal config
# of the lastboot flavour, incremental, ccache): every patch must build on
# its own, not only the whole series.
# Usage: [BUILD_EACH=1] lint-series.sh BASE   (exit 0 clean, 1 problems, 2 empty series)
. "$(dirname "$0")/lib.sh"
load_pin "${1:?usage: lint-series.sh BASE}"
"$TOP/scripts/tree.sh" "$BASE" >/dev/null 2>&1 || "$TOP/scripts/tree.sh" "$BASE"

mapfile -t patches < <(series_patches "$BASE")
(( ${#patches[@]} )) || { echo "series/$BASE is empty"; exit 2; }
[[ -f $TOP/series/$BASE/0000-cover-letter.patch ]] || { echo "series/$BASE has no cover letter"; exit 1; }

scratch=$CACHE/lint/$BASE
git -C "$TREE" worktree remove --force "$scratch" >/dev/null 2>&1 || rm -rf "$scratch"
git -C "$TREE" worktree prune
git -C "$TREE" worktree add -q --detach "$scratch" lastboot-base
trap 'git -C "$TREE" worktree remove --force "$scratch" >/dev/null 2>&1 || true' EXIT

# Build the scratch worktree through the same path as build-kernel.sh
# ($CACHE/src/<base>, a private bind mount) so that ccache serves every file
# a patch leaves alone.
build_each() {
	local out=$CACHE/build/$BASE-each mnt=$CACHE/src/$BASE cfg=$CACHE/build/$BASE-lastboot-normal/.config
	[[ -f $cfg ]] || "$TOP/scripts/build-kernel.sh" "$BASE" lastboot normal >/dev/null
	mkdir -p "$out" "$mnt"
	cp "$cfg" "$out/.config"
	unshare -m --propagation private sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' "$scratch" "$mnt" \
		make -s -C "$mnt" O="$out" -j3 CC="ccache gcc" HOSTCC="ccache gcc" olddefconfig bzImage modules \
		>"$out/build.log" 2>&1
}

# Every file patch $1 adds has a MAINTAINERS entry other than THE REST;
# sets $covered to the entries.
maintained_added_files() {
	local f sect
	covered=
	for f in $(git -C "$scratch" show --diff-filter=A --name-only --format= HEAD); do
		sect=$(cd "$scratch" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --sections -f "$f" 2>/dev/null |
			grep -E '^[A-Z][A-Z0-9 /()_.-]+$' | grep -vx 'THE REST' | head -n1)
		[[ -n $sect ]] || return 1
		[[ " $covered " == *" $sect "* ]] || covered="${covered:+$covered, }$sect"
	done
	[[ -n $covered ]]
}

# checkpatch PATCH IGNORES: checkpatch --strict's report on PATCH, run in the scratch tree.
checkpatch() {
	(cd "$scratch" && perl scripts/checkpatch.pl --strict --no-color --ignore "$2" "$1" 2>&1) || true
}

bad=0
for p in "${patches[@]}"; do
	name=$(basename "$p")
	if ! git -C "$scratch" "${GIT_ID[@]}" am -q "$p" >/dev/null 2>&1; then
		echo "$name: does not apply with git am on the pinned base"
		git -C "$scratch" am --abort >/dev/null 2>&1 || true
		exit 1
	fi
	# Run in the tree (no --no-tree), so that the checks needing it (SPDX
	# tags, MAINTAINERS, the spelling list) run too; its exit status only
	# says whether it found something, its "total:" line says what.
	out=$(checkpatch "$p" MISSING_SIGN_OFF)
	answered=
	if grep -q 'does MAINTAINERS need updating' <<<"$out" && maintained_added_files "$p"; then
		out=$(checkpatch "$p" MISSING_SIGN_OFF,FILE_PATH_CHANGES)
		answered=" (the files it adds are covered by MAINTAINERS: $covered)"
	fi
	# Clean is a total line of zeros; no total line means checkpatch did not run.
	if ! grep -Eq '^total: 0 errors, 0 warnings, 0 checks' <<<"$out"; then
		echo "$name: checkpatch --strict:"
		sed 's/^/    /' <<<"$out" | grep -v '^    $' | head -40
		bad=1
	else
		echo "$name: applies, checkpatch clean$answered"
	fi
	if [[ ${BUILD_EACH:-0} == 1 ]]; then
		start=$SECONDS
		if build_each; then
			echo "$name: builds on its own ($((SECONDS - start)) s)"
		else
			echo "$name: does not build on its own:"
			grep -E 'error|Error' "$CACHE/build/$BASE-each/build.log" | head -10 | sed 's/^/    /'
			bad=1
		fi
	fi
done
exit $bad
