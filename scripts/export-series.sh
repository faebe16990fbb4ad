#!/usr/bin/env bash
# Write the commits of a base's tree back to series/<base>/ as git
# format-patch output with a cover letter.  The cover letter's subject and
# body come from series/<base>/DESCRIPTION (first line = subject).
# Usage: export-series.sh BASE
. "$(dirname "$0")/lib.sh"
load_pin "${1:?usage: export-series.sh BASE}"
[[ -d $TREE/.git ]] || die "no tree for $BASE yet: run make tree BASE=$BASE"
[[ -z $(git -C "$TREE" status --porcelain -uno) ]] || die "$TREE has uncommitted changes: commit them first"

n=$(git -C "$TREE" rev-list --count lastboot-base..HEAD)
dest=$TOP/series/$BASE
mkdir -p "$dest"
find "$dest" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' -delete
if (( n == 0 )); then
	say "series/$BASE: no commits on top of the base; series is empty"
	exit 0
fi
desc=$dest/DESCRIPTION
[[ -f $desc ]] || die "series/$BASE/DESCRIPTION is missing (first line: cover letter subject, then the body)"
git -C "$TREE" config branch."$(git -C "$TREE" symbolic-ref --short HEAD)".description "$(cat "$desc")"
git -C "$TREE" format-patch -q --cover-letter --cover-from-description=subject \
	--zero-commit --no-signature --subject-prefix=PATCH -o "$dest" lastboot-base..HEAD
say "series/$BASE: $n patches + cover letter written"
git -C "$TOP" status --short -- "series/$BASE"
