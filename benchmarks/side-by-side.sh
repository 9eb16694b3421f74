#!/usr/bin/env bash
# QEMU 7.2 TCG and emu (through its QEMU drop-in, tools/qemu-system-x86_64, with the same command
# line), alternating, optionally a Bochs binary of your own as a third: wall seconds from process
# start to the Shell banner on the serial console ("UEFI Interactive Shell"), and the CPU seconds
# each process spent to get there (all threads, user+sys; the process is killed at the banner).
# Prints one table: a line per round, then the median, the range and the median of the per-round
# ratios (emu's wall and CPU time over the other's, same round).
#   usage: benchmarks/side-by-side.sh [--pairs N] [--bochs BIN --bochsrc FILE] CODE.fd VARS.fd
#          benchmarks/side-by-side.sh [--pairs N] [--bochs BIN --bochsrc FILE] --bios OVMF.fd
# CODE/VARS: two pflash chips, a fresh copy of VARS for every run; --bios: the unified image as a
# ROM (QEMU's -bios). N defaults to 5. Bochs boots whatever its bochsrc names (give it the same
# firmware, e.g. romimage: file=OVMF.fd, address=0xffe00000); the script adds only
# "com1: enabled=1, mode=file, dev=..." to read the console. The machine: -machine pc -m 256,
# -nodefaults -display none -serial stdio, as benchmarks/shell-time.sh starts QEMU. EMU_DLL=PATH
# times another build of emu (e.g. main's, built in a scratch folder) instead of this checkout's.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "side-by-side.sh: $*" >&2; exit 2; }
pairs=5 bios= bochs= bochsrc= files=()
while (($#)); do
  case $1 in
    --pairs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || fail "--pairs needs a whole number above 0"; pairs=$2; shift 2 ;;
    --bios) [[ -n ${2:-} ]] || fail "--bios needs a file"; bios=$2; shift 2 ;;
    --bochs) [[ -n ${2:-} ]] || fail "--bochs needs a binary"; bochs=$2; shift 2 ;;
    --bochsrc) [[ -n ${2:-} ]] || fail "--bochsrc needs a file"; bochsrc=$2; shift 2 ;;
    -h|--help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) fail "unknown option $1" ;;
    *) files+=("$1"); shift ;;
  esac
done
if [[ -n $bios ]]; then
  ((${#files[@]} == 0)) || fail "--bios takes no CODE/VARS files"
  [[ -f $bios ]] || fail "no such file: $bios"
else
  ((${#files[@]} == 2)) || fail "give CODE.fd and VARS.fd, or --bios OVMF.fd"
  for f in "${files[@]}"; do [[ -f $f ]] || fail "no such file: $f"; done
fi
[[ -n $bochs && -z $bochsrc || -z $bochs && -n $bochsrc ]] && fail "--bochs and --bochsrc go together"
if [[ -n $bochs ]]; then
  command -v "$bochs" >/dev/null || fail "no such program: $bochs"
  [[ -f $bochsrc ]] || fail "no such file: $bochsrc"
fi
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is not installed"
emu_dll=${EMU_DLL:-$here/src/Emulator.Cli/bin/Release/net10.0/emu.dll}   # the drop-in honours EMU_DLL too
[[ -f $emu_dll ]] || fail "emu is not built ($emu_dll missing): run 'dotnet build Emulator.sln -c Release'"

. "$here/benchmarks/lib/serial-marks.sh"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

firmware() { # sets fw: a fresh writable copy per run, as QEMU and emu write variables into it
  if [[ -n $bios ]]; then
    fw=(-bios "$bios")
  else
    cp "${files[1]}" "$work/vars.fd"
    fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=${files[0]}" -drive "if=pflash,format=raw,unit=1,file=$work/vars.fd")
  fi
}
machine=(-machine pc,accel=tcg -m 256 -nodefaults -display none -serial stdio)

results=$work/results
for round in $(seq "$pairs"); do
  firmware
  echo "qemu $round $(serial_marks --until banner -- qemu-system-x86_64 "${machine[@]}" "${fw[@]}")" >>"$results"
  firmware
  echo "emu $round $(serial_marks --until banner -- "$here/tools/qemu-system-x86_64" "${machine[@]}" "${fw[@]}")" >>"$results"
  if [[ -n $bochs ]]; then
    rm -f "$work/com1.txt"
    echo "bochs $round $(serial_marks --until banner --serial-file "$work/com1.txt" -- "$bochs" -q -f "$bochsrc" "com1: enabled=1, mode=file, dev=$work/com1.txt")" >>"$results"
  fi
done

python3 - "$results" <<'PY'
import math, statistics, sys
W = 14  # column width
rows = {}
for line in open(sys.argv[1]):
    who, round_, *fields = line.split()
    f = dict(x.split("=") for x in fields)
    rows.setdefault(int(round_), {})[who] = (float(f["banner"]), float(f["cpu"]))
order = [w for w in ("qemu", "emu", "bochs") if any(w in r for r in rows.values())]
others = [w for w in order if w != "emu"]
head = "".join(f"{w + ' wall':>{W}}{w + ' cpu':>{W}}" for w in order) + "".join(f"{'emu/' + w:>{W}}{'cpu emu/' + w:>{W}}" for w in others)
print(f"{'round':<8}{head}")
def fmt(x, unit="s"):
    return f"{'nan':>{W}}" if math.isnan(x) else f"{x:{W-2}.2f} {unit}"
for r in sorted(rows):
    cells = "".join(fmt(rows[r][w][0]) + fmt(rows[r][w][1]) for w in order)
    ratios = "".join(fmt(rows[r]["emu"][0] / rows[r][w][0], "x") + fmt(rows[r]["emu"][1] / rows[r][w][1], "x") for w in others)
    print(f"{r:<8}{cells}{ratios}")
def column(w, i):
    return [rows[r][w][i] for r in sorted(rows) if not math.isnan(rows[r][w][i])]
def ratio_column(w, i):
    return [x for r in sorted(rows) if not math.isnan(x := rows[r]["emu"][i] / rows[r][w][i])]
med = lambda xs: statistics.median(xs) if xs else float("nan")
print(f"{'median':<8}" + "".join(fmt(med(column(w, 0))) + fmt(med(column(w, 1))) for w in order)
      + "".join(fmt(med(ratio_column(w, 0)), "x") + fmt(med(ratio_column(w, 1)), "x") for w in others))
def rng(xs):
    return f"{min(xs):.2f}–{max(xs):.2f}" if xs else "nan"
print(f"{'range':<8}" + "".join(f"{rng(column(w, 0)):>{W}}{rng(column(w, 1)):>{W}}" for w in order)
      + "".join(f"{rng(ratio_column(w, 0)):>{W}}{rng(ratio_column(w, 1)):>{W}}" for w in others))
missing = [f"{w} round {r}" for r in sorted(rows) for w in order if math.isnan(rows[r][w][0])]
if missing:
    print("no banner: " + ", ".join(missing), file=sys.stderr)
    sys.exit(1)
PY
