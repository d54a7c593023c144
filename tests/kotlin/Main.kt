// The Kotlin suite: conformance vectors ($EZTHROTTLE_VECTORS, and the random
// ones in $EZT_RANDOM_VECTORS when set), error mapping, and the end-to-end
// scenarios with the built-in Rust transport, a Kotlin HttpTransport over
// java.net.http, and a Kotlin BlockingHttpTransport over its blocking send.
package suite

import java.io.File
import kotlinx.coroutines.runBlocking
import kotlin.system.exitProcess

fun main(args: Array<String>) {
    val root = File(args.firstOrNull() ?: ".").absoluteFile
    val code = runBlocking {
        conformance(System.getenv("EZTHROTTLE_VECTORS")?.let { File(it).takeIf(File::isAbsolute) ?: File(root, it) }
            ?: File(root, "conformance"))
        // Random vectors made by the reference SDK (tests/reference-python/random-vectors.sh).
        System.getenv("EZT_RANDOM_VECTORS")?.let { conformance(File(it)) }
        errors()
        val base = System.getenv("SANDBOX_URL")
        val key = System.getenv("SANDBOX_KEY")
        if (base == null || key == null) {
            Check.failures.add("SANDBOX_URL and SANDBOX_KEY must be set for the end-to-end scenarios")
        } else {
            EndToEnd(base, key, "builtin", null).apply { runAll(); waitForResult(); cancellation() }
            EndToEnd(base, key, "java.net.http", JavaHttpTransport()).runAll()
            EndToEnd(base, key, "java.net.http-blocking", null, JavaBlockingHttpTransport()).runAll()
            builtinHttp(base, key)
        }
        Check.finish()
    }
    exitProcess(code)
}
