#!/usr/bin/env bash
# Build swift/EZThrottleFFI.xcframework for iOS (device and simulator) and
# macOS. Runs on a Mac with Xcode and rustup; it cannot run on Linux (there
# is no Swift toolchain or Apple SDK there), so the test command only checks
# that the Swift sources are current and the package references them.
#
#   bash bindings-uniffi/build-xcframework.sh
#   swift build --package-path bindings-uniffi/swift
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/../target/uniffi"
cd "$here"
[ "$(uname)" = Darwin ] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
for t in "${targets[@]}"; do
  rustup target add "$t"
  cargo build --locked --release --target "$t"
done
bash generate.sh
lib() { echo "$target/$1/release/libezthrottle.a"; }
mkdir -p "$target/fat"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$target/fat/libezthrottle-ios-sim.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$target/fat/libezthrottle-macos.a"
rm -rf swift/EZThrottleFFI.xcframework
xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers swift/Headers \
  -library "$target/fat/libezthrottle-ios-sim.a" -headers swift/Headers \
  -library "$target/fat/libezthrottle-macos.a" -headers swift/Headers \
  -output swift/EZThrottleFFI.xcframework
echo "built swift/EZThrottleFFI.xcframework; now: swift build --package-path bindings-uniffi/swift"
