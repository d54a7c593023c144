# Source this for the reference SDK: sets $reference_venv, a virtualenv with
# ezthrottle==1.1.0 from PyPI, unchanged (created once in
# target/reference-python-venv, then reused), and $reference_verifier, the
# webhook_utils.py of ezthrottle 1.3.0 (1.1.0 has no signature verifier),
# which the random signature vectors load on its own.
reference_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target"
reference_venv="$reference_root/reference-python-venv"
if [ ! -x "$reference_venv/bin/python" ] || ! "$reference_venv/bin/python" -c 'import importlib.metadata as m; assert m.version("ezthrottle") == "1.1.0"' 2>/dev/null; then
    rm -rf "$reference_venv"
    python3 -m venv "$reference_venv"
    "$reference_venv/bin/pip" install --quiet --disable-pip-version-check "ezthrottle==1.1.0"
fi
reference_verifier="$reference_root/reference-python-1.3.0/ezthrottle/webhook_utils.py"
if [ ! -f "$reference_verifier" ]; then
    # Unpacked beside, then renamed: suites started side by side each see a whole one.
    unpacked="$(mktemp -d "$reference_root/reference-python-1.3.0.XXXXXX")"
    "$reference_venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
        --dest "$unpacked" "ezthrottle==1.3.0"
    "$reference_venv/bin/python" -m zipfile -e "$unpacked"/ezthrottle-1.3.0-*.whl "$unpacked"
    mv -T "$unpacked" "$reference_root/reference-python-1.3.0" 2>/dev/null || rm -rf "$unpacked"
fi
