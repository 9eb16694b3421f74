#!/usr/bin/env bash
# What reverse execution costs under a real gdb: the boot runs under "--gdb --gdb-wait", stops
# where SecMain starts (a breakpoint is set there) and where BdsDxe starts (hundreds of millions
# of instructions on), steps 10 instructions, then, timed one by one: the first reverse-stepi (it
# takes the frontier's checkpoint), a second reverse-stepi, reverse-continue back to the SEC
# breakpoint (replayed at full speed: the breakpoint was set all along), continue forward to a
# breakpoint set now at the BdsDxe entry (replay must watch every instruction for it), and
# reverse-continue from there to the start of history (the same). Prints each command's wall
# milliseconds and "monitor history".
#   usage: benchmarks/gdb-reverse.sh CODE.fd VARS.fd [EMU_BINARY]
set -euo pipefail
fail() { echo "gdb-reverse.sh: $*" >&2; exit 2; }
(($# >= 2)) || fail "give CODE.fd VARS.fd [EMU_BINARY]"
code=$1 vars=$2 emu=${3:-$(dirname "$0")/../src/Emulator.Cli/bin/Release/net10.0/emu}
[[ -f $code && -f $vars ]] || fail "no such file: $([[ -f $code ]] && echo "$vars" || echo "$code")"
[[ -x $emu ]] || fail "no emu at $emu (build it: dotnet build -c Release)"
command -v gdb >/dev/null || fail "gdb is needed (apt-get install gdb)"
work=$(mktemp -d); trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cp "$vars" "$work/vars.fd"
"$emu" boot --code "$code" --vars "$work/vars.fd" --snapshot --gdb tcp::0 --gdb-wait --max-instructions 4000000000 2>"$work/emu.err" >/dev/null &
pid=$!
until grep -q "gdb server on" "$work/emu.err" 2>/dev/null; do kill -0 "$pid" 2>/dev/null || fail "emu ended: $(tail -1 "$work/emu.err")"; sleep 0.05; done
port=$(grep -o "gdb server on [0-9.]*:[0-9]*" "$work/emu.err" | grep -o "[0-9]*$")
mark='shell date +%s%N'
gdb -nx -batch -ex "target remote :$port" -ex 'monitor break-module SecMain' -ex continue -ex 'set $sec = $pc' -ex 'break *$sec' \
  -ex 'monitor break-module BdsDxe' -ex continue -ex 'set $bds = $pc' -ex 'stepi 10' \
  -ex "$mark" -ex 'reverse-stepi' -ex "$mark" -ex 'reverse-stepi' -ex "$mark" -ex 'reverse-continue' -ex "$mark" \
  -ex 'delete' -ex 'break *$bds' -ex continue -ex "$mark" -ex 'reverse-continue' -ex "$mark" \
  -ex 'monitor history' -ex kill >"$work/gdb.out" 2>&1 || true
mapfile -t t < <(grep -E '^[0-9]{19}$' "$work/gdb.out")
((${#t[@]} == 6)) || fail "gdb did not get through the script: $(tail -3 "$work/gdb.out")"
ms() { echo $(((t[$2] - t[$1]) / 1000000)); }
echo "reverse-stepi (first, takes the frontier checkpoint): $(ms 0 1) ms"
echo "reverse-stepi: $(ms 1 2) ms"
echo "reverse-continue to the SEC breakpoint (set all along): $(ms 2 3) ms"
echo "continue forward through history to a breakpoint set afterwards: $(ms 3 4) ms"
echo "reverse-continue to the start of history, watching for it: $(ms 4 5) ms"
grep -m1 "^history:" "$work/gdb.out"
