#!/usr/bin/env bash
# Generate the Kotlin, Swift and Python bindings from the built library with
# the in-workspace uniffi-bindgen (nothing to install):
#   target/uniffi/bindings/{kotlin,python}/   build outputs for the suites
#   bindings-uniffi/swift/Sources/EZThrottle/EZThrottle.swift
#                                             the SwiftPM package's generated source
#                                             (the other files there are hand-written)
#   bindings-uniffi/swift/Headers/EZThrottleFFI/
#                                             the C header and module map that
#                                             build-xcframework.sh packs (in a
#                                             folder of their own, so two uniffi
#                                             XCFrameworks in one app do not collide)
#   (both checked in; --check fails if they are stale)
# The library read is target/uniffi/debug/libezthrottle.so, or .dylib on
# macOS (PROFILE=release also builds the release library);
# EZTHROTTLE_LIBRARY names another build of it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
profile="${PROFILE:-debug}"
out="$root/target/uniffi/bindings"
cd "$here"

# The bindings are read from the debug build: the release build is stripped
# of symbols (strip = "symbols"), uniffi's metadata with them. Both builds
# export the same API, which the bindings check when they load.
cargo build --quiet --locked
[ "$profile" = release ] && cargo build --quiet --locked --release
cargo build --quiet --locked --features bindgen --bin uniffi-bindgen
bindgen="$root/target/uniffi/debug/uniffi-bindgen"
library="${EZTHROTTLE_LIBRARY:-}"
if [ -z "$library" ]; then
  for ext in so dylib; do
    candidate="$root/target/uniffi/debug/libezthrottle.$ext"
    [ -f "$candidate" ] && library="$candidate" && break
  done
fi
[ -f "$library" ] || { echo "no libezthrottle.so or .dylib in target/uniffi/debug" >&2; exit 1; }

rm -rf "$out"
for language in kotlin python swift; do
  "$bindgen" generate --no-format --library "$library" --language "$language" \
    --out-dir "$out/$language" >/dev/null
done

python3 "$here/patch-kotlin.py" "$out/kotlin/dev/ezthrottle/ezthrottle.kt"
python3 "$here/patch-python.py" "$out/python/ezthrottle.py"
python3 "$here/patch-swift.py" "$out/swift/EZThrottle.swift"

generated="$(mktemp -d)"
mkdir -p "$generated/Sources" "$generated/Headers/EZThrottleFFI"
cp "$out/swift/EZThrottle.swift" "$generated/Sources/"
cp "$out/swift/EZThrottleFFI.h" "$generated/Headers/EZThrottleFFI/"
# Clang finds a framework's module by its module.modulemap.
cp "$out/swift/EZThrottleFFI.modulemap" "$generated/Headers/EZThrottleFFI/module.modulemap"
sources="$here/swift/Sources/EZThrottle"
if [ "${1:-}" = "--check" ]; then
  if ! diff "$generated/Sources/EZThrottle.swift" "$sources/EZThrottle.swift" >/dev/null 2>&1 ||
     ! diff -r "$generated/Headers" "$here/swift/Headers" >/dev/null 2>&1; then
    diff "$generated/Sources/EZThrottle.swift" "$sources/EZThrottle.swift" 2>&1 | head -20 >&2
    diff -r "$generated/Headers" "$here/swift/Headers" 2>&1 | head -20 >&2
    echo "bindings-uniffi/swift is stale: run bash bindings-uniffi/generate.sh" >&2
    exit 1
  fi
else
  mkdir -p "$sources"
  cp "$generated/Sources/EZThrottle.swift" "$sources/"
  rm -rf "${here:?}/swift/Headers"
  cp -r "$generated/Headers" "$here/swift/Headers"
fi
rm -rf "$generated"
echo "$out"
