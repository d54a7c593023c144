// The Kotlin client of the side-by-side benchmark: the uniffi library on the
// JVM, through the app-supplied java.net.http transport (suspending, and
// blocking) and through the library's built-in one. `bench.BenchKt RUN_JSON`
// prints JSON lines of figures.
package bench

import dev.ezthrottle.BlockingHttpTransport
import dev.ezthrottle.BuiltinHttpTransport
import dev.ezthrottle.ClientOptions
import dev.ezthrottle.EzThrottle
import dev.ezthrottle.ExecuteResult
import dev.ezthrottle.HttpHeader
import dev.ezthrottle.HttpRequest
import dev.ezthrottle.HttpResponse
import dev.ezthrottle.RequestTarget
import dev.ezthrottle.Step
import java.io.File
import java.net.URI
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

/** Sequential calls' latencies and total time, over one or more runs. */
private class Timings {
    private val latencies = mutableListOf<Double>()
    private var total = 0.0

    suspend fun time(count: Int, call: suspend (Int) -> Unit) {
        val started = System.nanoTime()
        for (i in 0 until count) {
            val t = System.nanoTime()
            call(i)
            latencies.add(seconds(t))
        }
        total += seconds(started)
    }

    fun summary(): Map<String, Any?> {
        val sorted = latencies.toDoubleArray().apply { sort() }
        return mapOf("n" to sorted.size.toLong(), "seconds" to total, "per_sec" to sorted.size / total,
            "p50_ms" to percentileMs(sorted, 0.5), "p99_ms" to percentileMs(sorted, 0.99))
    }
}

/**
 * JIT warm-up first (unmeasured, own keys), then the measured submits. Each
 * step is built as an app would: one StepOptions template, a copy with the
 * submit's own key, one crossing into the library. With `plain` (the same
 * envelope POSTed plainly with the given key, through the same stack), the
 * two alternate in rounds, so that drift in the sandbox weighs on both.
 */
private suspend fun submits(
    client: EzThrottle, run: Map<String, Any?>, tag: String, blocking: Boolean = false,
    plain: (suspend (String) -> Unit)? = null,
): Map<String, Any?> {
    val count = (run["submits"] as Long).toInt()
    val template = options(run["submit"])!!
    fun key(suffix: String) = "bench-${run["run_id"]}-$tag-$suffix"
    suspend fun submit(key: String) {
        // `use` frees the native step at once, as an app's hot loop should,
        // rather than leaving each to the JVM's Cleaner.
        Step.withOptions(template.copy(idempotentKey = key)).use { step ->
            val result = (if (blocking) client.executeBlocking(step) else client.execute(step)) as ExecuteResult.Submitted
            check(result.answer.status == "queued") { result.json }
        }
    }
    repeat(200) {
        submit(key("warm-$it"))
        plain?.invoke(key("plain-warm-$it"))
    }
    val sdk = Timings()
    val direct = Timings()
    val rounds = if (plain == null) 1 else 10
    repeat(rounds) { round ->
        plain?.let { send -> direct.time(count / rounds) { send(key("plain-$round-$it")) } }
        sdk.time(count / rounds) { submit(key("$round-$it")) }
    }
    val summary = sdk.summary()
    if (plain == null) return summary
    val floor = direct.summary()
    val overhead = ((floor["per_sec"] as Double) / (summary["per_sec"] as Double) - 1) * 100
    return summary + ("plain" to floor + ("overhead_pct" to overhead))
}

/** Hands each request on, keeping the last one sent to the gateway. */
private class Recording(private val inner: BuiltinHttpTransport) : BlockingHttpTransport {
    var gateway: HttpRequest? = null

    override fun send(request: HttpRequest): HttpResponse {
        if (request.target == RequestTarget.GATEWAY) gateway = request
        return inner.send(request)
    }
}

/**
 * The submit's own gateway request (the envelope, caught once through a
 * recording transport), POSTed plainly with a fresh key through `http`.
 */
private suspend fun plainSubmit(http: BuiltinHttpTransport, options: ClientOptions, run: Map<String, Any?>): suspend (String) -> Unit {
    val recording = Recording(http)
    val recorder = EzThrottle.withBlockingTransport(options, recording)
    val key = "bench-${run["run_id"]}-kotlin-envelope"
    Step.withOptions(options(run["submit"])!!.copy(idempotentKey = key)).use { recorder.executeBlocking(it) }
    val envelope = recording.gateway!!
    val body = envelope.body!!
    check(key in body) { "no idempotent_key in the envelope" }
    return { fresh ->
        val answer = http.send(envelope.copy(body = body.replace(key, fresh)))
        check(answer.status == 200 && "queued" in answer.body) { "plain submit: ${answer.status} ${answer.body}" }
    }
}

/**
 * The FRUGAL step's request, as java.net.http builds it: built for each
 * call, as an app making the call itself builds it (and as the transport
 * builds the SDK's; the C client sets up its plain request per call too).
 */
private fun plainRequest(request: Map<String, Any?>): java.net.http.HttpRequest {
    val builder = java.net.http.HttpRequest.newBuilder(URI.create(request["url"] as String))
        .timeout(Duration.ofSeconds(30))
        .method(request["method"] as String, java.net.http.HttpRequest.BodyPublishers.ofString(request["body"] as String))
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
    // The JIT first: every path a row takes, through each transport, before
    // any is measured (half again as many as a row's submits). Measured after
    // 200 submits of its own, the first row (java.net.http, suspending) ran
    // at half the rate it reached later in the same JVM. FRUGAL steps, whose
    // local calls leave no job behind: the sandbox slows as its job table
    // grows, which would weigh on the rows measured last.
    repeat(maxOf(300, (run["submits"] as Long).toInt() * 3 / 2)) {
        checkLocal(viaJava.execute(frugalStep))
        checkLocal(viaJavaBlocking.executeBlocking(frugalStep))
        checkLocal(builtin.execute(frugalStep))
        checkLocal(builtin.executeBlocking(frugalStep))
    }
    val plain = obj(run["frugal_plain"])
    val asString = java.net.http.HttpResponse.BodyHandlers.ofString()
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
    // The built-in transport's FRUGAL step against the same request sent
    // plainly through the same stack: the built-in HTTP client on its own,
    // one crossing each.
    val builtinHttp = BuiltinHttpTransport()
    val plainRecord = HttpRequest(RequestTarget.LOCAL, plain["method"] as String, plain["url"] as String,
        obj(plain["headers"]).map { (name, value) -> HttpHeader(name, value as String) }, plain["body"] as String, 30_000)
    println(Json.write(mapOf("client" to "Kotlin/$jvm (uniffi, built-in transport, blocking)",
        "submit" to submits(builtin, run, "kotlin-blocking", blocking = true, plain = plainSubmit(builtinHttp, options, run)),
        "frugal" to frugalOverhead(run,
            plain = { check(builtinHttp.send(plainRecord).status in 200..299) },
            step = { checkLocal(builtin.executeBlocking(frugalStep)) }),
        "build" to built)))
}
