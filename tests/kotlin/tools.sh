# Source this for the JVM tools (idempotent): kotlinc 2.4.20 from npm into
# target/kotlin, JNA and a JDK from apt. Sets $kotlinc and $kotlin_classpath.
kotlin_tools="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/kotlin"
if [ ! -x "$kotlin_tools/package/bin/kotlinc-jvm" ]; then
  mkdir -p "$kotlin_tools"
  (cd "$kotlin_tools" && npm pack --silent kotlin-compiler@2.4.20 >/dev/null && tar xzf kotlin-compiler-2.4.20.tgz)
fi
[ -f /usr/share/java/jna.jar ] || apt-get install -y -q libjna-java >/dev/null
command -v java >/dev/null || apt-get install -y -q default-jdk-headless >/dev/null
kotlinc="$kotlin_tools/package/bin/kotlinc-jvm"
kotlin_classpath="/usr/share/java/jna.jar:$kotlin_tools/package/lib/kotlinx-coroutines-core-jvm.jar"
