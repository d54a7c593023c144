# Sourced by tests/bench/run.sh: installs libezthrottle (release) into
# target/bench/c-prefix, builds the C client and defines bench_c.
c_prefix="$root/target/bench/c-prefix"
make -s -C "$root/bindings-c" install PREFIX="$c_prefix" >/dev/null
gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$root/examples/c" -I"$root/tests/c" \
    "$here/c/bench.c" "$root/examples/c/curl_transport.c" "$root/tests/c/json.c" \
    $(PKG_CONFIG_PATH="$c_prefix/lib/pkgconfig" pkg-config --cflags --libs ezthrottle libcurl libcjson) \
    -o "$root/target/bench/c-bench"
bench_c() { LD_LIBRARY_PATH="$c_prefix/lib" "$root/target/bench/c-bench" "$1"; }
