#!/usr/bin/env bash
# The conformance vectors: `conformance/` is the project's copy (a clone passes
# alone); `../shared/conformance` is the source of truth.
#
#   bash scripts/sync-vectors.sh          refresh the copy from the source
#   bash scripts/sync-vectors.sh --check  fail if the copy differs (no source: nothing to check)
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=../shared/conformance
copy_dir=conformance

if [ ! -d "$source_dir" ]; then
    echo "vectors: no $source_dir beside this clone; the in-repo copy stands alone"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    if ! diff -r "$source_dir" "$copy_dir" >/dev/null; then
        diff -rq "$source_dir" "$copy_dir" || true
        echo "vectors: $copy_dir/ differs from $source_dir (the source of truth); run: bash scripts/sync-vectors.sh" >&2
        exit 1
    fi
    echo "vectors: $copy_dir/ matches $source_dir"
    exit 0
fi
rm -rf "$copy_dir"
mkdir -p "$copy_dir"
cp -R "$source_dir"/. "$copy_dir"/
chmod -R u+w "$copy_dir"
echo "vectors: $copy_dir/ refreshed from $source_dir"
