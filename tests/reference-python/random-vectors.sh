#!/usr/bin/env bash
# Random vectors (random_vectors.py) into target/random-vectors: payloads.json,
# frugal.json, signatures.json, forward.json and gateway.json made by the
# reference SDK, invalid.json by this project.
# Prints that folder's path last, for a conformance runner's
# EZTHROTTLE_VECTORS. The same seed writes the same vectors: EZT_RANDOM_SEED
# and EZT_RANDOM_COUNT choose others.
#
#   dir="$(bash tests/reference-python/random-vectors.sh | tail -1)"
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=venv.sh
source "$root/tests/reference-python/venv.sh"
out="$root/target/random-vectors"
"$reference_venv/bin/python" "$root/tests/reference-python/random_vectors.py" \
  "${EZT_RANDOM_SEED:-20261207}" "${EZT_RANDOM_COUNT:-500}" "$out" "$reference_verifier" >&2
echo "$out"
