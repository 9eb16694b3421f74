#!/usr/bin/env bash
# Build DEBUG OVMF (X64, 2 MB and 4 MB) from Debian bookworm's edk2 source package, the source of
# the pinned 'ovmf' fixture (debug-build.txt pins its version and the .dsc's SHA-256), and cache
# the images OUTSIDE the clone, keyed by every input, so a fresh clone on the same machine reuses
# them and a fresh machine rebuilds them (about 10 minutes per build on 2 cores).
#
# Recipe: debian/rules' for the ovmf package, with -b DEBUG instead of RELEASE:
#   OVMF_CODE_4M.fd, OVMF_VARS_4M.fd      OvmfPkg/OvmfPkgIa32X64.dsc  -a IA32 -a X64
#       Debian's OVMF_4M_FLAGS exactly (COMMON_FLAGS: HTTP boot, IPv6, TLS, Secure Boot, TPM2;
#       -DFD_SIZE_4MB): the DEBUG twin of the RELEASE fixture OVMF_CODE_4M.fd, which Debian also
#       builds from OvmfPkgIa32X64 (IA32 PEI, X64 DXE).
#   OVMF_CODE.fd, OVMF_VARS.fd, OVMF.fd   OvmfPkg/OvmfPkgX64.dsc      -a X64
#       -DSECURE_BOOT_ENABLE=TRUE -DFD_SIZE_2MB only. With Debian's OVMF_2M_FLAGS the DEBUG
#       modules do not fit the 2 MB layout (GenFv: "the required fv image size 0x1cbb68 exceeds
#       the set fv image size 0x1ac000" for FVMAIN_COMPACT), so the 2 MB build leaves out what
#       makes it bigger than edk2's defaults (HTTP boot, IPv6, TLS, TPM2).
# Secure Boot is in both because Debian's Disable-the-Shell-when-SecureBoot-is-enabled.patch
# makes the Shell link against the Secure Boot library, which a build without it lacks. Debian's
# SMM (.secboot) variants are not built: emu's 'pc' machine has no SMM.
#
# Source: apt-get source through a private apt configuration (its own sources list, lists and
# cache under the work directory; the system's sources are left alone), the .dsc checked against
# debug-build.txt, then dpkg-source -x, which checks the tarballs against the .dsc and applies
# Debian's patches. The orig tarball already carries edk2's submodules (OpenSSL, Brotli, ...).
#
# Cache: ${EMU_FIXTURE_CACHE:-/var/cache/emu-firmware}/ovmf-debug-<key>/ with the images, the 2 MB
# build's .debug files (symbols-2m/, for the gdb server's --symbols),
# SHA256SUMS and PROVENANCE (the inputs the key hashes: source package, version and .dsc SHA-256,
# the SHA-256 of this script's non-comment lines, the build commands, and the gcc, binutils, nasm
# and iasl versions). The images are checked against the SHA-256s debug-build.txt pins for its
# toolchain.
# The entry is built in a temporary directory and renamed into place, so an interrupted or failed
# build never leaves a partial entry. firmware-fixtures/cache/debug links to the entry (the tests
# find the images there); the entry's path is the one line this script prints on stdout.
#
# The tree is built at a fixed path (/var/tmp/emu-ovmf-debug-build) because DEBUG images embed
# it (ASSERT's __FILE__ strings, the PE debug directory); a fixed path keeps the output the same
# wherever the cache lives. A lock file serialises concurrent runs.
#
# Any failure prints one line saying why and exits 1 (the build log is kept next to the cache).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/debug-build.txt"
cache_root="${EMU_FIXTURE_CACHE:-/var/cache/emu-firmware}"
build_root=/var/tmp/emu-ovmf-debug-build
jobs=2

fail() { echo "build-debug: $*" >&2; exit 1; }
say() { echo "build-debug: $*" >&2; }

read -r _ srcpkg version dscsha < <(grep '^source ' "$manifest") || fail "$manifest has no 'source' line"

common_flags="-DNETWORK_HTTP_BOOT_ENABLE=TRUE -DNETWORK_IP6_ENABLE=TRUE -DNETWORK_TLS_ENABLE -DSECURE_BOOT_ENABLE=TRUE -DTPM2_ENABLE=TRUE"
build_2m="build -n $jobs -a X64 -t GCC5 -b DEBUG -p OvmfPkg/OvmfPkgX64.dsc -DSECURE_BOOT_ENABLE=TRUE -DFD_SIZE_2MB"
build_4m="build -n $jobs -a IA32 -a X64 -t GCC5 -b DEBUG -p OvmfPkg/OvmfPkgIa32X64.dsc $common_flags -DFD_SIZE_4MB"
outputs=(OVMF_CODE.fd OVMF_VARS.fd OVMF.fd OVMF_CODE_4M.fd OVMF_VARS_4M.fd)

# Build dependencies of the OVMF part of debian/control, installed only when missing.
need=()
command -v gcc >/dev/null && command -v make >/dev/null || need+=(build-essential)
command -v nasm >/dev/null || need+=(nasm)
command -v iasl >/dev/null || need+=(acpica-tools)
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import distutils' 2>/dev/null || need+=(python3-distutils)
[[ -f /usr/include/uuid/uuid.h ]] || need+=(uuid-dev)
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
if ((${#need[@]})); then
    command -v apt-get >/dev/null || fail "missing build tools (${need[*]}) and no apt-get to install them"
    say "installing ${need[*]}"
    log="$(mktemp)"
    { apt-get install -y "${need[@]}" || { apt-get update && apt-get install -y "${need[@]}"; }; } >"$log" 2>&1 \
        || fail "apt-get install ${need[*]} failed: $(grep -E '^E:' "$log" | head -1)"
    rm -f "$log"
fi

toolchain() {
    echo "$(gcc --version | head -1) | $(ld --version | head -1) | $(nasm -v) | $(iasl -v 2>/dev/null | grep -m1 -i 'version')"
}
provenance() {
    echo "source $srcpkg $version dsc-sha256 $dscsha"
    echo "script-sha256 $(grep -v '^[[:space:]]*#' "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
    echo "build-2m $build_2m"
    echo "build-4m $build_4m"
    echo "toolchain $(toolchain)"
}
inputs="$(provenance)"
key="$(sha256sum <<<"$inputs" | cut -c1-16)"
entry="$cache_root/ovmf-debug-$key"

verify_entry() {
    [[ -f "$entry/SHA256SUMS" ]] && (cd "$entry" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1
}

link_entry() {
    mkdir -p "$here/cache"
    ln -sfn "$entry" "$here/cache/debug.tmp" && mv -T "$here/cache/debug.tmp" "$here/cache/debug"
    say "DEBUG OVMF ($srcpkg $version) in $entry, linked from firmware-fixtures/cache/debug"
    echo "$entry"
}

if verify_entry; then
    link_entry
    exit 0
fi

mkdir -p "$cache_root" || fail "cannot create the cache directory $cache_root"
exec 9>"$build_root.lock" || fail "cannot create the lock $build_root.lock"
if ! flock -n 9; then
    say "another build holds $build_root.lock; waiting"
    flock 9
fi
# The run that held the lock may have built this very entry.
if verify_entry; then
    link_entry
    exit 0
fi
if [[ -e "$entry" ]]; then
    say "cache entry $entry fails its SHA256SUMS; rebuilding it"
    rm -rf "$entry"
fi

# A run killed outright (SIGKILL, power loss) leaves its staging directory: remove such remains.
rm -rf "$cache_root/.ovmf-debug-$key.partial."*
staging="$cache_root/.ovmf-debug-$key.partial.$$"
buildlog="$cache_root/ovmf-debug-$key.log"
cleanup() { rm -rf "$staging" "$build_root"; }
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM
rm -rf "$build_root"
mkdir -p "$build_root/apt/lists/partial" "$build_root/apt/cache/archives/partial" "$build_root/src" "$staging"
chmod -R 755 "$build_root"   # apt's sandbox user reads the lists here
: >"$buildlog"
started=$SECONDS

# Private apt configuration: deb-src lines of its own; the system's sources and lists untouched.
apt_conf=(-o "Dir::Etc::SourceList=$build_root/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$build_root/apt/lists" -o "Dir::Cache=$build_root/apt/cache")
cat >"$build_root/apt/sources.list" <<'EOF'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main
deb-src http://deb.debian.org/debian bookworm-updates main
EOF
apt-get "${apt_conf[@]}" update >>"$buildlog" 2>&1 \
    || fail "apt-get update (private deb-src list) failed: $(grep -E '^(E|W):' "$buildlog" | head -1)"
(cd "$build_root/src" && apt-get "${apt_conf[@]}" source --download-only "$srcpkg=$version") >>"$buildlog" 2>&1 \
    || fail "apt-get source $srcpkg=$version failed: $(grep -E '^E:' "$buildlog" | head -1)"
dsc="$build_root/src/${srcpkg}_${version}.dsc"
[[ -f "$dsc" ]] || fail "apt-get source produced no $(basename "$dsc")"
got="$(sha256sum "$dsc" | cut -d' ' -f1)"
[[ "$got" == "$dscsha" ]] || fail "SHA-256 of $(basename "$dsc") is $got, debug-build.txt pins $dscsha"
tree="$build_root/edk2"
dpkg-source -x "$dsc" "$tree" >>"$buildlog" 2>&1 \
    || fail "dpkg-source -x $(basename "$dsc") failed: $(grep -E 'error' "$buildlog" | tail -1)"
[[ -f "$tree/CryptoPkg/Library/OpensslLib/openssl/include/openssl/opensslv.h" ]] \
    || fail "the $srcpkg source has no OpenSSL under CryptoPkg (needed by SECURE_BOOT_ENABLE)"

# edk2's setup reads these from the environment (debian/rules clears them too).
unset WORKSPACE EDK_TOOLS_PATH CONF_PATH PACKAGES_PATH
export PYTHON3_ENABLE=TRUE
run_edk2() {
    local what="$1"; shift
    say "$what"
    # edksetup.sh is not written for 'set -euo pipefail', and it parses the positional parameters
    # it is sourced with, so it gets none.
    local cmd=("$@")
    set --
    if ! (cd "$tree" && set +euo pipefail && . ./edksetup.sh >/dev/null && "${cmd[@]}") >>"$buildlog" 2>&1; then
        local why
        # The first error line and the one after it (GenFv gives its reason on the next line).
        why="$(grep -E -m1 -A1 ': error |error:|ERROR' "$buildlog" | tr -s ' \n' ' ' || tail -1 "$buildlog")"
        fail "$what failed: ${why:0:200} (log: $buildlog)"
    fi
}
run_edk2 "building BaseTools" make -C BaseTools ARCH=X64 -j"$jobs"
run_edk2 "building DEBUG OVMF 2 MB (OvmfPkgX64)" $build_2m
for f in OVMF_CODE.fd OVMF_VARS.fd OVMF.fd; do
    cp "$tree/Build/OvmfX64/DEBUG_GCC5/FV/$f" "$staging/$f" || fail "the 2 MB build produced no $f"
done
# The 2 MB build's symbols (one ELF .debug per module, linked at the PE image's RVAs) for the gdb
# server's --symbols; the sources stay out (gdb names file and line without them).
mkdir -p "$staging/symbols-2m"
cp "$tree"/Build/OvmfX64/DEBUG_GCC5/X64/*.debug "$staging/symbols-2m/" || fail "the 2 MB build left no .debug files"
run_edk2 "building DEBUG OVMF 4 MB (OvmfPkgIa32X64)" $build_4m
cp "$tree/Build/Ovmf3264/DEBUG_GCC5/FV/OVMF_CODE.fd" "$staging/OVMF_CODE_4M.fd" || fail "the 4 MB build produced no OVMF_CODE.fd"
cp "$tree/Build/Ovmf3264/DEBUG_GCC5/FV/OVMF_VARS.fd" "$staging/OVMF_VARS_4M.fd" || fail "the 4 MB build produced no OVMF_VARS.fd"

# The pinned bytes (debug-build.txt 'output' lines) hold for the pinned toolchain only.
pinned_toolchain="$(sed -n 's/^toolchain //p' "$manifest")"
while read -r _ name sha; do
    got="$(sha256sum "$staging/$name" | cut -d' ' -f1)"
    [[ "$got" == "$sha" ]] && continue
    [[ "$pinned_toolchain" == "$(toolchain)" ]] \
        && fail "$name built as $got, debug-build.txt pins $sha for this very toolchain: the build did not reproduce (log: $buildlog)"
    say "warning: $name is $got, not the pinned $sha (pinned for: $pinned_toolchain); the tests comparing QEMU's debugcon log of it will fail"
done < <(grep '^output ' "$manifest")
(cd "$staging" && sha256sum "${outputs[@]}" symbols-2m/*.debug >SHA256SUMS)
{ echo "$inputs"; echo "key $key"; echo "built $(date -u +%FT%TZ) in $((SECONDS - started)) s"; } >"$staging/PROVENANCE"
mv -T "$staging" "$entry" 2>/dev/null || verify_entry || fail "could not move the build into $entry"
rm -f "$buildlog"
say "built in $((SECONDS - started)) s"
link_entry
