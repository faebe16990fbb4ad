#!/usr/bin/env bash
# Fetch the pinned Debian kernel source package for a base and verify it.
# Usage: fetch-base.sh BASE   -> prints the path of the verified .deb
. "$(dirname "$0")/lib.sh"
load_pin "${1:?usage: fetch-base.sh BASE}"

DEBS=$CACHE/debs
mkdir -p "$DEBS"

# apt options: the host's own configuration, or a private one kept in the
# cache (own sources list, lists and archives), signed by the archive keyring.
APT_OPTS=(-o APT::Sandbox::User=root)
if [[ $APT == private ]]; then
	P=$CACHE/apt-$SUITE
	mkdir -p "$P/lists/partial" "$P/archives/partial" "$P/etc/sources.list.d" "$P/etc/preferences.d"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" \
		>"$P/etc/sources.list"
	APT_OPTS+=(-o "Dir::Etc::SourceList=$P/etc/sources.list"
		-o "Dir::Etc::SourceParts=$P/etc/sources.list.d"
		-o "Dir::Etc::Preferences=$P/etc/preferences"
		-o "Dir::Etc::PreferencesParts=$P/etc/preferences.d"
		-o "Dir::State::Lists=$P/lists"
		-o "Dir::Cache::Archives=$P/archives"
		-o "Dir::Cache::pkgcache=$P/pkgcache.bin"
		-o "Dir::Cache::srcpkgcache=$P/srcpkgcache.bin"
		-o "Dir::State::status=/dev/null")
	stamp=$P/updated
else
	stamp=$CACHE/apt-updated
fi

deb_for() { echo "$DEBS/${PACKAGE}_${1//:/%3a}_all.deb"; }

want=$VERSION
deb=$(deb_for "$want")
if [[ -f $deb ]] && echo "$SHA256  $deb" | sha256sum -c --quiet 2>/dev/null; then
	echo "$deb"
	exit 0
fi

if [[ ! -f $stamp ]] || [[ -n $(find "$stamp" -mmin +1440) ]]; then
	with_progress "apt-get update ($SUITE)" apt-get "${APT_OPTS[@]}" update -qq
	touch "$stamp"
fi

versions=$(apt-cache "${APT_OPTS[@]}" madison "$PACKAGE" | awk -F'|' '{gsub(/ /,"",$2); print $2}')
[[ -n $versions ]] || die "package $PACKAGE not found in $SUITE"
if ! grep -qxF "$VERSION" <<<"$versions"; then
	series=$(sed -E 's/^([0-9]+\.[0-9]+)\..*/\1/' <<<"$VERSION")
	want=$(grep -E "^${series//./\\.}\." <<<"$versions" | sort -V | tail -n1)
	[[ -n $want ]] || die "$PACKAGE $VERSION is gone from $SUITE and no other $series version is there"
	warn "$PACKAGE $VERSION is no longer in $SUITE." \
		"Falling back to $want, the newest $series version." \
		"The series is applied to it as is; update bases/$BASE.pin if it stays."
	deb=$(deb_for "$want")
fi

# The expected hash: the pin for the pinned version, else apt's signed index.
if [[ $want == "$VERSION" ]]; then
	sum=$SHA256
else
	sum=$(apt-cache "${APT_OPTS[@]}" show "$PACKAGE=$want" | awk '/^SHA256:/{print $2; exit}')
fi

(cd "$DEBS" && with_progress "downloading $PACKAGE $want" \
	apt-get "${APT_OPTS[@]}" download -qq "$PACKAGE=$want")
[[ -f $deb ]] || die "download of $PACKAGE $want did not produce $deb"
echo "$sum  $deb" | sha256sum -c --quiet \
	|| { rm -f "$deb"; die "sha256 mismatch for $deb (expected $sum)"; }
say "verified $(basename "$deb") (sha256 $sum)"
echo "$deb"
