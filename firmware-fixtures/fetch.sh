#!/usr/bin/env bash
# Obtain the pinned Debian OVMF package through apt (download and unpack, never installed),
# verify every SHA-256 in manifest.txt, and cache the files in firmware-fixtures/cache/.
# Idempotent: a cache whose hashes all match is left alone. Any failure says why and exits 1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/manifest.txt"
cache="$here/cache"

fail() { echo "firmware-fixtures: $*" >&2; exit 1; }

read -r _ pkg version debsha < <(grep '^package ' "$manifest") || fail "manifest has no 'package' line"

verify_cache() {
    local ok=0
    while read -r _ name _ sha; do
        [[ -f "$cache/$name" ]] || return 1
        echo "$sha  $cache/$name" | sha256sum --quiet -c - >/dev/null 2>&1 || return 1
    done < <(grep '^file ' "$manifest")
    return $ok
}

# Optional fixtures (manifest lines 'optional PKG VERSION DEBSHA' and 'optional-file NAME PATH SHA'):
# an older build kept for comparisons. The archive may drop it (debian-security keeps only the
# newest update), so failing to get it is a warning, never a failure of this script; the tests
# that use it then fail naming the missing file.
fetch_optional() {
    local opkg oversion osha work odeb
    read -r _ opkg oversion osha < <(grep '^optional ' "$manifest") || return 0
    local ok=1
    while read -r _ name _ sha; do
        [[ -f "$cache/$name" ]] && echo "$sha  $cache/$name" | sha256sum --quiet -c - >/dev/null 2>&1 || ok=0
    done < <(grep '^optional-file ' "$manifest")
    [[ $ok == 1 ]] && return 0
    work="$(mktemp -d)"
    chmod 755 "$work"
    if ! (cd "$work" && apt-get download "$opkg=$oversion") >"$work/apt.log" 2>&1; then
        echo "firmware-fixtures: warning: optional $opkg $oversion not available ($(grep -E '^(E|W):' "$work/apt.log" | head -1)); the tests comparing it will fail" >&2
        rm -rf "$work"; return 0
    fi
    odeb="$(ls "$work"/*.deb 2>/dev/null | head -1)"
    if [[ -z "$odeb" ]] || ! echo "$osha  $odeb" | sha256sum --quiet -c - >/dev/null 2>&1 || ! dpkg-deb -x "$odeb" "$work/x"; then
        echo "firmware-fixtures: warning: optional $opkg $oversion: no .deb, a SHA-256 mismatch or an unpack failure; not cached" >&2
        rm -rf "$work"; return 0
    fi
    mkdir -p "$cache"
    while read -r _ name path sha; do
        if [[ -f "$work/x/$path" ]] && [[ "$(sha256sum "$work/x/$path" | cut -d' ' -f1)" == "$sha" ]]; then
            cp "$work/x/$path" "$cache/$name.tmp" && mv "$cache/$name.tmp" "$cache/$name"
        else
            echo "firmware-fixtures: warning: optional $name ($path in $opkg $oversion) missing or its SHA-256 differs; not cached" >&2
        fi
    done < <(grep '^optional-file ' "$manifest")
    rm -rf "$work"
    echo "firmware-fixtures: fetched optional $opkg $oversion into $cache" >&2
}

if verify_cache; then
    echo "firmware-fixtures: cache up to date ($pkg $version) in $cache" >&2
    fetch_optional
    exit 0
fi

command -v apt-get >/dev/null || fail "apt-get not found: cannot obtain Debian package $pkg=$version"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"   # apt's sandbox user must be able to write here

download() { (cd "$work" && apt-get download "$pkg=$version") >"$work/apt.log" 2>&1; }
if ! download; then
    # A fresh machine may have no package lists yet.
    apt-get update -qq >"$work/update.log" 2>&1 || true
    download || fail "apt-get download $pkg=$version failed: $(grep -E '^(E|W):' "$work/apt.log" | head -1)"
fi
deb="$(ls "$work"/*.deb 2>/dev/null | head -1)"
[[ -n "$deb" ]] || fail "apt-get download produced no .deb for $pkg=$version"
echo "$debsha  $deb" | sha256sum --quiet -c - >/dev/null 2>&1 \
    || fail "SHA-256 of $(basename "$deb") does not match the manifest (got $(sha256sum "$deb" | cut -d' ' -f1))"
dpkg-deb -x "$deb" "$work/x" || fail "dpkg-deb could not unpack $(basename "$deb")"

mkdir -p "$cache"
while read -r _ name path sha; do
    src="$work/x/$path"
    [[ -f "$src" ]] || fail "$path is missing from $pkg $version"
    got="$(sha256sum "$src" | cut -d' ' -f1)"
    [[ "$got" == "$sha" ]] || fail "SHA-256 mismatch for $name: manifest $sha, package $got"
    cp "$src" "$cache/$name.tmp" && mv "$cache/$name.tmp" "$cache/$name"
done < <(grep '^file ' "$manifest")
echo "package $pkg $version" > "$cache/PROVENANCE"
verify_cache || fail "cache verification failed after unpacking"
echo "firmware-fixtures: fetched $pkg $version into $cache" >&2
fetch_optional
