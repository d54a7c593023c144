#!/usr/bin/env bash
# Every test of the project, on a fresh machine: installs what it needs
# (idempotently), then runs format and lint checks, the test suites (the
# conformance vectors, the sandbox's behaviour and kill -9 tests included), the
# demo, the reference Python SDK against the sandbox and random vectors made
# by it replayed through every binding, the C library and the
# npm package in every runtime it serves, the uniffi bindings (Kotlin on the
# JVM, Python, the Swift package's layout), the fault soak, fuzzing, and a
# small run of the side-by-side benchmark.
#
#   bash scripts/test.sh           everything (about 30 min on a fresh 2-core machine)
#   bash scripts/test.sh --quick   the inner loop: the vectors' copy, format, lint, docs
#                                  and `cargo test` of the main workspace; no
#                                  installs, no other runtimes
#
# EZTHROTTLE_VECTORS names another vectors folder (default conformance/).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
case "${1:-}" in
    --quick) quick=true ;;
    "") ;;
    *) echo "usage: bash scripts/test.sh [--quick]" >&2; exit 2 ;;
esac

section() { printf '\n== %s\n' "$*"; }

section "conformance vectors: the in-repo copy matches ../shared/conformance (when present)"
bash scripts/sync-vectors.sh --check

if $quick; then
    section "format"
    cargo fmt --all -- --check
    cargo fmt --manifest-path bindings-uniffi/Cargo.toml -- --check
    section "lint (main workspace, native target; the uniffi crate, its own workspace)"
    cargo clippy --workspace --all-targets --locked -- -D warnings
    (cd bindings-uniffi && cargo clippy --all-targets --features bindgen --locked -- -D warnings)
    section "docs (main workspace)"
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
    section "tests (unit, behaviour, properties, conformance vectors, doc examples)"
    cargo test --workspace --locked
    section "quick tier passed (the full command: bash scripts/test.sh)"
    exit 0
fi

section "toolchain"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
cargo --version
python3 -m venv --help >/dev/null  # the reference-SDK suite makes a virtualenv

section "format"
cargo fmt --all -- --check
# bindings-uniffi is its own workspace (its library shares the C one's name).
cargo fmt --manifest-path bindings-uniffi/Cargo.toml -- --check

section "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p ezthrottle-wasm --all-targets --target wasm32-unknown-unknown --locked -- -D warnings
(cd bindings-uniffi && cargo clippy --all-targets --features bindgen --locked -- -D warnings)

section "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
(cd bindings-uniffi && RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet)

section "tests (unit, behaviour, properties, conformance vectors, doc examples)"
cargo test --workspace --locked

section "fault soak: 3,000 jobs, random upstream faults and receiver failures, duplicate submits (sandbox peak RSS)"
cargo test --locked -p ezthrottle-sandbox --test soak -- --ignored --nocapture

section "the demo: eight scenarios through ezthrottle-core against an in-process sandbox"
cargo run --quiet --locked -p ezthrottle-sandbox -- demo

section "the reference Python SDK (ezthrottle==1.1.0) against the sandbox"
bash tests/reference-python/run.sh

section "random vectors from the reference SDK (steps built, FRUGAL steps run, signatures checked, requests forwarded, gateway answers read) and random refusals: the same jobs, decisions, verdicts, errors and field paths from the core (each binding's suite replays them too)"
random_vectors="$(bash tests/reference-python/random-vectors.sh | tail -1)"
EZTHROTTLE_VECTORS="$random_vectors" cargo test --quiet --locked -p ezthrottle-core --test conformance

section "the C library: header, install, conformance, misuse, end to end, all under valgrind"
bash tests/c/run.sh

section "the npm package: size, types, vectors, end to end, wasm-bindgen tests (Node, Chromium), workerd"
bash tests/js/run.sh

section "uniffi: Swift package current, the README's Kotlin compiled, Kotlin on the JVM (vectors, errors, end to end x3 transports), Python vectors"
bash tests/kotlin/run.sh

section "fuzzing: every parser for 20 s (signatures, deliveries, gateway answers, step calls, the C JSON setters, JSON against serde_json)"
bash fuzz/run.sh 20

section "benchmarks compile"
cargo bench --workspace --locked --no-run --quiet

section "the side-by-side benchmark runs end to end (small counts; its figures are not checked)"
BENCH_SUBMITS=100 BENCH_FRUGAL=100 BENCH_BUILDS=2000 bash tests/bench/run.sh

section "all tests passed"
