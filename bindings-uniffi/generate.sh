#!/usr/bin/env bash
# Generate the Kotlin, Swift and Python bindings from the built library with
# the in-workspace uniffi-bindgen (nothing to install):
#   target/uniffi/bindings/{kotlin,python}/   build outputs for the suites
#   bindings-uniffi/swift/Sources/EZThrottle/ the SwiftPM package's Swift source
#   bindings-uniffi/swift/Headers/            the C header and module map that
#                                             build-xcframework.sh packs
#   (both checked in; --check fails if they are stale)
# The library is target/uniffi/<profile>/libezthrottle.so (PROFILE=debug|release).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
profile="${PROFILE:-debug}"
out="$root/target/uniffi/bindings"
cd "$here"

flags=(--locked)
[ "$profile" = release ] && flags+=(--release)
cargo build --quiet "${flags[@]}"
cargo build --quiet --locked --features bindgen --bin uniffi-bindgen
bindgen="$root/target/uniffi/debug/uniffi-bindgen"
library="$root/target/uniffi/$profile/libezthrottle.so"

rm -rf "$out"
for language in kotlin python swift; do
  "$bindgen" generate --no-format --library "$library" --language "$language" \
    --out-dir "$out/$language" >/dev/null
done

python3 "$here/patch-kotlin.py" "$out/kotlin/dev/ezthrottle/ezthrottle.kt"

generated="$(mktemp -d)"
mkdir -p "$generated/Sources/EZThrottle" "$generated/Headers"
cp "$out/swift/EZThrottle.swift" "$generated/Sources/EZThrottle/"
cp "$out/swift/EZThrottleFFI.h" "$generated/Headers/"
# Clang finds a framework's module by its module.modulemap.
cp "$out/swift/EZThrottleFFI.modulemap" "$generated/Headers/module.modulemap"
for part in Sources Headers; do
  if [ "${1:-}" = "--check" ]; then
    if ! diff -r "$generated/$part" "$here/swift/$part" >/dev/null 2>&1; then
      diff -r "$generated/$part" "$here/swift/$part" 2>&1 | head -20 >&2
      echo "bindings-uniffi/swift/$part is stale: run bash bindings-uniffi/generate.sh" >&2
      exit 1
    fi
  else
    rm -rf "${here:?}/swift/$part"
    cp -r "$generated/$part" "$here/swift/$part"
  fi
done
rm -rf "$generated"
echo "$out"
