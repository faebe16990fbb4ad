#!/usr/bin/env bash
# Lint a series: git am every patch onto the pinned base in a scratch
# worktree, then checkpatch.pl --strict each one.  A missing Signed-off-by is
# the one complaint accepted (the sender adds it, see README).
# Usage: lint-series.sh BASE   (exit 0 clean, 1 problems, 2 empty series)
. "$(dirname "$0")/lib.sh"
load_pin "${1:?usage: lint-series.sh BASE}"
"$TOP/scripts/tree.sh" "$BASE" >/dev/null 2>&1 || "$TOP/scripts/tree.sh" "$BASE"

mapfile -t patches < <(find "$TOP/series/$BASE" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-cover-letter.patch' | sort)
(( ${#patches[@]} )) || { echo "series/$BASE is empty"; exit 2; }
[[ -f $TOP/series/$BASE/0000-cover-letter.patch ]] || { echo "series/$BASE has no cover letter"; exit 1; }

scratch=$CACHE/lint/$BASE
git -C "$TREE" worktree remove --force "$scratch" >/dev/null 2>&1 || rm -rf "$scratch"
git -C "$TREE" worktree prune
git -C "$TREE" worktree add -q --detach "$scratch" lastboot-base
trap 'git -C "$TREE" worktree remove --force "$scratch" >/dev/null 2>&1 || true' EXIT

bad=0
for p in "${patches[@]}"; do
	name=$(basename "$p")
	if ! git -C "$scratch" "${GIT_ID[@]}" am -q "$p" >/dev/null 2>&1; then
		echo "$name: does not apply with git am on the pinned base"
		git -C "$scratch" am --abort >/dev/null 2>&1 || true
		exit 1
	fi
	out=$(cd "$scratch" && perl scripts/checkpatch.pl --strict --no-tree --no-color --ignore MISSING_SIGN_OFF "$p" 2>&1) || true
	if grep -Eq '^total: [1-9][0-9]* errors|^total: 0 errors, [1-9][0-9]* warnings|, [1-9][0-9]* checks' <<<"$out"; then
		echo "$name: checkpatch --strict:"
		sed 's/^/    /' <<<"$out" | grep -v '^    $' | head -40
		bad=1
	else
		echo "$name: applies, checkpatch clean"
	fi
done
exit $bad
