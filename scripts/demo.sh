#!/bin/sh
# The demo: a private domusd, the test guest (Debian's kernel, busybox, qemu-ga) defined and
# booted under TCG, shown, shut down through ACPI, then the daemon stopped.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(mktemp -d /tmp/domus-demo.XXXXXX)
SOCK="$ROOT/run/domus-sock"
DOMUS="$TOP/$BUILD/domus -c domus:///system?socket=$SOCK"
DPID=

cleanup() {
    if [ -n "$DPID" ]; then
        $DOMUS destroy demo >/dev/null 2>&1 || true
        kill "$DPID" 2>/dev/null || true
        wait "$DPID" 2>/dev/null || true
    fi
    rm -rf "$ROOT"
}
trap cleanup EXIT INT TERM

wait_for() { # seconds, description, command...
    limit=$1 what=$2
    shift 2
    i=0
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt $((limit * 10)) ]; then
            echo "demo: gave up waiting for $what" >&2
            exit 1
        fi
        sleep 0.1
    done
}

echo "== building the demo guest (cached after the first run)"
eval "$("$TOP/tests/guest/build" | grep -E '^(pvh_kernel|initrd)=')"

echo "== starting domusd --root $ROOT"
"$TOP/$BUILD/domusd" --root "$ROOT" --log "$ROOT/domusd.log" --no-default-network &
DPID=$!
wait_for 10 "domusd" test -S "$SOCK"

cat > "$ROOT/demo.xml" <<XML
<domain type='qemu'>
  <name>demo</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$pvh_kernel</kernel>
    <initrd>$initrd</initrd>
    <cmdline>console=ttyS0 quiet cryptomgr.notests initcall_blacklist=crypto_kdf108_init,init_kprobe_trace no_timer_check</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <serial type='file'><source path='$ROOT/console.log'/></serial>
  </devices>
</domain>
XML

set -x
$DOMUS define "$ROOT/demo.xml"
$DOMUS start demo
set +x
echo "== waiting for the guest's ready marker on its serial console"
wait_for 60 "the guest to boot" grep -q DOMUS-GUEST-READY "$ROOT/console.log"
tail -n 3 "$ROOT/console.log"
set -x
$DOMUS list --all
$DOMUS dominfo demo
$DOMUS shutdown demo
set +x
echo "== waiting for the guest to power off"
wait_for 60 "the guest to power off" sh -c "$DOMUS domstate demo | grep -q 'shut off'"
set -x
$DOMUS domstate --reason demo
$DOMUS undefine demo
set +x
echo "== stopping domusd"
kill "$DPID"
wait "$DPID" || true
DPID=
echo "== demo done"
