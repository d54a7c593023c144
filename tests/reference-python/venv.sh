# Source this for the reference SDK's virtualenv (ezthrottle==1.1.0 from PyPI,
# unchanged): creates target/reference-python-venv once and reuses it; sets
# $reference_venv.
reference_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/reference-python-venv"
if [ ! -x "$reference_venv/bin/python" ] || ! "$reference_venv/bin/python" -c 'import importlib.metadata as m; assert m.version("ezthrottle") == "1.1.0"' 2>/dev/null; then
    rm -rf "$reference_venv"
    python3 -m venv "$reference_venv"
    "$reference_venv/bin/pip" install --quiet --disable-pip-version-check "ezthrottle==1.1.0"
fi
