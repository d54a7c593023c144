# Sourced by tests/bench/run.sh: builds the uniffi library (release) and its
# Kotlin bindings, compiles the Kotlin client with the suite's helpers
# (tests/kotlin: build from calls, JSON, the java.net.http transport) and
# defines bench_kotlin.
# shellcheck source=../../kotlin/tools.sh
source "$root/tests/kotlin/tools.sh"
kotlin_bindings="$(PROFILE=release bash "$root/bindings-uniffi/generate.sh" | tail -1)"
"$kotlinc" -nowarn -include-runtime -cp "$kotlin_classpath" \
  "$kotlin_bindings/kotlin/dev/ezthrottle/ezthrottle.kt" "$root"/tests/kotlin/*.kt "$here/kotlin/Bench.kt" \
  -d "$root/target/bench/kotlin-bench.jar"
bench_kotlin() {
  java -Djna.library.path="$root/target/uniffi/release" -cp "$root/target/bench/kotlin-bench.jar:$kotlin_classpath" \
    bench.BenchKt "$1"
}
