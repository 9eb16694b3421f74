#!/usr/bin/env bash
# test386.asm (https://github.com/barotto/test386.asm, a third-party 386+ CPU test ROM, GPLv3)
# under QEMU 7.2 and under emu's drop-in, with the same command line, compared: the POST codes
# the ROM writes to its diagnostic port and the text it prints on COM1 (POST 0xEE's arithmetic
# results). The ROM is assembled here from a checkout the caller provides (it is not vendored:
# neither the project nor CI fetches it), configured for a PC: POST codes to port 0x402 (QEMU's
# isa-debugcon there, emu's --debugcon), text to COM1, undefined-behaviour tests off.
#
#   tools/test386/compare.sh TEST386_CHECKOUT [WORK_DIR]
#
# Needs nasm, qemu-system-i386 (QEMU 7.2) and a Release build of emu. Exit 0 when emu's POST
# codes, COM1 text and registers at the final HLT equal QEMU's, 1 when they differ, 2 on bad input. What it showed last is
# in docs/cpu-segments.md ("test386").
set -uo pipefail

die() { echo "test386: $*" >&2; exit 2; }

[[ $# -ge 1 && $# -le 2 ]] || die "usage: $0 TEST386_CHECKOUT [WORK_DIR]"
source_dir="$1"
[[ -f "$source_dir/src/test386.asm" && -f "$source_dir/src/configuration.asm" ]] \
    || die "$source_dir is not a test386.asm checkout (no src/test386.asm)"
command -v nasm >/dev/null || die "nasm is needed (apt-get install nasm)"
command -v qemu-system-i386 >/dev/null || die "qemu-system-i386 is needed (apt-get install qemu-system-x86)"
here="$(cd "$(dirname "$0")" && pwd)"

work="${2:-$(mktemp -d)}"
mkdir -p "$work" || die "cannot create $work"
rm -rf "$work/src" && cp -r "$source_dir/src" "$work/src" || die "cannot copy $source_dir/src"
config="$work/src/configuration.asm"
sed -i -e 's/^POST_PORT equ .*/POST_PORT equ 0x402/' -e 's/^COM_PORT equ .*/COM_PORT equ 0x3F8/' \
    -e 's/^TEST_UNDEF equ .*/TEST_UNDEF equ 0/' "$config"
(cd "$work" && nasm -i./src/ -f bin src/test386.asm -l test386.lst -o test386.bin) >"$work/nasm.log" 2>&1 \
    || die "nasm failed (see $work/nasm.log)"
[[ $(stat -c %s "$work/test386.bin") -eq 65536 ]] || die "test386.bin is not 64 KiB"

# emu first (`emu boot` with the image as a BIOS-sized firmware chip, qemu32 as
# qemu-system-i386's default CPU, unassigned memory reading 0 as on QEMU): it stops at the ROM's final HLT, or at the HLT of the first
# failure, and its report names the address and the registers there. QEMU then runs the same ROM
# with its CPU state logged before every instruction at that HLT (-singlestep -d cpu -dfilter);
# it keeps running a halted CPU, so it gets a fixed time (the ROM runs in well under a second).
emu_dll="$here/../../src/Emulator.Cli/bin/Release/net10.0/emu.dll"
[[ -f "$emu_dll" ]] || die "emu is not built ($emu_dll missing): run 'dotnet build Emulator.sln -c Release'"
rm -f "$work"/emu.* "$work"/qemu.*
dotnet "$emu_dll" boot --firmware "$work/test386.bin" --snapshot --cpu qemu32 --unassigned-zero --debugcon "$work/emu.post" \
    --serial-log "$work/emu.com1" --report "$work/emu.json" --max-instructions 200000000 >"$work/emu.log" 2>&1
read -r stop_reason hlt < <(python3 -c '
import json, sys
stop = json.load(open(sys.argv[1]))["stop"]
print(stop["reason"], hex(int(stop["address"], 16) - 1))' "$work/emu.json") || die "emu wrote no report (see $work/emu.log)"
timeout "${TEST386_SECONDS:-20}" qemu-system-i386 -bios "$work/test386.bin" -display none -monitor none -no-reboot \
    -serial "file:$work/qemu.com1" -debugcon "file:$work/qemu.post" -global isa-debugcon.iobase=0x402 \
    -singlestep -d cpu,nochain -dfilter "$hlt..$hlt" -D "$work/qemu.cpu" >"$work/qemu.log" 2>&1
touch "$work/qemu.post" "$work/qemu.com1" "$work/qemu.cpu" "$work/emu.post" "$work/emu.com1"

posts() { od -An -v -tx1 "$1" | tr -s ' \n' ' ' | sed 's/^ //;s/ $//'; }
echo "QEMU POST codes: $(posts "$work/qemu.post")"
echo "emu  POST codes: $(posts "$work/emu.post")"
status=0
if ! cmp -s "$work/qemu.post" "$work/emu.post"; then
    echo "test386: the POST codes differ (the last one names the test that stopped; see $work/test386.lst)"
    status=1
fi
if ! cmp -s "$work/qemu.com1" "$work/emu.com1"; then
    echo "test386: the COM1 text differs:"
    diff "$work/qemu.com1" "$work/emu.com1" | head -20
    status=1
fi

# The registers at emu's final HLT against QEMU's last logged state there (QEMU logs before the
# HLT runs, emu reports after it: RIP one apart).
if [[ $stop_reason == halted ]]; then
    python3 - "$work/qemu.cpu" "$work/emu.json" <<'PY' || status=1
import json, re, sys
log = open(sys.argv[1]).read()
dumps = [m.start() for m in re.finditer(r"^EAX=", log, re.M)]
if not dumps:
    print(f"test386: QEMU never reached emu's final HLT")
    sys.exit(1)
q = dict(re.findall(r"\b([A-Z][A-Z0-9]*) ?=([0-9a-f]+)", log[dumps[-1]:]))
e = {k: int(v, 16) for k, v in json.load(open(sys.argv[2]))["stop"]["registers"].items()}
fields = {"EAX": e["rax"], "EBX": e["rbx"], "ECX": e["rcx"], "EDX": e["rdx"], "ESI": e["rsi"], "EDI": e["rdi"],
          "EBP": e["rbp"], "ESP": e["rsp"], "EIP": e["rip"] - 1, "EFL": e["rflags"], "ES": e["es"], "CS": e["cs"],
          "SS": e["ss"], "DS": e["ds"], "FS": e["fs"], "GS": e["gs"], "CR0": e["cr0"], "CR2": e["cr2"], "CR3": e["cr3"], "CR4": e["cr4"]}
diff = [f"{k}: QEMU {q.get(k, 'absent')}, emu {v & 0xffffffff:x}" for k, v in fields.items() if k not in q or int(q[k], 16) != v & 0xffffffff]
if diff:
    print("test386: the registers at the final HLT differ: " + "; ".join(diff))
    sys.exit(1)
print(f"test386: the registers at the final HLT (EIP {fields['EIP']:x}) agree")
PY
fi
[[ $status -eq 0 ]] && echo "test386: emu matches QEMU (files in $work)"
exit $status
