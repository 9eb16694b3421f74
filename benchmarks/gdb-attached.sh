#!/usr/bin/env bash
# The boot's speed with gdb attached: each pair runs "emu boot --until banner" plain and, at the
# same time (so both see the same load), under "--gdb tcp::PORT --gdb-wait" with a batch gdb that
# attaches and continues; the reset-to-banner wall time comes from each run's own milestone lines
# (the gdb run's reset milestone is taken when gdb lets the CPU start). Prints each pair and the
# median ratio gdb/plain. Needs gdb (apt-get install gdb).
#   usage: benchmarks/gdb-attached.sh [--pairs N] CODE.fd VARS.fd [EMU_BINARY]
set -euo pipefail
fail() { echo "gdb-attached.sh: $*" >&2; exit 2; }
pairs=3
if [[ ${1:-} == --pairs ]]; then
  [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || fail "--pairs needs a whole number above 0"
  pairs=$2; shift 2
fi
(($# >= 2)) || fail "give CODE.fd VARS.fd [EMU_BINARY]"
code=$1 vars=$2 emu=${3:-$(dirname "$0")/../src/Emulator.Cli/bin/Release/net10.0/emu}
[[ -f $code && -f $vars ]] || fail "no such file: $([[ -f $code ]] && echo "$vars" || echo "$code")"
[[ -x $emu ]] || fail "no emu at $emu (build it: dotnet build -c Release)"
command -v gdb >/dev/null || fail "gdb is needed (apt-get install gdb)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
span() {
  local a b
  a=$(grep -o "milestone reset .*wall [0-9]* ms" "$1" | grep -o "wall [0-9]*" | grep -o "[0-9]*")
  b=$(grep -o "milestone banner .*wall [0-9]* ms" "$1" | grep -o "wall [0-9]*" | grep -o "[0-9]*")
  echo $((b - a))
}
ratios=()
for ((i = 1; i <= pairs; i++)); do
  cp "$vars" "$work/plain.fd"; cp "$vars" "$work/gdb.fd"
  "$emu" boot --code "$code" --vars "$work/gdb.fd" --snapshot --until banner --gdb "tcp::$port" --gdb-wait 2>"$work/gdb.err" >/dev/null &
  emu_gdb=$!
  until grep -q "gdb server on" "$work/gdb.err" 2>/dev/null; do sleep 0.05; done
  gdb -nx -batch -ex "target remote :$port" -ex continue >/dev/null 2>&1 &
  "$emu" boot --code "$code" --vars "$work/plain.fd" --snapshot --until banner 2>"$work/plain.err" >/dev/null
  wait "$emu_gdb" || true
  wait || true
  p=$(span "$work/plain.err") g=$(span "$work/gdb.err")
  ratios+=("$(echo "scale=3; $g / $p" | bc)")
  echo "pair $i: plain $p ms, gdb attached $g ms, ratio ${ratios[-1]}"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{r[NR]=$1} END {printf "gdb/plain median %s (range %s-%s) over %d pairs\n", r[int((NR+1)/2)], r[1], r[NR], NR}'
