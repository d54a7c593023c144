#!/usr/bin/env bash
# Build libezthrottle.so for the Android ABIs an app ships, into
# target/uniffi/jniLibs/<abi>/ (copy that folder to app/src/main/jniLibs/):
#   arm64-v8a, armeabi-v7a, x86_64
# without the built-in transport (an app hands in OkHttp; see README.md), and
# linked for 16 KB pages, which Android 15 devices may use and Google Play
# requires of new apps.
#
#   ANDROID_NDK_HOME=/path/to/ndk bash bindings-uniffi/build-android.sh [API_LEVEL]
#
# Needs the Android NDK (r26 or later), which this repository's machine does
# not have: the test command only checks that this script refuses to run
# without it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
api="${1:-24}"
ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
if [ -z "$ndk" ] || [ ! -d "$ndk/toolchains/llvm/prebuilt" ]; then
  echo "build-android.sh needs the Android NDK: set ANDROID_NDK_HOME" >&2
  exit 2
fi
host="$(ls "$ndk/toolchains/llvm/prebuilt" | head -1)"
bin="$ndk/toolchains/llvm/prebuilt/$host/bin"
out="$here/../target/uniffi/jniLibs"
cd "$here"

# ABI, Rust target, clang prefix.
abis=(
  "arm64-v8a aarch64-linux-android aarch64-linux-android"
  "armeabi-v7a armv7-linux-androideabi armv7a-linux-androideabi"
  "x86_64 x86_64-linux-android x86_64-linux-android"
)
for entry in "${abis[@]}"; do
  read -r abi target clang <<<"$entry"
  rustup target add "$target"
  upper="$(echo "$target" | tr 'a-z-' 'A-Z_')"
  export "CARGO_TARGET_${upper}_LINKER=$bin/$clang$api-clang"
  export "CC_${target//-/_}=$bin/$clang$api-clang"
  export "AR_${target//-/_}=$bin/llvm-ar"
  RUSTFLAGS="-C link-arg=-Wl,-z,max-page-size=16384" \
    cargo build --locked --release --no-default-features --target "$target"
  mkdir -p "$out/$abi"
  cp "../target/uniffi/$target/release/libezthrottle.so" "$out/$abi/"
done
echo "built $out/{arm64-v8a,armeabi-v7a,x86_64}/libezthrottle.so"
