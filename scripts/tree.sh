#!/usr/bin/env bash
# Make the kernel tree of a base: unpack the verified Debian source package,
# import it as one base commit (tag lastboot-base), apply series/<base>/ with
# git am, and keep a detached worktree of the stock base beside it.
# Usage: tree.sh BASE
. "$(dirname "$0")/lib.sh"
load_pin "${1:?usage: tree.sh BASE}"
need_packages "${HOST_PACKAGES[@]}"

deb=$("$TOP/scripts/fetch-base.sh" "$BASE")
STOCK=$CACHE/trees/$BASE-stock

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

have=$(cat "$TREE/.git/lastboot-deb" 2>/dev/null || true)
[[ $have == "$(basename "$deb")" ]] \
	|| die "$TREE was made from $have, the pin now gives $(basename "$deb"); remove the tree to rebuild it"

mapfile -t patches < <(series_patches "$BASE")
if [[ $(git -C "$TREE" rev-parse HEAD) == $(git -C "$TREE" rev-parse lastboot-base) ]]; then
	if (( ${#patches[@]} )); then
		say "applying ${#patches[@]} patches of series/$BASE"
		for p in "${patches[@]}"; do
			git -C "$TREE" am -q --keep-cr "$p" >/dev/null 2>&1 || {
				git -C "$TREE" am --abort >/dev/null 2>&1 || true
				git -C "$TREE" reset -q --hard lastboot-base
				die "series/$BASE/$(basename "$p") does not apply on $(basename "$deb")"
			}
		done
	fi
else
	# A developer's tree with commits on top: leave it, but say if it differs.
	ids_tree=$(git -C "$TREE" log -p --reverse lastboot-base..HEAD | git patch-id --stable | awk '{print $1}')
	ids_series=$( (( ${#patches[@]} )) && cat "${patches[@]}" | git patch-id --stable | awk '{print $1}' || true)
	[[ $ids_tree == "$ids_series" ]] \
		|| say "note: $TREE has commits that differ from series/$BASE (make export BASE=$BASE writes them back)"
fi

if [[ ! -d $STOCK ]]; then
	git -C "$TREE" worktree prune
	git -C "$TREE" worktree add -q --detach "$STOCK" lastboot-base
fi
say "tree: $TREE ($(git -C "$TREE" rev-list --count lastboot-base..HEAD) patches on $(basename "$deb" _all.deb)); stock: $STOCK"
