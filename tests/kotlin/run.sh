#!/usr/bin/env bash
# The uniffi suites: generates the bindings, checks the Swift package is
# current and laid out, compiles the README's Kotlin, runs the Kotlin suite on
# the JVM (conformance, error mapping, end to end with both transports against
# a sandbox) and the Python
# conformance suite through the generated Python module (each also over random
# vectors made by the reference SDK), and reports the
# library's size with and without the built-in transport.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=tools.sh
source "$here/tools.sh"

echo "== generate Kotlin, Swift and Python; the Swift package is current and laid out"
bindings="$(bash "$root/bindings-uniffi/generate.sh" --check | tail -1)"
swift="$root/bindings-uniffi/swift"
for path in Sources/EZThrottle/EZThrottle.swift Sources/EZThrottle/Cancellation.swift \
    Headers/EZThrottleFFI/EZThrottleFFI.h Headers/EZThrottleFFI/module.modulemap; do
  [ -f "$swift/$path" ] || { echo "missing $swift/$path" >&2; exit 1; }
done
grep -q 'path: "Sources/EZThrottle"' "$swift/Package.swift"
grep -q 'binaryTarget(name: "EZThrottleFFI", path: "EZThrottleFFI.xcframework")' "$swift/Package.swift"
grep -q -- '-headers swift/Headers' "$root/bindings-uniffi/build-xcframework.sh"
grep -q '^// swift-tools-version:5.10' "$swift/Package.swift"
# generate.sh takes a macOS build too: the same library named .dylib gives
# the same Swift (uniffi-bindgen reads the file, not its name).
dylib="$(mktemp -d)"
cp "$root/target/uniffi/debug/libezthrottle.so" "$dylib/libezthrottle.dylib"
EZTHROTTLE_LIBRARY="$dylib/libezthrottle.dylib" bash "$root/bindings-uniffi/generate.sh" --check >/dev/null
rm -rf "$dylib"

echo "== Kotlin on the JVM ($(java -version 2>&1 | head -1)), the README's Kotlin compiled with it"
# The README's Kotlin blocks are compiled with the suite, never run: they name
# the app's pieces (OkHttp, a trace id), which readme/ stubs.
readme="$root/target/kotlin/readme"
rm -rf "$readme" && mkdir -p "$readme"
awk -v dir="$readme" '
  /^```kotlin$/ { n++; file = dir "/Readme" n ".kt"; print "package readme" > file; inside = 1; next }
  inside && /^```$/ { inside = 0; close(file); next }
  inside { print > file }
' "$root/bindings-uniffi/README.md"
[ -f "$readme/Readme2.kt" ] || { echo "the README's two Kotlin blocks were not found" >&2; exit 1; }
jar="$root/target/kotlin/suite.jar"
"$kotlinc" -nowarn -include-runtime -cp "$kotlin_classpath" \
  "$bindings/kotlin/dev/ezthrottle/ezthrottle.kt" "$here"/*.kt "$here"/readme/*.kt "$readme"/*.kt -d "$jar"
export SANDBOX_KEY=ck_kotlin_suite_0001
# shellcheck source=../sandbox.sh
source "$root/tests/sandbox.sh"
random_vectors="$(bash "$root/tests/reference-python/random-vectors.sh" | tail -1)"
EZT_RANDOM_VECTORS="$random_vectors" \
  java -Djna.library.path="$root/target/uniffi/debug" -cp "$jar:$kotlin_classpath" suite.MainKt "$root"

echo "== Java calling the same bindings (javac $(javac -version 2>&1 | cut -d' ' -f2))"
java_classes="$root/target/kotlin/java"
rm -rf "$java_classes" && mkdir -p "$java_classes"
javac -Werror -d "$java_classes" -cp "$jar:$kotlin_classpath" "$root/tests/java/JavaInterop.java"
java -Djna.library.path="$root/target/uniffi/debug" -cp "$java_classes:$jar:$kotlin_classpath" JavaInterop

echo "== Python through the generated bindings: the conformance vectors"
cp "$root/target/uniffi/debug/libezthrottle.so" "$bindings/python/"
PYTHONPATH="$bindings/python" python3 "$root/tests/python-uniffi/conformance.py" "$root"
echo "== Python through the generated bindings: random vectors made by the reference SDK"
EZTHROTTLE_VECTORS="$random_vectors" PYTHONPATH="$bindings/python" python3 "$root/tests/python-uniffi/conformance.py" "$root"

echo "== Android ABIs (only with an NDK; without one the script must refuse plainly)"
if [ -n "${ANDROID_NDK_HOME:-}${ANDROID_NDK_ROOT:-}" ]; then
  bash "$root/bindings-uniffi/build-android.sh"
else
  rc=0; bash "$root/bindings-uniffi/build-android.sh" 2>/dev/null || rc=$?
  [ "$rc" = 2 ] || { echo "build-android.sh without an NDK exited $rc, not 2" >&2; exit 1; }
  echo "no NDK here: build-android.sh refused, as it should"
fi

echo "== library size (release, symbols stripped)"
cd "$root/bindings-uniffi"
cargo build --quiet --locked --release
with=$(stat -c %s "$root/target/uniffi/release/libezthrottle.so")
cargo build --quiet --locked --release --no-default-features --target-dir "$root/target/uniffi/bare"
without=$(stat -c %s "$root/target/uniffi/bare/release/libezthrottle.so")
gz() { gzip -9 -c "$1" | wc -c; }
echo "libezthrottle.so: $with bytes with the built-in transport (ureq + rustls), $without without ($(( (with - without) / 1024 )) KiB for it)"
echo "gzipped: $(gz "$root/target/uniffi/release/libezthrottle.so") and $(gz "$root/target/uniffi/bare/release/libezthrottle.so") bytes"
# One set of generated bindings serves both builds (Android's has no built-in
# transport): they must export the same functions, or the bindings fail to load.
exports() { nm -D --defined-only "$1" | awk '$3 ~ /^(uniffi|ffi)_ezthrottle_/ {print $3}' | sort; }
bare_exports="$(exports "$root/target/uniffi/bare/release/libezthrottle.so")"
if ! diff <(exports "$root/target/uniffi/release/libezthrottle.so") <(echo "$bare_exports") >&2; then
  echo "a build without the built-in transport exports other functions (above)" >&2
  exit 1
fi
echo "both builds export the same $(echo "$bare_exports" | wc -l) functions"
# The stripped library still loads and answers (the bindings were generated from the debug build).
java -Djna.library.path="$root/target/uniffi/release" -cp "$java_classes:$jar:$kotlin_classpath" JavaInterop
