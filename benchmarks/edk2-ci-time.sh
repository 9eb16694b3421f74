#!/usr/bin/env bash
# edk2's CI flow (OvmfPkg/PlatformCI) on QEMU 7.2 and on emu's drop-in with the same command
# line: a folder holding startup.nsh ("echo BOOT SUCCESS !!!", "reset -s") as
# -drive file=fat:rw:DIR,format=raw,media=disk, isa-debug-exit at 0xf4, no -nodefaults; wall
# seconds from process start to exit, alternating QEMU and emu, a fresh folder and VARS copy
# each run. The Shell's 5 s startup.nsh countdown is in both figures (both hold it to the wall clock).
#   usage: benchmarks/edk2-ci-time.sh CODE.fd VARS.fd [runs]      (emu: tools/qemu-system-x86_64)
set -euo pipefail
code=$1 vars=$2 runs=${3:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
run() {
  local bin=$1 d
  d=$(mktemp -d); mkdir "$d/VirtualDrive"
  printf 'echo BOOT SUCCESS !!!\r\nreset -s\r\n' > "$d/VirtualDrive/startup.nsh"
  cp "$vars" "$d/vars.fd"
  local start end
  start=$(date +%s.%N)
  "$bin" -display none -machine pc -m 256 -net none -serial "file:$d/com1.log" \
    -drive "file=fat:rw:$d/VirtualDrive,format=raw,media=disk" \
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" \
    -drive "if=pflash,format=raw,unit=1,file=$d/vars.fd" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 2>/dev/null || { echo "$bin failed" >&2; exit 1; }
  end=$(date +%s.%N)
  grep -q "BOOT SUCCESS" "$d/com1.log" || { echo "$bin: no BOOT SUCCESS" >&2; exit 1; }
  rm -rf "$d"
  echo "$end - $start" | bc
}
for i in $(seq "$runs"); do
  echo "qemu $(run qemu-system-x86_64)"
  echo "emu  $(run "$here/tools/qemu-system-x86_64")"
done
