#!/usr/bin/env bash
# Variable writes of a real Secure Boot OVMF, timed from the UEFI Shell on QEMU 7.2 TCG and on
# this emulator, one boot after the other: each `setvar -nv` goes from the Shell through
# SmmCommunicate, an SMI, the SMM variable driver and the secure flash into the vars file — the
# path `emu bench flash --guest-path smm` reduces to its mechanism. The time of one setvar is
# from the Enter that runs it (its text typed and echoed first) to the next "Shell>" on COM1.
#   usage: benchmarks/setvar-time.sh [CODE.fd VARS.fd] [SETVARS per boot (default 10)] [RUNS (default 3)]
# Default firmware: firmware-fixtures/cache/OVMF_CODE_4M.secboot.fd with OVMF_VARS_4M.fd (the
# bookworm 4 MB Secure Boot build, not enrolled: it reaches Shell>). QEMU runs -machine q35
# (TCG: smm=on) with the pflash chips secure=on, as libvirt starts Secure Boot VMs; emu
# --machine q35 --secure-flash. Each boot gets a fresh copy of VARS; each setvar rewrites one of
# four variables with new data (the driver skips a write of identical data), so most writes add
# a record and mark the previous one deleted, as a VM's BootOrder or Timeout updates do.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 2 ] && [ -f "$1" ]; then code=$1 vars=$2; shift 2
else code="$here/firmware-fixtures/cache/OVMF_CODE_4M.secboot.fd" vars="$here/firmware-fixtures/cache/OVMF_VARS_4M.fd"; fi
count=${1:-10} runs=${2:-3}
emu="$here/src/Emulator.Cli/bin/Release/net10.0/emu.dll"
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 not found (apt-get install -y qemu-system-x86)" >&2; exit 2; }
[ -f "$emu" ] || { echo "build first: dotnet build Emulator.sln -c Release" >&2; exit 2; }
[ -f "$code" ] && [ -f "$vars" ] || { echo "firmware not found: $code, $vars (bash firmware-fixtures/fetch.sh)" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

measure() { # label, count, command...
  local label=$1 n=$2; shift 2
  python3 - "$label" "$n" "$@" <<'PY'
import os, re, select, statistics, subprocess, sys, time
label, n, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
guid = "5A1E4E3E-1111-2222-3333-444455556666"
strip = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
raw = b""

def plain():
    return strip.sub(b"", raw)

def wait_for(needle, after=0, timeout=600):
    """Reads the console until needle appears past offset `after` of the plain text; returns the time it did."""
    global raw
    deadline = time.monotonic() + timeout
    while True:
        text = plain()
        at = text.find(needle, after)
        if at >= 0:
            return time.monotonic(), at + len(needle)
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
            sys.exit(f"{label}: no {needle!r} on the console within {timeout} s")
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            sys.exit(f"{label}: the console closed before {needle!r}")
        raw += chunk

def send(text):
    p.stdin.write(text); p.stdin.flush()

_, at = wait_for(b"Press ESC in")
send(b"\x1b")
_, at = wait_for(b"Shell>", at)
times, typing = [], []
for i in range(n):
    # One console line (the Shell wraps past 80 columns): "Shell> " and 68 characters.
    command = f"setvar EB{i % 4} -guid {guid} -nv -bs =0x{i:04X}".encode()
    typed = time.monotonic()
    send(command)
    start, at = wait_for(command, at)      # typed and echoed: only the Enter is timed
    typing.append((start - typed) * 1000)
    send(b"\r")
    end, prompt = wait_for(b"Shell>", at)
    said = plain()[at:prompt - len(b"Shell>")].strip()
    if said:
        sys.exit(f"{label}: setvar said {said!r}")
    at = prompt
    times.append((end - start) * 1000)
send(b"reset -s\r")
try:
    p.wait(timeout=60)
except subprocess.TimeoutExpired:
    p.kill()
print(f"{label:5} {n} setvars: median {statistics.median(times):8.1f} ms  min {min(times):8.1f}  max {max(times):8.1f}  first {times[0]:8.1f}"
      f"  (typing the line: median {statistics.median(typing):7.1f} ms)  all " + " ".join(f"{t:.0f}" for t in times))
PY
}

check() { # label, vars file: the last setvar's data (=0xNNNN, stored little-endian) must be in the file
  local last=$(( count - 1 )) got
  got=$(dotnet "$emu" vars get "$2" "EB$(( last % 4 ))" --guid 5A1E4E3E-1111-2222-3333-444455556666 --hex 2>&1) || true
  [ "${got//[[:space:]]/}" = "$(printf '%02X%02X' $(( last & 255 )) $(( last >> 8 )))" ] && echo "$1: vars file holds the last setvar" || echo "$1: vars file lacks the last setvar ($got)"
}

for i in $(seq "$runs"); do
  cp "$vars" "$work/vars-qemu.fd"; cp "$vars" "$work/vars-emu.fd"
  measure qemu "$count" qemu-system-x86_64 -machine q35,accel=tcg -global driver=cfi.pflash01,property=secure,value=on \
    -m 256 -nodefaults -display none -serial stdio \
    -drive if=pflash,format=raw,unit=0,readonly=on,file="$code" -drive if=pflash,format=raw,unit=1,file="$work/vars-qemu.fd"
  check qemu "$work/vars-qemu.fd"
  measure emu "$count" dotnet "$emu" boot --machine q35 --secure-flash --code "$code" --vars "$work/vars-emu.fd" \
    --quiet --serial-input - --pace off
  check emu "$work/vars-emu.fd"
done
