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

if verify_cache; then
    echo "firmware-fixtures: cache up to date ($pkg $version) in $cache" >&2
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
