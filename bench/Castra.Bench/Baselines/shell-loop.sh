#!/usr/bin/env bash
# Baseline (a): the sequential shutdown loop operators write by hand, one VM at a time:
# ACPI power button through a QMP one-liner (socat), a sleep-poll for the process to go, then kill -TERM, kill -KILL.
#   shell-loop.sh STATE_ROOT COOPERATIVE_S TERM_S KILL_S POLL_S
# The poll interval is the benchmark's choice (0.2 s by default, the original Rust tool's); hand-written loops
# often use `sleep 1`, which is slower still.
set -u
root=$1 coop=$2 term=$3 kill_wait=$4 poll=$5

# wait_gone PID SECONDS: poll until the process is gone or the time is up.
wait_gone() {
  local pid=$1 tries
  tries=$(awk -v s="$2" -v p="$poll" 'BEGIN { n = s / p; print (n == int(n)) ? n : int(n) + 1 }')
  for ((i = 0; i < tries; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep "$poll"
  done
  ! kill -0 "$pid" 2>/dev/null
}

for dir in "$root"/vms/*/; do
  pid=$(cat "$dir/qemu.pid" 2>/dev/null) || continue
  printf '{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n' | socat - "UNIX-CONNECT:${dir}qmp.sock" >/dev/null 2>&1
  wait_gone "$pid" "$coop" && continue
  kill -TERM "$pid" 2>/dev/null
  wait_gone "$pid" "$term" && continue
  kill -KILL "$pid" 2>/dev/null
  wait_gone "$pid" "$kill_wait" || echo "shell-loop: $dir: PID $pid survived SIGKILL" >&2
done
