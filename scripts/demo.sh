#!/usr/bin/env bash
# Starts three VMs and shuts them down concurrently with the castra CLI, showing each event as it happens.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-Release}
CASTRA="dotnet src/Castra.Cli/bin/$CONFIG/net8.0/castra.dll"
HOME_DIR=$(mktemp -d /tmp/castra-demo.XXXXXX)
trap 'rm -rf "$HOME_DIR"' EXIT

FAKE="$HOME_DIR/fake-qemu"
cc -O2 -o "$FAKE" tests/fixtures/fake-qemu/fake-qemu.c
launch() { # name behavior [qmp]
  local dir="$HOME_DIR/vms/$1"; mkdir -p "$dir"
  local qmp=(-qmp "unix:$dir/qmp.sock,server=on,wait=off"); [ "${3:-qmp}" = qmp ] || qmp=()
  "$FAKE" -name "$1" -daemonize -pidfile "$dir/qemu.pid" "${qmp[@]}" --fake-behavior "$2" --fake-exit-delay-ms 300
}
launch cooperative graceful
launch unresponsive ignore-acpi
launch no-channel graceful noqmp

echo "== castra ps"; $CASTRA ps --home "$HOME_DIR"
echo; echo "== castra down --all --cooperative-timeout 3"
$CASTRA down --all --home "$HOME_DIR" --cooperative-timeout 3 || true
echo; echo "== castra status"; $CASTRA status --home "$HOME_DIR"
