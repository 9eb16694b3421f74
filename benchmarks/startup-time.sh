#!/usr/bin/env bash
# Process start to the reset vector: emu builds alternating, each run once as
# "emu boot --code CODE --vars <fresh copy of VARS> --snapshot --until reset --quiet" and once as
# "emu --help" (.NET's own start-up and the command line, the floor); wall and CPU seconds
# (user+sys, all threads) of each whole process from /usr/bin/time; then median and range per
# build. The machine is noisy: read the CPU figures, and compare builds only within one sitting.
#   usage: benchmarks/startup-time.sh [--runs N] CODE.fd VARS.fd LABEL=EMU_BINARY...
#   e.g.   benchmarks/startup-time.sh --runs 15 OVMF_CODE.fd OVMF_VARS.fd \
#            main=/scratch/main/src/Emulator.Cli/bin/Release/net10.0/emu this=src/Emulator.Cli/bin/Release/net10.0/emu
set -euo pipefail
fail() { echo "startup-time.sh: $*" >&2; exit 2; }
runs=10
if [[ ${1:-} == --runs ]]; then
  [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || fail "--runs needs a whole number above 0"
  runs=$2; shift 2
fi
(($# >= 3)) || fail "give CODE.fd VARS.fd and at least one LABEL=EMU_BINARY"
code=$1 vars=$2; shift 2
[[ -f $code && -f $vars ]] || fail "no such file: $([[ -f $code ]] && echo "$vars" || echo "$code")"
for build in "$@"; do
  [[ $build == *=* && -x ${build#*=} ]] || fail "not LABEL=EXECUTABLE: $build"
done
[[ -x /usr/bin/time ]] || fail "/usr/bin/time is missing (apt-get install time)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for _ in $(seq "$runs"); do
  for build in "$@"; do
    label=${build%%=*} emu=${build#*=}
    cp "$vars" "$work/vars.fd"
    /usr/bin/time -a -o "$work/times" -f "$label reset %e %U %S" "$emu" boot --code "$code" --vars "$work/vars.fd" --snapshot --until reset --quiet >/dev/null 2>&1
    /usr/bin/time -a -o "$work/times" -f "$label help %e %U %S" "$emu" --help >/dev/null 2>&1
  done
done
python3 - "$work/times" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, what, wall, user, sys_ = line.split()
    runs[(label, what)].append((float(wall), float(user) + float(sys_)))
print(f"{'build':<12}{'run':<7}{'n':>3}  {'wall median (range)':<24}{'cpu median (range)'}")
for (label, what), v in runs.items():
    w, c = [x[0] for x in v], [x[1] for x in v]
    print(f"{label:<12}{what:<7}{len(v):>3}  {statistics.median(w):.3f} s ({min(w):.2f}–{max(w):.2f})".ljust(50)
          + f"{statistics.median(c):.3f} s ({min(c):.2f}–{max(c):.2f})")
PY
