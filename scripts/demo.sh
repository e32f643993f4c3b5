#!/usr/bin/env bash
# The main job: boot three real VMs (a guest that honours the ACPI power button, one that ignores it, one running
# the QEMU guest agent), shut them all down in one concurrent call, and show every event and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
# The native CLI that ./build.sh build publishes (Native AOT): the file users run.
CASTRA=out/castra/castra
[ -x "$CASTRA" ] || { echo "demo.sh: $CASTRA is missing: run ./build.sh build (or ./build.sh demo)" >&2; exit 1; }
castra() { "$CASTRA" "$@"; }
GUEST=tests/fixtures/guest/out
tests/fixtures/guest/build.sh "$GUEST" >/dev/null

export CASTRA_HOME=$(mktemp -d /tmp/castra-demo.XXXXXX)
cleanup() { for p in "$CASTRA_HOME"/vms/*/qemu.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$CASTRA_HOME"; }
trap cleanup EXIT

up() { # name mode [--agent]
  castra up "$1" --kernel "$GUEST/vmlinux" --initrd "$GUEST/initramfs.cpio" --append "console=ttyS0 quiet castra.mode=$2" \
    --memory 128 --accel tcg "${@:3}"
}
echo "== booting three VMs (software emulation: ~3 s each)"
up cooperative acpi
up unresponsive noacpi --cooperative-timeout 5
up agent agent --agent
for vm in cooperative unresponsive agent; do
  for _ in $(seq 600); do grep -q CASTRA-READY "$CASTRA_HOME/vms/$vm/serial.log" 2>/dev/null && break; sleep 0.1; done
done
echo; echo "== castra ps"; castra ps

echo; echo "== cleanup hooks and a guest session (docs/hooks.md)"
# PreStop: export data while the guest is still up (here its serial log); PostStop: tell someone, for every VM.
castra hook add export --vm cooperative --priority 50 --timeout 30 -- \
  /bin/sh -c 'mkdir -p "$CASTRA_HOME/exports" && cp "$CASTRA_STATE_DIR/serial.log" "$CASTRA_HOME/exports/$CASTRA_VM_NAME.log"'
castra hook add notify --vm '*' --stage PostStop --priority 900 --timeout 10 -- \
  /bin/sh -c 'echo "$CASTRA_VM_NAME stopped ($CASTRA_REASON)" >> "$CASTRA_HOME/notifications.txt"'
# In-flight work tied to a VM: interrupted with SIGINT before the guest is asked to power off.
castra session start agent --detach -- sleep 3600

echo; echo "== castra down --all   (concurrent; 'unresponsive' has a 5 s cooperative window in its vm.json)"
castra down --all

echo; echo "== summary: castra status"
castra status
echo; echo "== audit trail ($CASTRA_HOME/audit.ndjson), notifications sent by the PostStop hook, exported files"
cat "$CASTRA_HOME/audit.ndjson"
cat "$CASTRA_HOME/notifications.txt"
ls "$CASTRA_HOME/exports"
echo; echo "What the guests printed on their serial consoles before powering off:"
grep -H CASTRA-POWEROFF "$CASTRA_HOME"/vms/*/serial.log | sed "s|$CASTRA_HOME/vms/||" || true
