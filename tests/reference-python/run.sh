#!/usr/bin/env bash
# The reference Python SDK (ezthrottle==1.1.0 from PyPI), unchanged, against a
# sandbox this script starts: its README flows must work.
#
#   bash tests/reference-python/run.sh
#
# The virtualenv is kept in target/reference-python-venv and reused.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

venv="$root/target/reference-python-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import importlib.metadata as m; assert m.version("ezthrottle") == "1.1.0"' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "ezthrottle==1.1.0"
fi

cargo build --quiet --locked -p ezthrottle-sandbox
log="$(mktemp)"
key="ck_reference_cust_py_0001"
"$root/target/debug/ezthrottle-sandbox" serve --addr 127.0.0.1:0 --api-key "$key:cust_py" >"$log" 2>&1 &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    grep -q '^EZTHROTTLE_SANDBOX_URL=' "$log" && break
    sleep 0.1
done
url="$(sed -n 's/^EZTHROTTLE_SANDBOX_URL=//p' "$log")"
[ -n "$url" ] || { echo "the sandbox did not start:"; cat "$log"; exit 1; }

EZT_URL="$url" EZT_KEY="$key" "$venv/bin/python" "$root/tests/reference-python/flows.py"
