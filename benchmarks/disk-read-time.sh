#!/usr/bin/env bash
# Disk throughput through the guest: QEMU 7.2 TCG, emu's drop-in on the same command line, and
# `emu boot` with the same drive and --pace off, alternating. A FAT32 image (mkfs.vfat, mtools)
# holds a random file of SIZE MiB and a startup.nsh that prints marks around two commands, then
# runs `reset -s`:
#   comp fs0:\big.bin fs0:\big.bin    (read: the Shell has no plain read command (`copy F NUL`
#                                       copies nothing), so the file is read twice and compared)
#   copy -q fs0:\big.bin fs0:\c.bin   (read and write back)
# The figures are host wall seconds between the marks on the serial console (the boot and the
# Shell's countdown are outside them), MiB/s counting SIZE once. The drive is
# -drive file=IMG,format=raw,snapshot=on (the image never changes) on IDE (pc) or AHCI (q35).
# OVMF's ATA driver stalls after every DMA transfer (AtaUdmaInOut); QEMU and the drop-in (which
# paces guest waits to the wall clock, as QEMU does) spend that time, `emu boot --pace off` skips it.
#   usage: benchmarks/disk-read-time.sh CODE.fd VARS.fd [runs] [size-MiB] [--q35]
set -euo pipefail
code=$1 vars=$2 runs=${3:-3} size=${4:-64}
shift $(( $# < 4 ? $# : 4 ))
machine=pc
for opt in "$@"; do
  case $opt in
    --q35) machine=q35 ;;
    *) echo "disk-read-time.sh: unknown option $opt" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
head -c "$((size << 20))" /dev/urandom > "$work/big.bin"
mkfs.vfat -C -F 32 "$work/disk.img" $(( (size * 2 + 64) * 1024 )) > /dev/null
printf 'echo MARK-READ\r\ncomp fs0:\\big.bin fs0:\\big.bin\r\necho MARK-COPY\r\ncopy -q fs0:\\big.bin fs0:\\c.bin\r\necho MARK-END\r\nreset -s\r\n' > "$work/startup.nsh"
mcopy -i "$work/disk.img" "$work/big.bin" "$work/startup.nsh" ::/

measure() { # label, command...
  local label=$1; shift
  python3 - "$label" "$size" "$@" <<'PY'
import os, subprocess, sys, time
label, size, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
text, marks = b"", {}
while True:
    chunk = os.read(p.stdout.fileno(), 4096)
    if not chunk:
        break
    text += chunk
    for m in (b"MARK-READ", b"MARK-COPY", b"MARK-END"):
        if m not in marks and m + b"\r\n" in text:
            marks[m] = time.monotonic()
p.wait(timeout=60)
if len(marks) < 3:
    sys.exit(f"{label}: the script did not run to its end (marks seen: {sorted(marks)})")
read = marks[b"MARK-COPY"] - marks[b"MARK-READ"]
copy = marks[b"MARK-END"] - marks[b"MARK-COPY"]
print(f"{label:8} read {read:6.2f} s ({size / read:6.1f} MiB/s)   read+write {copy:6.2f} s ({size / copy:6.1f} MiB/s)")
PY
}

for i in $(seq "$runs"); do
  cp "$vars" "$work/vars-qemu.fd"; cp "$vars" "$work/vars-emu.fd"
  for who in qemu emu; do
    bin=qemu-system-x86_64; [[ $who == emu ]] && bin="$here/tools/qemu-system-x86_64"
    measure "$who" "$bin" -machine "$machine" -m 256 -nodefaults -display none -serial stdio \
      -drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" -drive "if=pflash,format=raw,unit=1,file=$work/vars-$who.fd" \
      -drive "file=$work/disk.img,format=raw,snapshot=on"
  done
  measure "emu-boot" dotnet "$here/src/Emulator.Cli/bin/Release/net10.0/emu.dll" boot --machine "$machine" --memory 256M \
    --code "$code" --vars "$work/vars-emu.fd" --snapshot --disk "$work/disk.img,snapshot" --pace off --quiet --no-status
done
