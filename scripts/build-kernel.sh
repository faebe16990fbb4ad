#!/usr/bin/env bash
# Build a small guest kernel: tinyconfig + configs/ fragments, out of tree,
# incremental, with ccache.  FLAVOUR is lastboot (the tree with the series)
# or stock (the pinned base); VARIANT is normal, debug (KASAN + UBSAN) or
# bench (normal + the tracepoint benchmark, for make bench).  The module
# guest/kmemcpy (make bench's kernel reference) is built against it too.
# Usage: build-kernel.sh BASE FLAVOUR VARIANT  -> prints the build directory
. "$(dirname "$0")/lib.sh"
load_pin "${1:?usage: build-kernel.sh BASE FLAVOUR VARIANT}"
FLAVOUR=${2:-lastboot}
VARIANT=${3:-normal}
case $FLAVOUR in lastboot | stock) ;; *) die "unknown FLAVOUR '$FLAVOUR' (lastboot or stock)" ;; esac
case $VARIANT in normal | debug | bench) ;; *) die "unknown VARIANT '$VARIANT' (normal, debug or bench)" ;; esac

"$TOP/scripts/tree.sh" "$BASE" >&2
SRC=$TREE
# With an empty series the lastboot kernel is the stock kernel: build it once.
if [[ $FLAVOUR == stock ]] || [[ $(git -C "$TREE" rev-parse HEAD) == $(git -C "$TREE" rev-parse lastboot-base) && -z $(git -C "$TREE" status --porcelain -uno) ]]; then
	FLAVOUR=stock
	SRC=$CACHE/trees/$BASE-stock
fi
OUT=$CACHE/build/$BASE-$FLAVOUR-$VARIANT

# A new build directory starts as a copy of the other flavour's, when that
# is built: kbuild then recompiles only what the two trees differ in and
# what depends on it, where a fresh directory would pass every file through
# ccache again (about two minutes even when all of them hit) and, when the
# flavours' configs differ, through the preprocessor as well. make trusts
# timestamps, so the files the trees differ in are touched to be newer than
# the copied objects.
other=lastboot
[[ $FLAVOUR == lastboot ]] && other=stock
SIBLING=$CACHE/build/$BASE-$other-$VARIANT
if [[ ! -f $OUT/.config && -f $SIBLING/.lastboot-key ]]; then
	say "starting $BASE-$FLAVOUR-$VARIANT from a copy of $BASE-$other-$VARIANT"
	rm -rf "$OUT"
	cp -a "$SIBLING" "$OUT"
	rm -rf "$OUT/.lastboot-key" "$OUT/.lastboot-frags" "$OUT/modules-install" "$OUT/.lastboot-kmemcpy-key"
	git -C "$TREE" diff --no-renames --name-only lastboot-base | while IFS= read -r f; do
		[[ ! -e $SRC/$f ]] || touch "$SRC/$f"
	done
fi
mkdir -p "$OUT"

frags=("$TOP/configs/common.config" "$TOP/configs/$BASE.config")
# Options only the series provides (its own Kconfig entries) live with it.
[[ $FLAVOUR == lastboot && -f $TOP/series/$BASE/config ]] && frags+=("$TOP/series/$BASE/config")
# And those the series sets for one variant only (series/<base>/config.debug:
# what differs from series/<base>/config in that build), merged after it.
[[ $FLAVOUR == lastboot && -f $TOP/series/$BASE/config.$VARIANT ]] && frags+=("$TOP/series/$BASE/config.$VARIANT")
[[ $VARIANT == normal ]] || frags+=("$TOP/configs/$VARIANT.config")

# Both flavours are built from the same path, $CACHE/src/<base>, a private
# bind mount of the tree being built: compiler command lines are then the
# same for stock and lastboot, so ccache serves every file the series leaves
# alone instead of compiling the base twice.
MNT=$CACHE/src/$BASE
mkdir -p "$MNT"
MAKE=(unshare -m --propagation private sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' "$SRC" "$MNT"
	make -s -C "$MNT" O="$OUT" -j3 CC="ccache gcc" HOSTCC="ccache gcc")
build_kernel() {
	fragkey=$(cat "${frags[@]}" | sha256sum | cut -c1-16)
	if [[ ! -f $OUT/.config || $(cat "$OUT/.lastboot-frags" 2>/dev/null) != "$fragkey" ]]; then
		say "configuring $BASE-$FLAVOUR-$VARIANT: tinyconfig + ${frags[*]##*/}"
		"${MAKE[@]}" tinyconfig >/dev/null
		(cd "$OUT" && "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "${frags[@]}" >/dev/null)
		"${MAKE[@]}" olddefconfig >/dev/null
		# Every option we asked for must have survived Kconfig's dependencies:
		# its last setting in the fragments (a later fragment overrides an
		# earlier one, as in merge_config.sh; "is not set" is not checked).
		bad=$(sed -n 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1=/p; /^CONFIG_/p' "${frags[@]}" |
			awk -F= '!($1 in v) { order[++n] = $1 } { v[$1] = $0 }
				END { for (i = 1; i <= n; i++) if (v[order[i]] != order[i] "=") print v[order[i]] }' |
			while IFS= read -r line; do
				grep -qxF "$line" "$OUT/.config" || echo "  $line"
			done)
		[[ -z $bad ]] || die "config options requested but not set in $OUT/.config:"$'\n'"$bad"
		echo "$fragkey" >"$OUT/.lastboot-frags"
	fi

	with_progress "building kernel $BASE-$FLAVOUR-$VARIANT" "${MAKE[@]}" bzImage modules
	rm -rf "$OUT/modules-install" "$OUT/.lastboot-kmemcpy-key"
	"${MAKE[@]}" INSTALL_MOD_PATH="$OUT/modules-install" INSTALL_MOD_STRIP=1 modules_install >/dev/null
	echo "$key" >"$OUT/.lastboot-key"
}

# make bench's kernel reference (guest/kmemcpy), built against this kernel
# and installed with its modules.  It has its own key: editing it does not
# run make over the kernel.
install_kmemcpy() {
	local kkey
	kkey=$( (echo "$key"; cat "$TOP"/guest/kmemcpy/*) | sha256sum | cut -c1-16)
	[[ $(cat "$OUT/.lastboot-kmemcpy-key" 2>/dev/null) != "$kkey" ]] || return 0
	rm -rf "$OUT/kmemcpy"
	cp -r "$TOP/guest/kmemcpy" "$OUT/kmemcpy"
	"${MAKE[@]}" M="$OUT/kmemcpy" modules >&2
	"${MAKE[@]}" M="$OUT/kmemcpy" INSTALL_MOD_PATH="$OUT/modules-install" INSTALL_MOD_STRIP=1 \
		modules_install >/dev/null
	echo "$kkey" >"$OUT/.lastboot-kmemcpy-key"
}

# Skip make entirely when neither the sources nor the fragments changed.
key=$( (git -C "$SRC" rev-parse HEAD; git -C "$SRC" diff HEAD; cat "${frags[@]}") | sha256sum | cut -c1-16)
if [[ -f $OUT/arch/x86/boot/bzImage && $(cat "$OUT/.lastboot-key" 2>/dev/null) == "$key" ]]; then
	say "kernel $BASE-$FLAVOUR-$VARIANT is up to date"
else
	build_kernel
fi
install_kmemcpy
say "kernel: $OUT/arch/x86/boot/bzImage"
echo "$OUT"
