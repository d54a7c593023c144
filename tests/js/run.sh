#!/usr/bin/env bash
# The npm package's suite: builds and packs it, installs the tarball into a
# fresh project, type-checks a TypeScript usage file against it, runs every
# conformance vector and the end-to-end scenarios (against a sandbox) in
# Node, loads it in a page in headless Chromium (as native ES modules and
# bundled by Vite), runs the edge-worker test in workerd, and prints the size report
# (failing over budget). Also runs the crate's wasm-bindgen tests in Node and
# headless Chromium with real fetches to the same sandbox.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
project="$root/target/js-suite"

if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
  apt-get install -y -q chromium chromium-driver >/dev/null
fi
tarball="$("$root/bindings-wasm/build.sh" --pack | tail -1)"
bash "$root/bindings-wasm/size-report.sh"

rm -rf "$project"
mkdir -p "$project"
cp "$here"/*.test.mjs "$here"/*.test.cjs "$here"/node-readme* "$here/calls.mjs" "$here/web-wasm.mjs" \
  "$here/usage.ts" "$here/tsconfig.json" "$project/"
cp -r "$here/worker" "$here/page" "$project/"
cd "$project"
echo '{ "name": "ezthrottle-js-suite", "private": true, "type": "module" }' > package.json
npm install --silent --no-audit --no-fund "$tarball" typescript@5.9 miniflare@4 \
  vite@7.3.8 playwright-core@1.65.1 >/dev/null

echo "== tsc --noEmit (strict) against the package's declarations"
npx tsc -p tsconfig.json

export EZT_DEFAULT_VECTORS="$root/conformance"
if [ -n "${EZTHROTTLE_VECTORS:-}" ] && [[ "$EZTHROTTLE_VECTORS" != /* ]]; then
  EZTHROTTLE_VECTORS="$root/$EZTHROTTLE_VECTORS"
fi
echo "== conformance vectors through the JS API (Node $(node --version)), the Node entry's .wasm"
node --test --test-reporter=dot conformance.test.mjs
echo "== the same through the browsers' and workers' .wasm"
EZT_JS_ENTRY=web-wasm.mjs node --test --test-reporter=dot conformance.test.mjs
echo "== random vectors made by the reference SDK, through the Node entry"
EZTHROTTLE_VECTORS="$(bash "$root/tests/reference-python/random-vectors.sh" | tail -1)" \
  node --test --test-reporter=dot conformance.test.mjs
echo "== every error variant as its class; hostile input to every entry point"
node --test --test-reporter=spec errors.test.mjs
echo "== code written for the official Node SDK 1.4"
node --test --test-reporter=spec node-sdk.test.mjs
echo "== the Node entry's node:http transport, against loopback servers"
node --test --test-reporter=spec node-http.test.mjs
echo "== require() from CommonJS, on a Node without require(esm)"
node --no-experimental-require-module --test --test-reporter=spec cjs.test.cjs

export SANDBOX_KEY=ck_js_suite_0001
# shellcheck source=../sandbox.sh
source "$root/tests/sandbox.sh"
echo "== end-to-end scenarios against the sandbox at $SANDBOX_URL"
node --test --test-reporter=spec e2e.test.mjs
echo "== the official Node SDK README's examples against the sandbox, as ESM and as CommonJS"
node --test --test-reporter=spec node-readme.e2e.mjs
node --no-experimental-require-module --test --test-reporter=spec node-readme.e2e.cjs
echo "== the packed package in a page in headless Chromium: native ES modules, and bundled by Vite"
node --test --test-reporter=spec page.test.mjs
echo "== edge worker in workerd"
node worker/run.mjs

cd "$root/bindings-wasm"
export EZT_SANDBOX_URL="$SANDBOX_URL" EZT_SANDBOX_KEY="$SANDBOX_KEY"
echo "== wasm-bindgen tests in Node"
cargo test --locked --target wasm32-unknown-unknown --test web
echo "== wasm-bindgen tests in headless Chromium"
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER="$(command -v chromedriver)" \
  cargo test --locked --target wasm32-unknown-unknown --test web
