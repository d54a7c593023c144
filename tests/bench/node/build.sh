# Sourced by tests/bench/run.sh: packs the npm package, installs the tarball
# into target/bench/node and defines bench_node (its figures, then on stderr
# where the package's own time goes, phases.mjs, over each of its two .wasm).
node_project="$root/target/bench/node"
node_tarball="$("$root/bindings-wasm/build.sh" --pack | tail -1)"
rm -rf "$node_project"
mkdir -p "$node_project"
cp "$here/node/bench.mjs" "$here/node/phases.mjs" "$root/tests/js/calls.mjs" "$node_project/"
echo '{ "name": "ezthrottle-bench", "private": true, "type": "module" }' > "$node_project/package.json"
(cd "$node_project" && npm install --silent --no-audit --no-fund "$node_tarball" >/dev/null)
bench_node() {
    node "$node_project/bench.mjs" "$1"
    (cd "$node_project" && node phases.mjs "$1" node && node phases.mjs "$1" web) >&2
}
