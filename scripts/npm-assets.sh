#!/usr/bin/env bash
# Download the npm tarballs of the pinned third-party JS assets (`npm pack`), so that
# `sitegen assets fetch --from-npm DIR` can fill the asset cache without CDN access.
# The pins are read from sitegen/assets.py (the single source of truth).
# Idempotent: a tarball already present is not downloaded again.
#
# usage: scripts/npm-assets.sh [DIR]     (default DIR: .cache/npm, relative to the repo)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-.cache/npm}"
python="${PYTHON:-$(command -v python3 || command -v python)}"

command -v npm >/dev/null || { echo "npm-assets: npm not found (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

# Import from the repo checkout even when sitegen is not installed.
specs="$(cd "$repo" && PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" "$python" -c \
    'from sitegen.assets import npm_specs; print("\n".join(npm_specs()))')"

fetched=0
present=0
while IFS= read -r spec; do
    [ -n "$spec" ] || continue
    name="${spec%@*}"          # cytoscape-dagre, or @scope/name
    version="${spec##*@}"
    flat="${name#@}"
    tarball="${flat//\//-}-${version}.tgz"   # npm pack's file name
    if [ -s "$dest/$tarball" ]; then
        present=$((present + 1))
        continue
    fi
    echo "npm pack $spec"
    # Pack into a temp dir and move into place, so an interrupted run leaves no partial
    # tarball that a later run would take as present. --ignore-scripts: nothing from the
    # package runs here; npm itself checks the registry's integrity hash of the tarball.
    tmp="$(mktemp -d "$dest/.pack.XXXXXX")"
    (cd "$tmp" && npm pack "$spec" --ignore-scripts --silent >/dev/null)
    [ -s "$tmp/$tarball" ] || { echo "npm-assets: npm pack made no $tarball" >&2; rm -rf "$tmp"; exit 1; }
    mv -f "$tmp/$tarball" "$dest/$tarball"
    rm -rf "$tmp"
    fetched=$((fetched + 1))
done <<< "$specs"

echo "npm-assets: $fetched packed, $present already present in $dest"
