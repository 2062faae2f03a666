#!/bin/sh
# Boots systemd as PID 1 of a container (systemd-nspawn) for tests of what systemd itself does with
# FlannelPS's unit and environment file. The container's root is a tmpfs with this host's /usr
# mounted read-only, so it needs no image; it has no network of its own but shares the namespace it
# is started in (a test namespace), and it boots to basic.target with a machine-id given, so no
# preset enables the host's services. The bind of /usr lives in a private mount namespace and goes
# with the process.
# Usage: boot-systemd.sh DIR NAME [systemd-nspawn options, e.g. --bind-ro=PATH]
#   DIR holds the root's skeleton (DIR/root) and the machine-id.
# Run it from a mount namespace where /sys/fs/cgroup is mounted (not under `ip netns exec`).
set -eu
dir=$1 name=$2
shift 2
mkdir -p "$dir/root/usr"
for l in bin lib lib64 sbin; do [ -e "$dir/root/$l" ] || ln -s "usr/$l" "$dir/root/$l"; done
[ -s "$dir/machine-id" ] || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$dir/machine-id"
exec unshare --mount --propagation private sh -c '
  dir=$1 name=$2; shift 2
  mount --bind -o ro /usr "$dir/root/usr"
  exec systemd-nspawn --quiet --volatile=yes --directory="$dir/root" --register=no --keep-unit --capability=CAP_NET_ADMIN,CAP_NET_RAW \
    --machine="$name" --bind-ro="$dir/machine-id:/etc/machine-id" "$@" \
    --boot -- systemd.unit=basic.target systemd.firstboot=off \
    systemd.mask=systemd-networkd.service systemd.mask=systemd-networkd.socket \
    systemd.mask=systemd-resolved.service systemd.mask=systemd-timesyncd.service \
    systemd.mask=systemd-machine-id-commit.service' \
  sh "$dir" "$name" "$@"
