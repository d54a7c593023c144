#!/usr/bin/env bash
# The npm package's size report: raw and gzip -9 sizes of what a browser
# loads (the wasm, wasm-bindgen's glue, the package's own modules), the Node
# entry's own .wasm, and the time Node takes to import the package (read +
# compile + instantiate).
# Fails when the gzipped total exceeds the budget.
set -euo pipefail
pkg="$(cd "$(dirname "$0")" && pwd)/pkg"
BUDGET_BYTES=$((100 * 1024))

total_raw=0
total_gz=0
printf '%-28s %10s %10s\n' "file (web entry)" "raw" "gzip -9"
for file in ezthrottle_wasm_bg.wasm ezthrottle_wasm.js api.js errors.js bind.js drive.js fetch-http.js web.js; do
  raw=$(wc -c <"$pkg/$file")
  gz=$(gzip -9c "$pkg/$file" | wc -c)
  total_raw=$((total_raw + raw))
  total_gz=$((total_gz + gz))
  printf '%-28s %10d %10d\n' "$file" "$raw" "$gz"
done
printf '%-28s %10d %10d   (budget %d)\n' "total" "$total_raw" "$total_gz" "$BUDGET_BYTES"
# Node's entry loads its own speed-first build instead: no browser downloads it.
printf '%-28s %10d %10d   (the Node entry'"'"'s, not in the budget)\n' ezthrottle_wasm_node.wasm \
  "$(wc -c <"$pkg/ezthrottle_wasm_node.wasm")" "$(gzip -9c "$pkg/ezthrottle_wasm_node.wasm" | wc -c)"

# A fresh process each time: the import is what a cold start pays.
times=""
for _ in 1 2 3 4 5; do
  times="$times $(node --input-type=module -e "
    const t = performance.now();
    await import('$pkg/node.js');
    console.log((performance.now() - t).toFixed(1));")"
done
echo "node cold import (read + compile + instantiate), 5 processes, ms:$times"
if [ "$total_gz" -gt "$BUDGET_BYTES" ]; then
  echo "OVER BUDGET: $total_gz bytes gzipped > $BUDGET_BYTES" >&2
  exit 1
fi
