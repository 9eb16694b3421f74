#!/usr/bin/env bash
# The flash write workload of `emu bench flash` (src/Emulator.Cli/Bench/FlashWorkload.cs) on
# QEMU 7.2 TCG and on this emulator, side by side: the same code and vars images, the same
# window (wall time from the guest's "flash-bench: start" line to its "flash-bench: done" line
# on COM1), each vars file checked afterwards against the image the workload must leave.
#   usage: benchmarks/qemu-flash-bench.sh [BYTES (default 128K)] [PASSES (default 1)] [RUNS (default 1)]
# Rows: qemu with the vars file (QEMU writes it through on every programmed byte), qemu with
# snapshot=on (writes go to a temporary overlay), emu boot with the vars file (journaled,
# fsynced in batches), emu boot --snapshot, and emu's in-process guest figures.
set -euo pipefail
bytes=${1:-128K} passes=${2:-1} runs=${3:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
emu="$here/src/Emulator.Cli/bin/Release/net10.0/emu.dll"
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not found (apt-get install -y qemu-system-x86)" >&2; exit 2; }
[ -f "$emu" ] || { echo "build first: dotnet build Emulator.sln -c Release" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

dotnet "$emu" bench flash --only none --write-image "$work" --bytes "$bytes" --passes "$passes"
code="$work/flash-bench-code.fd" vars="$work/flash-bench-vars.fd" expected="$work/flash-bench-vars.expected.fd"
programmed=$(( $(stat -c %s "$vars") * passes ))

measure() { # label, vars file to check (or -), command...
  local label=$1 check=$2; shift 2
  python3 - "$label" "$programmed" "$@" <<'PY'
import subprocess, sys, time
label, programmed, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
begin = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
marks = {}
for line in p.stdout:
    text = line.decode(errors="replace").strip()
    if text == "flash-bench: start":
        marks["start"] = time.monotonic()
    elif text == "flash-bench: done":
        marks["done"] = time.monotonic()
p.wait(timeout=3600)
total = time.monotonic() - begin
if len(marks) != 2:
    print(f"{label:22} did not finish (exit {p.returncode})")
    sys.exit(1)
window = marks["done"] - marks["start"]
print(f"{label:22} {programmed / window / 1e6:10.4f} MB/s programmed   window {window:8.3f} s   process {total:8.3f} s")
PY
  if [ "$check" != - ]; then
    cmp -s "$check" "$expected" && echo "${label}: vars file holds the workload's result" || echo "${label}: vars file differs from the expected result"
  fi
}

qemu() { # vars drive options
  echo qemu-system-x86_64 -machine pc,accel=tcg -m 16 -nodefaults -display none -serial stdio \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$code" -drive "if=pflash,format=raw,unit=1,$1"
}

for i in $(seq "$runs"); do
  cp "$vars" "$work/q.fd"; cp "$vars" "$work/qs.fd"; cp "$vars" "$work/e.fd"; cp "$vars" "$work/es.fd"
  # shellcheck disable=SC2046
  measure "qemu (vars file)" "$work/q.fd" $(qemu "file=$work/q.fd")
  # shellcheck disable=SC2046
  measure "qemu (snapshot=on)" - $(qemu "file=$work/qs.fd,snapshot=on")
  measure "emu boot (vars file)" "$work/e.fd" dotnet "$emu" boot --code "$code" --vars "$work/e.fd" --quiet --pace off
  measure "emu boot (--snapshot)" - dotnet "$emu" boot --code "$code" --vars "$work/es.fd" --snapshot --quiet --pace off
  dotnet "$emu" bench flash --only guest --bytes "$bytes" --passes "$passes"
done
