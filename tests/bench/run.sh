#!/usr/bin/env bash
# The side-by-side benchmark: one sandbox (release build, pacing and rate limit
# off; its testkit upstream on the same loopback port is the "local API"), the
# same workloads run by each client in turn, then a markdown table with the
# ratio of each client to the reference SDK and a PNG chart of the ratios.
#
#   bash tests/bench/run.sh                 every client
#   BENCH_CLIENTS="reference rust" bash tests/bench/run.sh
#   BENCH_SUBMITS=2000 BENCH_FRUGAL=2000 BENCH_BUILDS=100000 (the defaults)
#
# Workloads (tests/bench/workload.json):
#   submit  sequential PERFORMANCE submits of one realistic step, unique keys
#   frugal  FRUGAL steps whose local call succeeds, against the same request
#           made plainly with the same HTTP stack (the SDK's own overhead)
#   build   the `everything` payload vector built and serialized to JSON
#
# Writes target/bench/results.jsonl, results.md and ratios.png.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/bench"
mkdir -p "$out"
clients="${BENCH_CLIENTS:-reference rust c node kotlin}"
vectors="${EZTHROTTLE_VECTORS:-$root/conformance}"

note() { printf '\n== %s\n' "$*" >&2; }

note "tools and builds"
# shellcheck source=../reference-python/venv.sh
source "$root/tests/reference-python/venv.sh"
"$reference_venv/bin/python" -c 'import matplotlib' 2>/dev/null ||
    "$reference_venv/bin/pip" install --quiet --disable-pip-version-check matplotlib
cargo build --quiet --locked --release -p ezthrottle-sandbox --example bench_client
for client in $clients; do
    case "$client" in
        c) source "$here/c/build.sh" ;;
        node) source "$here/node/build.sh" ;;
        kotlin) source "$here/kotlin/build.sh" ;;
    esac
done

export SANDBOX_KEY=ck_bench_cust_0001 SANDBOX_PROFILE=release SANDBOX_ARGS="--pacing off --rate-limit off"
# shellcheck source=../sandbox.sh
source "$root/tests/sandbox.sh"

note "workload against the sandbox at $SANDBOX_URL"
run="$out/run.json"
python3 - "$here/workload.json" "$vectors/payloads.json" "$run" <<EOF
import json, sys, time
workload, vectors, out = sys.argv[1:]
text = open(workload).read().replace("{sandbox}", "$SANDBOX_URL")
retry_at = int(time.time() * 1000) + 86_400_000
text = text.replace('"{retry_at}"', str(retry_at))
w = json.loads(text)
everything = next(v for v in json.load(open(vectors)) if v["name"] == "everything")
frugal = dict(w["frugal"])  # the plain request: the step's own request
plain = {k: frugal[k] for k in ("method", "url", "headers", "body")}
json.dump({
    "sandbox": "$SANDBOX_URL", "api_key": "$SANDBOX_KEY", "run_id": int(time.time()),
    "submits": int("${BENCH_SUBMITS:-2000}"), "frugal": int("${BENCH_FRUGAL:-2000}"),
    "builds": int("${BENCH_BUILDS:-100000}"),
    "submit": w["submit"], "frugal_calls": w["frugal"], "frugal_plain": plain,
    "build": everything["calls"],
}, open(out, "w"))
EOF

results="$out/results.jsonl"
: > "$results"
for client in $clients; do
    note "client: $client"
    case "$client" in
        reference) "$reference_venv/bin/python" "$here/reference.py" "$run" ;;
        rust) "$root/target/release/examples/bench_client" "$run" ;;
        c) bench_c "$run" ;;
        node) bench_node "$run" ;;
        kotlin) bench_kotlin "$run" ;;
        *) echo "unknown client $client" >&2; exit 2 ;;
    esac | grep "^{\"client\"" | tee -a "$results" >&2
done

machine="$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr)"
"$reference_venv/bin/python" "$here/report.py" "$results" "$out/ratios.png" "$machine" | tee "$out/results.md"
echo "chart: $out/ratios.png" >&2
