#!/usr/bin/env bash
# Obtain the Debian OVMF packages pinned in manifest.txt through apt (download and unpack, never
# installed), verify every SHA-256, and cache the listed files in firmware-fixtures/cache/.
# A package marked 'from SUITE' comes through a private apt configuration (its own sources list,
# package lists and archive cache in a temporary directory): the system's sources, lists and
# cache are left alone.
# Idempotent: a package whose cached files all match is not downloaded again. A required
# package that cannot be had fails the script with the reason (exit 1); an optional one warns.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/manifest.txt"
cache="$here/cache"

fail() { echo "firmware-fixtures: $*" >&2; exit 1; }
warn() { echo "firmware-fixtures: warning: $*" >&2; }

# --- The manifest: packages (index i) and their files ('name path sha' lines in pkg_files[i]).
declare -A suite_source
pkg_kind=(); pkg_name=(); pkg_version=(); pkg_sha=(); pkg_suite=(); pkg_files=()
lineno=0
while IFS= read -r line || [[ -n "$line" ]]; do
    lineno=$((lineno + 1))
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    read -r keyword a b c d e extra <<<"$line"
    where="manifest.txt line $lineno"
    case "$keyword" in
        apt)
            [[ -n "$a" && -n "$b" ]] || fail "$where: 'apt SUITE <sources.list line>' expected"
            suite_source[$a]="$(sed -E 's/^[[:space:]]*apt[[:space:]]+[^[:space:]]+[[:space:]]+//' <<<"$line")"
            ;;
        package | optional)
            [[ -n "$c" && -z "$extra" ]] || fail "$where: '$keyword NAME VERSION SHA256 [from SUITE]' expected"
            if [[ -n "$d" ]]; then
                [[ "$d" == from && -n "$e" ]] || fail "$where: '$keyword NAME VERSION SHA256 [from SUITE]' expected"
            fi
            pkg_kind+=("$keyword"); pkg_name+=("$a"); pkg_version+=("$b"); pkg_sha+=("$c")
            pkg_suite+=("${e:-}"); pkg_files+=("")
            ;;
        file)
            [[ ${#pkg_name[@]} -gt 0 ]] || fail "$where: a 'file' line before any package line"
            [[ -n "$c" && -z "$d" ]] || fail "$where: 'file CACHE-NAME PATH-IN-DEB SHA256' expected"
            last=$((${#pkg_name[@]} - 1))
            pkg_files[last]+="$a $b $c"$'\n'
            ;;
        *)
            fail "$where: unknown keyword '$keyword'"
            ;;
    esac
done <"$manifest"
[[ ${#pkg_name[@]} -gt 0 ]] || fail "manifest.txt names no package"
for i in "${!pkg_name[@]}"; do
    suite="${pkg_suite[i]}"
    [[ -z "$suite" || -n "${suite_source[$suite]:-}" ]] \
        || fail "manifest.txt: ${pkg_name[i]} ${pkg_version[i]} is 'from $suite', but no 'apt $suite' line defines that suite"
    [[ -n "${pkg_files[i]}" ]] || fail "manifest.txt: ${pkg_name[i]} ${pkg_version[i]} lists no file"
done

describe() { echo "${pkg_name[$1]} ${pkg_version[$1]}${pkg_suite[$1]:+ (from ${pkg_suite[$1]})}"; }
sha_ok() { [[ -f "$2" ]] && echo "$1  $2" | sha256sum --quiet -c - >/dev/null 2>&1; }

cached() {
    local name path sha
    while read -r name path sha; do
        [[ -n "$name" ]] || continue
        sha_ok "$sha" "$cache/$name" || return 1
    done <<<"${pkg_files[$1]}"
}

work=""
cleanup() { [[ -z "$work" ]] || rm -rf "$work"; }
trap cleanup EXIT
make_work() {
    [[ -n "$work" ]] && return 0
    work="$(mktemp -d)"
    chmod 755 "$work"   # apt's sandbox user (_apt) must be able to reach the private lists below
}

# apt-get's options for SUITE's private configuration, in the array 'apt_opts'; the first use
# downloads SUITE's package lists. Returns 1 with the reason in 'reason'.
private_apt() {
    local suite="$1" dir="$work/apt-$1"
    apt_opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
        -o Acquire::Languages=none -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false)
    [[ -f "$dir/ready" ]] && return 0
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    echo "${suite_source[$suite]}" >"$dir/sources.list"
    chmod -R 755 "$dir"
    if ! apt-get "${apt_opts[@]}" update >"$dir/update.log" 2>&1; then
        reason="apt-get update of the private '$suite' source failed: $(grep -E '^(E|W):' "$dir/update.log" | head -1)"
        return 1
    fi
    touch "$dir/ready"
}

# Download, verify and unpack package $1 into $work/x$1. Returns 1 with the reason in 'reason'.
obtain() {
    local i="$1" spec="${pkg_name[$1]}=${pkg_version[$1]}" dir="$work/deb$1" log deb
    mkdir -p "$dir"
    chmod 755 "$dir"
    log="$dir/apt.log"
    if [[ -n "${pkg_suite[i]}" ]]; then
        private_apt "${pkg_suite[i]}" || return 1
        if ! (cd "$dir" && apt-get "${apt_opts[@]}" download "$spec") >"$log" 2>&1; then
            reason="apt-get download $spec from ${pkg_suite[i]} failed: $(grep -E '^(E|W):' "$log" | head -1)"
            return 1
        fi
    elif ! (cd "$dir" && apt-get download "$spec") >"$log" 2>&1; then
        # A fresh machine may have no package lists yet.
        apt-get update -qq >"$dir/update.log" 2>&1 || true
        if ! (cd "$dir" && apt-get download "$spec") >"$log" 2>&1; then
            reason="apt-get download $spec failed: $(grep -E '^(E|W):' "$log" | head -1)"
            return 1
        fi
    fi
    deb="$(ls "$dir"/*.deb 2>/dev/null | head -1)"
    if [[ -z "$deb" ]]; then
        reason="apt-get download produced no .deb for $spec"; return 1
    fi
    if ! sha_ok "${pkg_sha[i]}" "$deb"; then
        reason="SHA-256 of $(basename "$deb") does not match the manifest (manifest ${pkg_sha[i]}, got $(sha256sum "$deb" | cut -d' ' -f1))"
        return 1
    fi
    if ! dpkg-deb -x "$deb" "$work/x$i"; then
        reason="dpkg-deb could not unpack $(basename "$deb")"; return 1
    fi
    local name path sha got
    while read -r name path sha; do
        [[ -n "$name" ]] || continue
        if [[ ! -f "$work/x$i/$path" ]]; then
            reason="$path is missing from $(describe "$i")"; return 1
        fi
        got="$(sha256sum "$work/x$i/$path" | cut -d' ' -f1)"
        if [[ "$got" != "$sha" ]]; then
            reason="SHA-256 mismatch for $name ($path in $(describe "$i")): manifest $sha, package $got"; return 1
        fi
    done <<<"${pkg_files[i]}"
}

install_files() {
    local i="$1" name path sha
    while read -r name path sha; do
        [[ -n "$name" ]] || continue
        mkdir -p "$(dirname "$cache/$name")"
        cp "$work/x$i/$path" "$cache/$name.tmp" && mv "$cache/$name.tmp" "$cache/$name"
    done <<<"${pkg_files[i]}"
}

for i in "${!pkg_name[@]}"; do
    if cached "$i"; then
        echo "firmware-fixtures: $(describe "$i") up to date in $cache" >&2
        continue
    fi
    if [[ "${pkg_kind[i]}" == package ]]; then
        command -v apt-get >/dev/null || fail "apt-get not found: cannot obtain Debian package $(describe "$i")"
        command -v dpkg-deb >/dev/null || fail "dpkg-deb not found: cannot unpack Debian package $(describe "$i")"
    fi
    make_work
    reason=""
    if ! obtain "$i"; then
        [[ "${pkg_kind[i]}" == optional ]] || fail "$reason"
        warn "optional $(describe "$i") not cached: $reason; the tests using it will fail"
        continue
    fi
    install_files "$i"
    if [[ "${pkg_kind[i]}" == package ]]; then
        cached "$i" || fail "cache verification of $(describe "$i") failed after unpacking"
    fi
    echo "firmware-fixtures: fetched $(describe "$i") into $cache" >&2
done

# What the cache holds, one line per package whose files are all there.
provenance="$(for i in "${!pkg_name[@]}"; do cached "$i" && echo "package $(describe "$i")"; done)"
if [[ "$(cat "$cache/PROVENANCE" 2>/dev/null)" != "$provenance" ]]; then
    echo "$provenance" >"$cache/PROVENANCE"
fi
