#!/usr/bin/env bash
# The flash write workload of `emu bench flash` (src/Emulator.Hosting/Bench/FlashWorkload.cs) on
# QEMU 7.2 TCG and on this emulator, side by side: the same code and vars images, the same
# window (wall time from the guest's "flash-bench: start" line to its "flash-bench: done" line
# on COM1), each vars file checked afterwards against the image the workload must leave.
#   usage: benchmarks/qemu-flash-bench.sh [--smm] [--smi-bytes N] [BYTES (default 128K)] [PASSES (default 1)] [RUNS (default 1)]
# Rows: qemu with the vars file (QEMU writes it through on every programmed byte), qemu with
# snapshot=on (writes go to a temporary overlay), emu boot with the vars file (journaled,
# fsynced in batches), emu boot --snapshot, and emu's in-process guest figures.
# --smm: the SMM path (`emu bench flash --guest-path smm`, SmmFlashProgram.cs): the guest asks an
# SMI handler in TSEG for every block erase and every N bytes (--smi-bytes, default 128), on
# QEMU's q35 with smm=on, 256 MiB and the pflash chips secure=on (what libvirt starts a Secure
# Boot VM with) and on `emu boot --machine q35 --secure-flash`; the rows add SMIs per second and
# microseconds per SMI round trip.
set -euo pipefail
smm=0 smi_bytes=128
while [ $# -gt 0 ]; do
  case $1 in
    --smm) smm=1; shift ;;
    --smi-bytes) smi_bytes=${2:?--smi-bytes needs a number}; shift 2 ;;
    --*) echo "qemu-flash-bench.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
bytes=${1:-128K} passes=${2:-1} runs=${3:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
emu="$here/src/Emulator.Cli/bin/Release/net10.0/emu.dll"
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not found (apt-get install -y qemu-system-x86)" >&2; exit 2; }
[ -f "$emu" ] || { echo "build first: dotnet build Emulator.sln -c Release" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

if [ "$smm" = 1 ]; then
  path=(--guest-path smm --smi-bytes "$smi_bytes") prefix=flash-bench-smm
  qemu_machine=(-machine q35,accel=tcg,smm=on -m 256 -global driver=cfi.pflash01,property=secure,value=on)
  emu_machine=(--machine q35 --secure-flash --memory 256M)
else
  path=() prefix=flash-bench
  qemu_machine=(-machine pc,accel=tcg -m 16) emu_machine=()
fi
dotnet "$emu" bench flash --only none --write-image "$work" --bytes "$bytes" --passes "$passes" "${path[@]}"
code="$work/$prefix-code.fd" vars="$work/$prefix-vars.fd" expected="$work/$prefix-vars.expected.fd"
region=$(stat -c %s "$vars")
programmed=$(( region * passes ))
# One SMI per block erase and per request of smi_bytes (the last of a pass may be shorter).
smis=$(( smm ? passes * (region / 4096 + (region + smi_bytes - 1) / smi_bytes) : 0 ))

measure() { # label, vars file to check (or -), command...
  local label=$1 check=$2; shift 2
  python3 - "$label" "$programmed" "$smis" "$@" <<'PY'
import subprocess, sys, time
label, programmed, smis, cmd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
begin = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
marks, last = {}, ""
for line in p.stdout:
    text = line.decode(errors="replace").strip()
    last = text or last
    if text == "flash-bench: start":
        marks["start"] = time.monotonic()
    elif text == "flash-bench: done":
        marks["done"] = time.monotonic()
p.wait(timeout=3600)
total = time.monotonic() - begin
if len(marks) != 2:
    print(f"{label:22} did not finish (exit {p.returncode}; last line: {last})")
    sys.exit(1)
window = marks["done"] - marks["start"]
smm = f"   {smis / window:10.1f} SMIs/s {window * 1e6 / smis:10.2f} us/SMI" if smis else ""
print(f"{label:22} {programmed / window / 1e6:10.4f} MB/s programmed   window {window:8.3f} s   process {total:8.3f} s{smm}")
PY
  if [ "$check" != - ]; then
    cmp -s "$check" "$expected" && echo "${label}: vars file holds the workload's result" || echo "${label}: vars file differs from the expected result"
  fi
}

qemu() { # vars drive options
  echo qemu-system-x86_64 "${qemu_machine[@]}" -nodefaults -display none -serial stdio \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$code" -drive "if=pflash,format=raw,unit=1,$1"
}

for i in $(seq "$runs"); do
  cp "$vars" "$work/q.fd"; cp "$vars" "$work/qs.fd"; cp "$vars" "$work/e.fd"; cp "$vars" "$work/es.fd"
  # shellcheck disable=SC2046
  measure "qemu (vars file)" "$work/q.fd" $(qemu "file=$work/q.fd")
  # shellcheck disable=SC2046
  measure "qemu (snapshot=on)" - $(qemu "file=$work/qs.fd,snapshot=on")
  measure "emu boot (vars file)" "$work/e.fd" dotnet "$emu" boot "${emu_machine[@]}" --code "$code" --vars "$work/e.fd" --quiet --pace off
  measure "emu boot (--snapshot)" - dotnet "$emu" boot "${emu_machine[@]}" --code "$code" --vars "$work/es.fd" --snapshot --quiet --pace off
  dotnet "$emu" bench flash --only guest --bytes "$bytes" --passes "$passes" "${path[@]}"
done
