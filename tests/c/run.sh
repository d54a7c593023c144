#!/usr/bin/env bash
# The C suite: regenerate ezthrottle.h and fail if the checked-in one differs;
# `make install` into a temporary prefix; build every test with
# `gcc -std=c11 -Wall -Wextra -Werror` through pkg-config; run the conformance
# vectors (and random ones made by the reference SDK), the misuse suite, the
# end-to-end scenarios and the wait for a result through a receiver behind a
# real HTTP server (against a sandbox started here, over libcurl) under
# valgrind; build and run the quickstart.
#
#   bash tests/c/run.sh          (EZTHROTTLE_VECTORS names another vectors folder)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

CBINDGEN_VERSION=0.29.4
need_apt=()
command -v gcc >/dev/null || need_apt+=(gcc)
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
[ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] || need_apt+=(libcurl4-openssl-dev)
[ -f /usr/include/cjson/cJSON.h ] || need_apt+=(libcjson-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ "$(cbindgen --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]; then
    cargo install --quiet cbindgen --version "$CBINDGEN_VERSION"
fi

echo "-- ezthrottle.h is current"
fresh="$(mktemp)"
(cd bindings-c && cbindgen --quiet --config cbindgen.toml --output "$fresh")
if ! diff -u bindings-c/include/ezthrottle.h "$fresh"; then
    echo "bindings-c/include/ezthrottle.h is stale: run 'make -C bindings-c header' and commit it"
    exit 1
fi
rm -f "$fresh"

echo "-- make install + pkg-config"
prefix="$root/target/c-prefix"
build="$root/target/c-tests"
rm -rf "$prefix" "$build"
mkdir -p "$build"
make -s -C bindings-c install PREFIX="$prefix" PROFILE=dev >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg-config --exists --print-errors ezthrottle
cc=(gcc -std=c11 -Wall -Wextra -Werror -g)
"${cc[@]}" tests/c/conformance.c tests/c/check.c tests/c/json.c $(pkg-config --cflags --libs ezthrottle libcjson) -o "$build/conformance"
"${cc[@]}" tests/c/misuse.c tests/c/check.c $(pkg-config --cflags --libs ezthrottle) -pthread -o "$build/misuse"
"${cc[@]}" tests/c/e2e.c tests/c/check.c tests/c/json.c tests/c/fetch.c examples/c/curl_transport.c \
    $(pkg-config --cflags --libs ezthrottle libcurl libcjson) -pthread -o "$build/e2e"
"${cc[@]}" tests/c/wait.c tests/c/check.c tests/c/fetch.c examples/c/curl_transport.c \
    $(pkg-config --cflags --libs ezthrottle libcurl libcjson) -pthread -o "$build/wait"
"${cc[@]}" examples/c/quickstart.c examples/c/curl_transport.c $(pkg-config --cflags --libs ezthrottle libcurl) -o "$build/quickstart"
# The README's C compiles: its statements inside a function whose parameters
# are what the example leaves to the app, its includes above.
readme_c="$build/readme.c"
readme_block() { awk '/^```c$/ { inside = 1; next } inside && /^```$/ { exit } inside' README.md; }
{
    printf '#include <stdio.h>\n#include <string.h>\n'
    readme_block | grep '^#include'
    printf 'static void answer(uint16_t status, const char *body) { (void)status; (void)body; }\n'
    printf 'void readme(const char *primary_secret, const char *secondary_secret_or_null, const uint8_t *body,\n'
    printf '            size_t body_length, const char *signature_header, const char *job_id) {\n'
    readme_block | grep -v '^#include'
    printf '}\n'
} >"$readme_c"
[ "$(wc -l <"$readme_c")" -gt 20 ] || { echo "the README's C block was not found" >&2; exit 1; }
"${cc[@]}" -fsyntax-only -Iexamples/c $(pkg-config --cflags ezthrottle) "$readme_c"
# The static library links too.
"${cc[@]}" tests/c/misuse.c tests/c/check.c -I"$prefix/include" "$prefix/lib/libezthrottle.a" -pthread -ldl -lm -o "$build/misuse-static"

export LD_LIBRARY_PATH="$prefix/lib"
grind=(valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=1)

echo "-- conformance vectors (valgrind)"
"${grind[@]}" "$build/conformance" "${EZTHROTTLE_VECTORS:-$root/conformance}"
echo "-- random vectors made by the reference SDK (valgrind)"
random_vectors="$(bash "$root/tests/reference-python/random-vectors.sh" | tail -1)"
# Failures and the count only: thousands of "ok" lines say nothing.
EZTHROTTLE_VECTORS="$random_vectors" "${grind[@]}" "$build/conformance" | grep -v '^ok '
echo "-- misuse (valgrind)"
"${grind[@]}" "$build/misuse"
echo "-- misuse, statically linked"
"$build/misuse-static" >/dev/null && echo "ok"

echo "-- end to end against a sandbox (valgrind)"
SANDBOX_KEY="ck_c_suite_cust_0001"
source "$root/tests/sandbox.sh"
key="$SANDBOX_KEY"
url="$SANDBOX_URL"
EZT_SANDBOX_URL="$url" EZT_API_KEY="$key" "${grind[@]}" "$build/e2e"
echo "-- waiting for a result: the receiver behind a real HTTP server, follow-ups, replays (valgrind)"
EZT_SANDBOX_URL="$url" EZT_API_KEY="$key" "${grind[@]}" "$build/wait"

echo "-- quickstart"
EZTHROTTLE_API_KEY="$key" "$build/quickstart" "$url" >"$build/quickstart.out"
head -3 "$build/quickstart.out"
