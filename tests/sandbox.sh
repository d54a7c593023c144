# Source this to start a sandbox for a suite: builds it, starts
# `ezthrottle-sandbox serve` on a free loopback port with the key in
# $SANDBOX_KEY, sets $SANDBOX_URL, and stops it when the shell exits.
#
#   SANDBOX_KEY=ck_my_suite_0001 source tests/sandbox.sh
#
# SANDBOX_ARGS adds `serve` options; SANDBOX_PROFILE=release builds an
# optimised sandbox (for benchmarks) instead of the debug one.
: "${SANDBOX_KEY:?set SANDBOX_KEY before sourcing tests/sandbox.sh}"
sandbox_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sandbox_profile="${SANDBOX_PROFILE:-dev}"
cargo build --quiet --locked --manifest-path "$sandbox_root/Cargo.toml" -p ezthrottle-sandbox --profile "$sandbox_profile"
[ "$sandbox_profile" = dev ] && sandbox_profile=debug
sandbox_log="$(mktemp)"
"$sandbox_root/target/$sandbox_profile/ezthrottle-sandbox" serve --addr 127.0.0.1:0 --testkit --strict \
    --api-key "$SANDBOX_KEY:cust_suite" ${SANDBOX_ARGS:-} >"$sandbox_log" 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; rm -f "$sandbox_log"' EXIT
for _ in $(seq 1 100); do
    grep -q '^EZTHROTTLE_SANDBOX_URL=' "$sandbox_log" && break
    sleep 0.1
done
SANDBOX_URL="$(sed -n 's/^EZTHROTTLE_SANDBOX_URL=//p' "$sandbox_log")"
if [ -z "$SANDBOX_URL" ]; then
    echo "the sandbox did not start:" >&2
    cat "$sandbox_log" >&2
    exit 1
fi
export SANDBOX_URL
