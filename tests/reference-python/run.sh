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

source "$root/tests/reference-python/venv.sh"

SANDBOX_KEY="ck_reference_cust_py_0001"
source "$root/tests/sandbox.sh"
url="$SANDBOX_URL"
key="$SANDBOX_KEY"

EZT_URL="$url" EZT_KEY="$key" "$reference_venv/bin/python" "$root/tests/reference-python/flows.py"
