"""Post-process the generated Python: a value of the wrong type names its field.

The SDK's own refusals name the field (`EzThrottleError.Validation`, `path`).
A value uniffi's converters refuse before it reaches Rust (a string for an
int, a float for a timeout) raised a bare `TypeError: 'str' object cannot be
interpreted as an integer`: which of five arguments, or which field of a
`ClientOptions`, the caller had to guess. The patched checks raise the same
exception type with the argument's name and, inside a record, the field's:
`TypeError: options.timeout_ms: 'float' object cannot be interpreted as an
integer`; the exception's `path` and `detail` hold the two parts.

The checks of an argument (`check_lower(quorum)`), of a record's field
(`check_lower(value.timeout_ms)`) and of a list's items and a dict's keys
and values are rewritten; the names compose as the SDK's paths do:
`options.fallback_on_error[1]`, `options.headers["X-A"]`,
`options.webhooks[0].url`. How many of each the generated text holds is
asserted, so a uniffi upgrade that changes the shape fails here instead of
silently losing the names.

    python3 patch-python.py path/to/ezthrottle.py
"""
import re
import sys

# `        _UniffiFfiConverterInt64.check_lower(quorum)` in a function, and
# `        _UniffiFfiConverterOptionalInt64.check_lower(value.timeout_ms)` in a
# record's converter. Collections' items (`value`, `item`) are named by
# ITEMS and ENTRIES instead.
CHECK = re.compile(r"^(\s+)(_UniffiFfiConverter\w+)\.check_lower\((value\.)?([a-z_][a-z0-9_]*)\)$", re.M)
NOT_A_NAME = {"value", "item", "key"}
ARGUMENTS, FIELDS = 97, 117
# A sequence's items, by index.
ITEMS = re.compile(r"^(\s+)for item in value:\n(\s+)(_UniffiFfiConverter\w+)\.check_lower\(item\)$", re.M)
# A map's keys and values, by key.
ENTRIES = re.compile(r"^(\s+)for \(key, value\) in items\.items\(\):\n(\s+)(_UniffiFfiConverter\w+)\.check_lower\(key\)\n"
                     r"\s+(_UniffiFfiConverter\w+)\.check_lower\(value\)$", re.M)
SEQUENCES, MAPS = 5, 1

HELPER = '''

import json as _uniffi_json


# Added by bindings-uniffi/patch-python.py: a value of the wrong type names
# its argument, the record field and the list index or dict key it sits in.
def _uniffi_check_named(converter, value, name):
    try:
        converter.check_lower(value)
    except (TypeError, ValueError) as error:
        raise _uniffi_named(error, name) from None


# An item of a list (`at` its index) or a dict (`at` its key, for the key
# itself and for its value): the name is written only when the check fails.
def _uniffi_check_item(converter, value, at):
    try:
        converter.check_lower(value)
    except (TypeError, ValueError) as error:
        quoted = _uniffi_json.dumps(at) if isinstance(at, str) else repr(at)
        raise _uniffi_named(error, f"[{quoted}]") from None


def _uniffi_named(error, name):
    inner = getattr(error, "path", None)
    detail = getattr(error, "detail", str(error))
    path = (name + inner if inner.startswith("[") else f"{name}.{inner}") if inner else name
    # The plain class: a subclass may not take a message alone.
    named = (TypeError if isinstance(error, TypeError) else ValueError)(f"{path}: {detail}")
    named.path, named.detail = path, detail
    return named
'''

# The helper goes after the module's imports, before the first converter.
ANCHOR = "\nclass _UniffiRustBuffer(ctypes.Structure):"


def main():
    path = sys.argv[1]
    with open(path) as f:
        text = f.read()
    counts = {"arguments": 0, "fields": 0}

    def named(match):
        indent, converter, field, name = match.groups()
        if not field and name in NOT_A_NAME:
            return match.group(0)
        counts["fields" if field else "arguments"] += 1
        value = f"value.{name}" if field else name
        return f'{indent}_uniffi_check_named({converter}, {value}, "{name}")'

    text = CHECK.sub(named, text)
    if counts != {"arguments": ARGUMENTS, "fields": FIELDS}:
        sys.exit(f"{path}: {counts} checks, expected {ARGUMENTS} and {FIELDS}; update patch-python.py")
    text, sequences = ITEMS.subn(
        lambda m: f'{m[1]}for index, item in enumerate(value):\n{m[2]}_uniffi_check_item({m[3]}, item, index)', text)
    # A key is named as itself (it is the wrong value); a value by its key.
    text, maps = ENTRIES.subn(
        lambda m: (f'{m[1]}for (key, value) in items.items():\n'
                   f'{m[2]}_uniffi_check_item({m[3]}, key, key)\n'
                   f'{m[2]}_uniffi_check_item({m[4]}, value, key)'), text)
    if (sequences, maps) != (SEQUENCES, MAPS):
        sys.exit(f"{path}: {sequences} sequences and {maps} maps, expected {SEQUENCES} and {MAPS}; update patch-python.py")
    if text.count(ANCHOR) != 1:
        sys.exit(f"{path}: no _UniffiRustBuffer class to put the helper before; update patch-python.py")
    text = text.replace(ANCHOR, HELPER + ANCHOR)
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
