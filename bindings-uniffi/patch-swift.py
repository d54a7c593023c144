"""Post-process the generated Swift for the Swift 6 language mode.

uniffi 0.32.2 runs an app's async HttpTransport / Fallback inside a `Task`
whose closures are not `@Sendable`, which Swift 6 rejects
(#SendingClosureRisksDataRace, uniffi issue #2929). Upstream fixed it in
uniffi PR #2943 (not in a release yet) by marking those closures
`@Sendable`; this does the same to the generated text. Our foreign traits
pass no RustBuffer arguments, so the PR's `nonisolated(unsafe)` copies are
not needed here. `@Sendable` is valid in the Swift 5 mode too.

Each replaced text is asserted with its expected count, so a uniffi upgrade
that changes it fails here instead of silently losing the patch. There is no
Swift compiler on this repository's machine: the result is checked as text
here and compiled only on a Mac.

    python3 patch-swift.py path/to/EZThrottle.swift
"""
import re
import sys

# (pattern, replacement, how many times it must occur)
PATCHES = [
    # The helpers' closure parameters.
    (r"(\n    makeCall: )@escaping \(\) async throws -> T,", r"\1@Sendable @escaping () async throws -> T,", 2),
    (r"(\n    handleSuccess: )@escaping \(T\) -> \(\),", r"\1@Sendable @escaping (T) -> (),", 2),
    (r"(\n    handleError: )@escaping \(Int8, RustBuffer\) -> \(\),", r"\1@Sendable @escaping (Int8, RustBuffer) -> (),", 2),
    (r"(\n    lowerError: )@escaping \(E\) -> RustBuffer,", r"\1@Sendable @escaping (E) -> RustBuffer,", 1),
    # Each foreign trait method's closures (HttpTransport.send, Fallback.run).
    (r"(let makeCall = \{\n +)(\(\) async throws -> )", r"\1@Sendable \2", 2),
    (r"(let uniffiHandleSuccess = \{ )(\(returnValue: )", r"\1@Sendable \2", 2),
    (r"(let uniffiHandleError = \{ )(\(statusCode, errorBuf\) in)", r"\1@Sendable \2", 2),
]


def main():
    path = sys.argv[1]
    with open(path) as f:
        text = f.read()
    for pattern, replacement, expected in PATCHES:
        text, count = re.subn(pattern, replacement, text)
        if count != expected:
            sys.exit(f"{path}: {pattern!r} matched {count} times, expected {expected}; update patch-swift.py")
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
