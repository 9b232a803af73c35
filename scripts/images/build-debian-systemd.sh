#!/usr/bin/env bash
# local/debian-systemd:12: Debian 12 with systemd as PID 1, for test/integration/systemd-boot.test.ts
# (mcp-reconciler installed as a systemd service, read back through systemctl and journalctl).
# debootstrap (minbase, plus Debian's systemd, systemd-sysv and dbus) from the Debian mirror this machine's
# apt uses, this machine's node binary in /usr/local/bin, and a `docker` group (the unit asks for it).
# About 3 minutes and 250 MB; rebuilt only when this script, the release or node changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/rootfs-lib.sh"
tag=${1:-local/debian-systemd:12}
suite=bookworm
# The first deb URI of apt's own sources (deb822 or one-line), so the image comes from where apt installs from.
mirror=${DEBIAN_MIRROR:-$( { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null || true;
  grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } \
  | awk '{print $2}' | grep -v security | head -n1)}
[ -n "$mirror" ] || { echo "no Debian mirror in apt's sources; set DEBIAN_MIRROR" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debootstrap is missing: scripts/system-packages.sh installs it" >&2; exit 1; }
node_bin=$(readlink -f "$(command -v node)")
hash=$(inputs_hash "$0" "$here/rootfs-lib.sh" "$suite" "$(node --version)" "$node_bin")
if image_current "$tag" "$hash"; then echo "image $tag current"; exit 0; fi
root=$(mktemp -d)
# debootstrap mounts proc (and may leave it mounted, seen here): unmount everything under the root
# before it is packed or removed, so tar never reads the host's /proc and rm never walks into it.
unmount_under() {
  awk -v r="$1/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
}
trap 'unmount_under "$root"; rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates "$suite" "$root" "$mirror" >"$root.log" 2>&1 \
  || { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
unmount_under "$root"
mkdir -p "$root/usr/local/bin"
copy_with_libs "$root" "$node_bin"
cp -L "$node_bin" "$root/usr/local/bin/node"
chroot "$root" groupadd --system docker
# Nothing to log in on, no hardware clock or kernel modules in a container.
for u in getty@tty1.service console-getty.service systemd-modules-load.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" --exclude=./proc/* --exclude=./sys/* -c . | docker import \
  -c 'ENV container=docker' -c 'CMD ["/lib/systemd/systemd"]' \
  -c "LABEL io.mcp-reconciler.build-inputs=$hash" - "$tag" >/dev/null
echo "built $tag"
