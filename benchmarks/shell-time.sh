#!/usr/bin/env bash
# Time to the UEFI Shell banner and to Shell> on QEMU 7.2 TCG and on this emulator, same
# firmware, one after the other: wall seconds from process start to the first appearance of
# "UEFI Interactive Shell" and "Shell>" on the serial console (the countdown answered with ESC
# as soon as it shows, as a harness would).
#   usage: benchmarks/shell-time.sh CODE.fd VARS.fd [runs] [machine options]
#          benchmarks/shell-time.sh UNIFIED.fd - [runs]     (one writable image, like -pflash)
# Machine options (after runs): --q35 (QEMU -machine q35 with its TCG default smm=on and the
# flash chips secure=on, as libvirt starts Secure Boot VMs; emu --machine q35 --secure-flash),
# --disable-s3 (-global ICH9-LPC.disable_s3=1, as Debian starts its 2 MB secboot build), --i386
# (qemu-system-i386 and its qemu32 CPU; emu --cpu qemu32). A build that ends at the Boot Manager
# prompt (Secure Boot enforced, no Shell) reports that as its prompt ("end").
set -euo pipefail
code=$1 vars=$2 runs=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
qemu_bin=qemu-system-x86_64 qemu_machine=(-machine pc,accel=tcg) emu_machine=()
for opt in "$@"; do
  case $opt in
    --q35) qemu_machine=(-machine q35,accel=tcg -global driver=cfi.pflash01,property=secure,value=on); emu_machine+=(--machine q35 --secure-flash) ;;
    --disable-s3) qemu_machine+=(-global ICH9-LPC.disable_s3=1); emu_machine+=(--disable-s3) ;;
    --i386) qemu_bin=qemu-system-i386; emu_machine+=(--cpu qemu32) ;;
    *) echo "shell-time.sh: unknown option $opt" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
emu="$here/src/Emulator.Cli/bin/Release/net10.0/emu.dll"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

. "$here/benchmarks/lib/serial-marks.sh"

measure() { # label, command...
  local label=$1 line; shift
  line=$(serial_marks -- "$@")
  printf '%-6s banner %6.2f s  prompt %6.2f s\n' "$label" "$(mark_field "$line" banner)" "$(mark_field "$line" prompt)"
}

for i in $(seq "$runs"); do
  if [[ $vars == - ]]; then
    cp "$code" "$work/fw-qemu.fd"; cp "$code" "$work/fw-emu.fd"
    qemu_flash=(-drive if=pflash,format=raw,unit=0,file="$work/fw-qemu.fd")
    emu_flash=(--firmware "$work/fw-emu.fd")
  else
    cp "$vars" "$work/vars-qemu.fd"; cp "$vars" "$work/vars-emu.fd"
    qemu_flash=(-drive if=pflash,format=raw,unit=0,readonly=on,file="$code" -drive if=pflash,format=raw,unit=1,file="$work/vars-qemu.fd")
    emu_flash=(--code "$code" --vars "$work/vars-emu.fd")
  fi
  measure qemu "$qemu_bin" "${qemu_machine[@]}" -m 256 -nodefaults -display none -serial stdio "${qemu_flash[@]}"
  measure emu dotnet "$emu" boot "${emu_machine[@]}" "${emu_flash[@]}" --snapshot --quiet --serial-input - --pace off
done
