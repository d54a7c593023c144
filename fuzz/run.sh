#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 20) with cargo-fuzz on
# nightly, seeded from fuzz/corpus/<target> (read only: new inputs go to
# target/fuzz/corpus/<target>). Prints executions per target; fails on the
# first crash, leaving the input in target/fuzz/artifacts/<target>/.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]
# Minimize a seed corpus after a long run:
#   cd fuzz && cargo +"$(cat ../scripts/nightly-toolchain)" fuzz cmin <target> corpus/<target>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$here/../target/fuzz"
seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(signature webhook_delivery gateway_answer step_calls c_json_setters json)

# The same dated nightly as the npm package's build.
nightly="${EZTHROTTLE_NIGHTLY:-$(cat "$here/../scripts/nightly-toolchain")}"
rustup run "$nightly" rustc --version >/dev/null 2>&1 || rustup toolchain install "$nightly" --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2
cd "$here"
for target in "${targets[@]}"; do
  mkdir -p "$work/corpus/$target" "$work/artifacts/$target"
  log="$work/$target.log"
  if ! cargo "+$nightly" fuzz run --target-dir "$work/build" "$target" \
      "$work/corpus/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/$target/" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz target $target crashed: see $work/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "fuzz $target: ${runs:-?} executions in ${seconds} s, no crash"
done
