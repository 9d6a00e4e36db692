#!/bin/sh
# Installs the Debian packages Domus needs to build, test and run its demo, skipping those
# already present. Tests also need stock libvirt clients (virsh, python3-libvirt,
# virt-install, virtnbdbackup) as peers to talk to domusd; libvirt's daemon is never installed
# here.
set -eu

PACKAGES="gcc make meson ninja-build pkg-config libglib2.0-dev libjson-glib-dev libxml2-dev
qemu-system-x86 qemu-utils libvirt-clients python3 python3-libvirt python3-pytest virtinst
busybox-static cpio xz-utils bzip2 clang-format clang libclang-rt-14-dev libnl-route-3-dev
libnftables-dev dnsmasq-base libgnutls28-dev gnutls-bin help2man
debhelper dpkg-dev libedit-dev openssl
prometheus-libvirt-exporter collectd-core ansible python3-lxml libvirt-dbus dbus
libglib2.0-bin virt-manager virt-viewer xvfb x11-apps openssh-server netcat-openbsd
virtnbdbackup"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

echo "setup: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# Test peers such as openssh-server and prometheus-libvirt-exporter come with services: they
# must not start (and listen on the machine's network) when installed. Debian's policy-rc.d
# says no to every service start while the install runs; the tests start their own copies
# inside network namespaces.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    made_policy=1
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
if [ -n "$made_policy" ]; then
    $SUDO rm -f "$policy"
fi
