#!/usr/bin/env bash
# Pack the guest initramfs: busybox-static, the guest scripts, and Debian's
# trace-cmd, kexec and systemd-pstore binaries with the shared libraries
# they load, and the helpers of make bench (a memcpy reference, a time stamp
# counter read) and a non-blocking pipe drainer.
# Usage: build-initramfs.sh  -> prints the path of the cpio.gz
. "$(dirname "$0")/lib.sh"
need_packages "${HOST_PACKAGES[@]}"

OUT=$CACHE/guest
IMG=$OUT/base.cpio.gz
# systemd-pstore (package systemd) archives /sys/fs/pstore as distributions
# run it at boot; it loads libsystemd-shared from its RUNPATH,
# /usr/lib/x86_64-linux-gnu/systemd, where ldd finds it and where it is
# copied.
BINS=(/usr/bin/trace-cmd /usr/sbin/kexec /lib/systemd/systemd-pstore)
PLUGINS=/usr/lib/x86_64-linux-gnu/traceevent/plugins

# The files of guest/ only: guest/kmemcpy is a module, built with each kernel.
key=$( (cat "$0" /bin/busybox "${BINS[@]}"; find "$TOP/guest" -maxdepth 1 -type f -print0 | LC_ALL=C sort -z | xargs -0 cat) \
	| sha256sum | cut -c1-16)
if [[ -f $IMG && $(cat "$OUT/.key" 2>/dev/null) == "$key" ]]; then
	echo "$IMG"
	exit 0
fi

root=$OUT/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/lastboot,proc,sys,dev,tmp,mnt,etc}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$TOP/guest/init" "$root/init"
install -m 0644 "$TOP/guest/lib.sh" "$root/lib/lastboot/lib.sh"
for b in "${BINS[@]}"; do
	mkdir -p "$root$(dirname "$b")"
	cp "$b" "$root$b"
	# Copy every library the dynamic loader resolves, at the same path.
	ldd "$b" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
if [[ -d $PLUGINS ]]; then
	mkdir -p "$root$PLUGINS"
	cp "$PLUGINS"/*.so "$root$PLUGINS/"
fi
# The helpers of make bench and the pipe drainer, static so that they
# need no library.
gcc -O2 -static -o "$root/usr/bin/lastboot-memcpy" "$TOP/guest/memcpy.c"
gcc -O2 -static -o "$root/usr/bin/lastboot-drain" "$TOP/guest/drain.c"
gcc -O2 -static -o "$root/usr/bin/lastboot-tsc" "$TOP/guest/tsc.c"
echo "root:x:0:0:root:/:/bin/sh" >"$root/etc/passwd"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$IMG.tmp"
mv "$IMG.tmp" "$IMG"
echo "$key" >"$OUT/.key"
say "initramfs: $IMG ($(du -h "$IMG" | cut -f1))"
echo "$IMG"
