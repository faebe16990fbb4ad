#!/usr/bin/env bash
# Make the kernel tree of a base: unpack the verified Debian source package,
# import it as one base commit (tag lastboot-base), apply series/<base>/ with
# git am (again when the series changed; see sync_series in lib.sh), and
# keep a detached worktree of the stock base beside it.
# Usage: tree.sh BASE
. "$(dirname "$0")/lib.sh"
load_pin "${1:?usage: tree.sh BASE}"
need_packages "${HOST_PACKAGES[@]}"

# Steps that run side by side (a build, the series lint) may each call this.
mkdir -p "$CACHE/trees"
exec {lock}>"$CACHE/trees/.$BASE.lock"
flock "$lock"

deb=$("$TOP/scripts/fetch-base.sh" "$BASE")
STOCK=$CACHE/trees/$BASE-stock

# A tree made from another package (the pin moved on, or the archive lost
# the pinned version) stops here; make check, demo and bench set it aside
# and make a new one.
have=$(cat "$TREE/.git/lastboot-deb" 2>/dev/null || true)
if [[ -d $TREE/.git && $have != "$(basename "$deb")" ]]; then
	[[ ${LASTBOOT_FROM_SERIES:-0} == 1 ]] \
		|| die "$TREE was made from $have, the pin now gives $(basename "$deb"); remove the tree to rebuild it (make check sets it aside itself)"
	set_aside_tree "$TREE" "$STOCK" "$have"
fi

if [[ ! -d $TREE/.git ]]; then
	tmp=$CACHE/trees/.unpack-$BASE
	rm -rf "$tmp" && mkdir -p "$tmp"
	with_progress "unpacking $(basename "$deb")" bash -c \
		"dpkg-deb --fsys-tarfile '$deb' | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' | xz -dc -T2 | tar -x -C '$tmp'"
	src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[[ -f $src/Makefile ]] || die "no kernel tree found in $deb"
	git -C "$src" init -q -b lastboot
	# The tree is our own import: ignore nothing that the tarball ships.
	with_progress "importing $BASE into git" bash -c \
		"cd '$src' && git add -A -f . && git ${GIT_ID[*]} commit -q -m 'Linux $(basename "$deb" .deb) (Debian source package)' && git tag lastboot-base"
	git -C "$src" config user.name lastboot
	git -C "$src" config user.email lastboot@localhost
	basename "$deb" >"$src/.git/lastboot-deb"
	rm -rf "$TREE"
	mkdir -p "$(dirname "$TREE")"
	mv "$src" "$TREE"
	rm -rf "$tmp"
fi

mapfile -t patches < <(series_patches "$BASE")
sync_series "$TREE" "${patches[@]}"

if [[ ! -d $STOCK ]]; then
	git -C "$TREE" worktree prune
	git -C "$TREE" worktree add -q --detach "$STOCK" lastboot-base
fi
say "tree: $TREE ($(git -C "$TREE" rev-list --count lastboot-base..HEAD) patches on $(basename "$deb" _all.deb)); stock: $STOCK"
