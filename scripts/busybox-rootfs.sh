#!/usr/bin/env bash
# Builds a busybox root filesystem tarball from Debian's busybox-static: the test image.
#   scripts/busybox-rootfs.sh OUT.tar
set -euo pipefail
out="${1:?usage: $0 OUT.tar}"
busybox="$(command -v busybox || true)"
[ -n "$busybox" ] || { echo "busybox is not installed: apt-get install busybox-static" >&2; exit 1; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir" # a real image's root is 0755 (mktemp makes it 0700)
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,var/log,home}
chmod 1777 "$dir/tmp"
cp "$busybox" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
cat >"$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat >"$dir/etc/group" <<'G'
root:x:0:
daemon:x:1:
nogroup:x:65534:
G
tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf "$out" .
