#!/bin/sh
# The demo: a private domusd, a guest defined and booted, shown, then stopped.
set -eu
BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(mktemp -d /tmp/domus-demo.XXXXXX)
SOCK="$ROOT/run/domus-sock"
DOMUS="$TOP/$BUILD/domus -c domus:///system?socket=$SOCK"

cleanup() {
    [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null || true
    rm -rf "$ROOT"
}
trap cleanup EXIT INT TERM

echo "== starting domusd --root $ROOT"
"$TOP/$BUILD/domusd" --root "$ROOT" --log "$ROOT/domusd.log" &
DPID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

cat > "$ROOT/demo.xml" <<XML
<domain type='qemu'>
  <name>demo</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <devices>
    <serial type='file'><source path='$ROOT/demo-console.log'/></serial>
  </devices>
</domain>
XML

set -x
$DOMUS define "$ROOT/demo.xml"
$DOMUS start demo
$DOMUS list --all
$DOMUS dominfo demo
$DOMUS domstate --reason demo
$DOMUS destroy demo
$DOMUS list --all
$DOMUS undefine demo
set +x
echo "== stopping domusd"
kill "$DPID"
wait "$DPID" || true
DPID=
echo "== demo done"
