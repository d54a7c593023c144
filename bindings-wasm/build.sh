#!/usr/bin/env bash
# Build the npm package into bindings-wasm/pkg/ (and, with --pack, the
# tarball target/npm/ezthrottle-<version>.tgz). Installs what it needs, once:
# the wasm32 target, the wasm-bindgen CLI at exactly the crate's version, and
# wasm-opt from the npm package binaryen (never Debian's: it corrupts
# wasm-bindgen output).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
target="$root/target"
tools="$target/wasm-tools"
BINARYEN_VERSION=132.0.0
ESBUILD_VERSION=0.28.2

bindgen_version="$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' "$here/Cargo.toml")"
rustup target list --installed | grep -qx wasm32-unknown-unknown ||
  rustup target add wasm32-unknown-unknown
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  # No --locked: a locked dependency is missing on this registry mirror.
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
if [ ! -x "$tools/node_modules/.bin/wasm-opt" ]; then
  npm install --silent --no-audit --no-fund --prefix "$tools" "binaryen@$BINARYEN_VERSION"
fi
if [ "$("$tools/node_modules/.bin/esbuild" --version 2>/dev/null)" != "$ESBUILD_VERSION" ]; then
  npm install --silent --no-audit --no-fund --prefix "$tools" "esbuild@$ESBUILD_VERSION"
fi

# Nightly only for this artefact: rebuilding std with immediate-abort panics
# drops the panic formatting machinery (about a tenth of the gzipped size).
# The code is the same stable Rust every other build compiles. A dated
# nightly (scripts/nightly-toolchain), so the artefact rebuilds the same
# next month.
nightly="${EZTHROTTLE_NIGHTLY:-$(cat "$root/scripts/nightly-toolchain")}"
if ! rustup run "$nightly" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$nightly" --profile minimal
fi
rustup component list --toolchain "$nightly" --installed | grep -q '^rust-src' ||
  rustup component add rust-src --toolchain "$nightly"
rustup target list --toolchain "$nightly" --installed | grep -qx wasm32-unknown-unknown ||
  rustup target add wasm32-unknown-unknown --toolchain "$nightly"
# Two builds of the same code: size first for browsers and workers
# (wasm-release), speed first for the Node entry (wasm-node), which no
# browser downloads. wasm-bindgen writes the same glue for both.
for profile in wasm-release wasm-node; do
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
    cargo "+$nightly" build --quiet --locked --profile "$profile" \
    --target wasm32-unknown-unknown -p ezthrottle-wasm \
    --target-dir "$target/wasm-nightly" -Z build-std=std,panic_abort
done
pkg="$here/pkg"
node_build="$target/wasm-nightly/node-bindgen"
rm -rf "$pkg" "$node_build"
wasm-bindgen --target web --out-dir "$pkg" --out-name ezthrottle_wasm \
  "$target/wasm-nightly/wasm32-unknown-unknown/wasm-release/ezthrottle_wasm.wasm"
wasm-bindgen --target web --out-dir "$node_build" --out-name ezthrottle_wasm \
  "$target/wasm-nightly/wasm32-unknown-unknown/wasm-node/ezthrottle_wasm.wasm"
if ! cmp -s "$pkg/ezthrottle_wasm.js" "$node_build/ezthrottle_wasm.js"; then
  echo "build.sh: the two builds' wasm-bindgen glue differs; one glue cannot load both" >&2
  exit 1
fi
# The features rustc's wasm32 target emits; nothing newer.
features=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-multivalue --enable-reference-types)
"$tools/node_modules/.bin/wasm-opt" -Oz --strip-debug --strip-producers "${features[@]}" \
  --converge -o "$pkg/ezthrottle_wasm_bg.wasm" "$pkg/ezthrottle_wasm_bg.wasm"
"$tools/node_modules/.bin/wasm-opt" -O3 --strip-debug --strip-producers "${features[@]}" \
  -o "$pkg/ezthrottle_wasm_node.wasm" "$node_build/ezthrottle_wasm_bg.wasm"
rm -f "$pkg/ezthrottle_wasm.d.ts" "$pkg/ezthrottle_wasm_bg.wasm.d.ts" "$pkg/.gitignore"
cp "$here"/js/*.js "$here/js/index.d.ts" "$here/js/package.json" "$here/README.md" "$pkg/"
# Every shipped module minified (whitespace, comments, local names; the
# exported names and every class's `name` kept): the gzip budget counts
# every byte a browser loads, and wasm-bindgen's glue is most of the JS.
for file in ezthrottle_wasm.js api.js errors.js bind.js drive.js fetch-http.js web.js node.js node-http.js workerd.js; do
  "$tools/node_modules/.bin/esbuild" "$pkg/$file" --minify --keep-names --format=esm \
    --log-level=error --outfile="$pkg/$file.min" --allow-overwrite
  mv "$pkg/$file.min" "$pkg/$file"
done
# The CommonJS entry: node.js's API bundled for require() (Node before 20.19
# cannot require an ES module), beside the same Node .wasm; and its types.
cp "$here/js/cjs-entry.mjs" "$pkg/cjs-entry.mjs"
"$tools/node_modules/.bin/esbuild" "$pkg/cjs-entry.mjs" --bundle --format=cjs \
  --platform=node --target=node18 --log-level=error --outfile="$pkg/node.cjs"
rm "$pkg/cjs-entry.mjs"
cp "$pkg/index.d.ts" "$pkg/index.d.cts"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -1)"
sed -i "s/\"version\": \"[^\"]*\"/\"version\": \"$version\"/" "$pkg/package.json"

if [ "${1:-}" = "--pack" ]; then
  mkdir -p "$target/npm"
  (cd "$pkg" && npm pack --silent --pack-destination "$target/npm" >/dev/null)
  echo "$target/npm/ezthrottle-$version.tgz"
fi
