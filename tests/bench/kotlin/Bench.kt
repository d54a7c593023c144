// The Kotlin client of the side-by-side benchmark: the uniffi library on the
// JVM, through the app-supplied java.net.http transport (suspending, and
// blocking) and through the library's built-in one. `bench.BenchKt RUN_JSON`
// prints JSON lines of figures.
package bench

import dev.ezthrottle.ClientOptions
import dev.ezthrottle.EzThrottle
import dev.ezthrottle.ExecuteResult
import dev.ezthrottle.Step
import java.io.File
import java.net.URI
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import kotlinx.coroutines.future.await
import kotlinx.coroutines.runBlocking
import suite.JavaBlockingHttpTransport
import suite.JavaHttpTransport
import suite.Json
import suite.build
import suite.options

@Suppress("UNCHECKED_CAST")
private fun obj(v: Any?) = v as Map<String, Any?>

private fun seconds(since: Long) = (System.nanoTime() - since) / 1e9

private fun percentileMs(sorted: DoubleArray, p: Double): Double =
    sorted[Math.ceil(sorted.size * p).toInt().coerceIn(1, sorted.size) - 1] * 1e3

/**
 * JIT warm-up first (unmeasured, own keys), then the measured submits. Each
 * step is built as an app would: one StepOptions template, a copy with the
 * submit's own key, one crossing into the library.
 */
private suspend fun submits(client: EzThrottle, run: Map<String, Any?>, tag: String, blocking: Boolean = false): Map<String, Any?> {
    val count = (run["submits"] as Long).toInt()
    val template = options(run["submit"])!!
    suspend fun submit(key: String) {
        // `use` frees the native step at once, as an app's hot loop should,
        // rather than leaving each to the JVM's Cleaner.
        Step.withOptions(template.copy(idempotentKey = key)).use { step ->
            val result = (if (blocking) client.executeBlocking(step) else client.execute(step)) as ExecuteResult.Submitted
            check(result.answer.status == "queued") { result.json }
        }
    }
    repeat(200) { submit("bench-${run["run_id"]}-$tag-warm-$it") }
    val latencies = DoubleArray(count)
    val started = System.nanoTime()
    for (i in 0 until count) {
        val t = System.nanoTime()
        submit("bench-${run["run_id"]}-$tag-$i")
        latencies[i] = seconds(t)
    }
    val total = seconds(started)
    latencies.sort()
    return mapOf("n" to count.toLong(), "seconds" to total, "per_sec" to count / total,
        "p50_ms" to percentileMs(latencies, 0.5), "p99_ms" to percentileMs(latencies, 0.99))
}

/**
 * The FRUGAL step's request, as java.net.http builds it: built for each
 * call, as an app making the call itself builds it (and as the transport
 * builds the SDK's; the C client sets up its plain request per call too).
 */
private fun plainRequest(request: Map<String, Any?>): HttpRequest {
    val builder = HttpRequest.newBuilder(URI.create(request["url"] as String))
        .timeout(Duration.ofSeconds(30))
        .method(request["method"] as String, HttpRequest.BodyPublishers.ofString(request["body"] as String))
    for ((name, value) in obj(request["headers"])) builder.header(name, value as String)
    return builder.build()
}

/**
 * A FRUGAL step whose local call succeeds (`step`) against the same request
 * made plainly through the same HTTP client (`plain`), alternating call by call.
 */
private suspend fun frugalOverhead(run: Map<String, Any?>, plain: suspend () -> Unit, step: suspend () -> Unit): Map<String, Any?> {
    val count = (run["frugal"] as Long).toInt()
    repeat(300) {
        plain()
        step()
    }
    var plainTime = 0.0
    var stepTime = 0.0
    repeat(count) {
        val t = System.nanoTime()
        plain()
        val u = System.nanoTime()
        step()
        plainTime += (u - t) / 1e9
        stepTime += seconds(u)
    }
    val plainMs = plainTime * 1e3 / count
    val stepMs = stepTime * 1e3 / count
    return mapOf("n" to count.toLong(), "step_ms" to stepMs, "plain_ms" to plainMs,
        "overhead_pct" to (stepMs - plainMs) / plainMs * 100)
}

private fun checkLocal(result: ExecuteResult) = check(result is ExecuteResult.Local && result.success) { result.toString() }

/** Twenty rounds of a twentieth each; the fastest counts (noise only adds). */
private fun builds(run: Map<String, Any?>): Map<String, Any?> {
    val count = (run["builds"] as Long).toInt()
    val rounds = 20
    val step = build(run["build"])
    var total = 0L
    repeat(5000) { total += step.payloadJson().length }
    var best = Double.MAX_VALUE
    repeat(rounds) {
        val started = System.nanoTime()
        repeat(count / rounds) { total += step.payloadJson().length }
        best = minOf(best, seconds(started) / (count / rounds))
    }
    check(total > 0)
    return mapOf("n" to count.toLong(), "per_sec" to 1 / best, "us" to best * 1e6)
}

fun main(args: Array<String>) = runBlocking {
    val run = obj(Json.parse(File(args[0]).readText()))
    val options = ClientOptions(apiKey = run["api_key"] as String, tracktagsUrl = run["sandbox"] as String)
    val transport = JavaHttpTransport()
    val blockingTransport = JavaBlockingHttpTransport()
    val viaJava = EzThrottle(options, transport)
    val viaJavaBlocking = EzThrottle.withBlockingTransport(options, blockingTransport)
    val builtin = EzThrottle(options, null)
    val jvm = "JVM ${System.getProperty("java.version")}"
    val built = builds(run)
    val frugalStep = build(run["frugal_calls"])
    val plain = obj(run["frugal_plain"])
    val asString = HttpResponse.BodyHandlers.ofString()
    println(Json.write(mapOf("client" to "Kotlin/$jvm (uniffi, java.net.http transport)",
        "submit" to submits(viaJava, run, "kotlin-java"),
        "frugal" to frugalOverhead(run,
            plain = { check(transport.client.sendAsync(plainRequest(plain), asString).await().statusCode() in 200..299) },
            step = { checkLocal(viaJava.execute(frugalStep)) }),
        "build" to built)))
    println(Json.write(mapOf("client" to "Kotlin/$jvm (uniffi, java.net.http blocking transport, blocking)",
        "submit" to submits(viaJavaBlocking, run, "kotlin-java-blocking", blocking = true),
        "frugal" to frugalOverhead(run,
            plain = { check(blockingTransport.client.send(plainRequest(plain), asString).statusCode() in 200..299) },
            step = { checkLocal(viaJavaBlocking.executeBlocking(frugalStep)) }),
        "build" to built)))
    println(Json.write(mapOf("client" to "Kotlin/$jvm (uniffi, built-in transport, suspend)",
        "submit" to submits(builtin, run, "kotlin-builtin"), "frugal" to null, "build" to built)))
    // The built-in transport's FRUGAL step has no plain request through its
    // own stack in Kotlin; it is timed against java.net.http's, the request
    // an app would otherwise make itself (report.py says so in the row).
    println(Json.write(mapOf("client" to "Kotlin/$jvm (uniffi, built-in transport, blocking)",
        "submit" to submits(builtin, run, "kotlin-blocking", blocking = true),
        "frugal" to frugalOverhead(run,
            plain = { check(blockingTransport.client.send(plainRequest(plain), asString).statusCode() in 200..299) },
            step = { checkLocal(builtin.executeBlocking(frugalStep)) }) + ("plain_stack" to "java.net.http"),
        "build" to built)))
}
