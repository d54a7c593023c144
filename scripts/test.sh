#!/usr/bin/env bash
# Every test of the project, on a fresh machine: installs what it needs
# (idempotently), then runs format and lint checks, the test suites (the
# conformance vectors included), and the wasm32 build of the core.
#
#   bash scripts/test.sh
#
# EZTHROTTLE_VECTORS names another vectors folder (default ../shared/conformance).
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n== %s\n' "$*"; }

section "toolchain"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
cargo --version

section "format"
cargo fmt --all -- --check

section "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

section "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

section "tests (unit, behaviour, properties, conformance vectors, doc examples)"
cargo test --workspace --locked

section "ezthrottle-core for wasm32-unknown-unknown"
cargo build -p ezthrottle-core --target wasm32-unknown-unknown --release --locked

section "benchmarks compile"
cargo bench --workspace --locked --no-run --quiet

section "all tests passed"
