// Every error variant reaches Kotlin as its exception; whatever a Kotlin
// transport throws comes back typed, never as a crash; a suspending
// transport runs on the threads a suspend call would.
package suite

import dev.ezthrottle.ClientOptions
import dev.ezthrottle.EzThrottle
import dev.ezthrottle.EzThrottleException
import dev.ezthrottle.HttpRequest
import dev.ezthrottle.HttpResponse
import dev.ezthrottle.HttpTransport
import dev.ezthrottle.Step
import dev.ezthrottle.StepOptions
import dev.ezthrottle.TransportFailure
import dev.ezthrottle.WebhookReceiver
import dev.ezthrottle.verifySignature
import dev.ezthrottle.verifySignatureStrict
import dev.ezthrottle.verifyWithSecrets
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout

private class Answering(val answer: suspend (HttpRequest) -> HttpResponse) : HttpTransport {
    override suspend fun send(request: HttpRequest) = answer(request)
}

private fun gateway(status: Int, body: String, vararg headers: Pair<String, String>) =
    Answering { HttpResponse(status, headers.map { dev.ezthrottle.HttpHeader(it.first, it.second) }, body) }

private fun allowed(status: Int, body: String) =
    gateway(200, Json.write(mapOf("status" to "allowed", "forwarded_response" to mapOf("status_code" to status.toLong(), "body" to body))))

private suspend fun submit(transport: HttpTransport) =
    EzThrottle(ClientOptions(apiKey = "ck_secret_never_shown", tracktagsUrl = "http://gw.invalid"), transport)
        .execute(Step().url("https://api.example.com"))

suspend fun errors() {
    Check.test("errors: each gateway answer is its exception") {
        val before = System.currentTimeMillis()
        val limited = expectThrows<EzThrottleException.RateLimited> { submit(gateway(429, "{\"error\":\"slow\"}", "Retry-After" to "7")) }
        check(limited.retryAtMs!!.toLong() in (before + 7000)..(System.currentTimeMillis() + 7000)) { "retryAt ${limited.retryAtMs}" }
        expectThrows<EzThrottleException.Authentication> { submit(gateway(401, "{}")) }
        expectThrows<EzThrottleException.Denied> { submit(gateway(200, "{\"status\":\"denied\",\"error\":\"plan\"}")) }
        val rejected = expectThrows<EzThrottleException.JobRejected> { submit(allowed(400, "bad region")) }
        check(rejected.status == 400 && rejected.body == "bad region") { "$rejected" }
        expectThrows<EzThrottleException.Gateway> { submit(gateway(502, "down")) }
        expectThrows<EzThrottleException.Protocol> { submit(gateway(200, "not json")) }
        val client = EzThrottle(ClientOptions(apiKey = "k", tracktagsUrl = "http://gw.invalid"), allowed(404, ""))
        expectThrows<EzThrottleException.SecretsNotConfigured> { client.getWebhookSecret() }
        val auth = expectThrows<EzThrottleException.Authentication> { submit(gateway(401, "{}")) }
        check("ck_secret_never_shown" !in auth.toString()) { "the key shows" }
        var shown = ""
        expectThrows<EzThrottleException.Authentication> {
            submit(Answering { request -> shown = "$request ${request.headers}"; HttpResponse(401, emptyList(), "{}") })
        }
        check("ck_secret_never_shown" !in shown && "redacted" in shown) { "a logged request or its headers show the key: $shown" }
        val refused = expectThrows<EzThrottleException.Validation> { Step().url("ftp://nope").payloadJson() }
        // The message is the human text every binding shows, not uniffi's `path=…, detail=…`.
        check(refused.message == "invalid url: ${refused.detail}") { "message: ${refused.message}" }
        check(refused.toString().endsWith(": invalid url: ${refused.detail}")) { "toString: $refused" }
        val forged = expectThrows<EzThrottleException.Signature> {
            verifySignatureStrict("{}".toByteArray(), "t=1,v1=00", "whsec_primary_0123456789", null)
        }
        check(forged.reason == "timestamp_expired") { forged.reason }
        expectThrows<EzThrottleException.Validation> { WebhookReceiver("", null) }
        // Signed at the boundary (Java has no unsigned types): a negative value is the SDK's refusal, naming the field.
        check(expectThrows<EzThrottleException.Validation> { Step().webhookQuorum(-1) }.path == "webhook_quorum") { "quorum" }
        check(expectThrows<EzThrottleException.Validation> { Step().fallbackOnError(listOf(-429)) }.path.startsWith("fallback_on_error")) { "codes" }
        check(expectThrows<EzThrottleException.Validation> { EzThrottle(ClientOptions(apiKey = "ck_k", timeoutMs = -1), null) }.path == "timeout_ms") { "timeout" }
        check(expectThrows<EzThrottleException.Validation> { verifySignature("{}".toByteArray(), null, "whsec_x", null, -300) }.path == "tolerance_secs") { "tolerance" }
        // Signed with the empty key, which anyone can do: an empty secret verifies nothing.
        val emptyKeyHeader = "t=1764320000,v1=15c70733a562cb0253be2cf3b940df3548c4991445e59e072137fe30e8e23e15"
        val body = "{\"job_id\":\"j\"}".toByteArray()
        check(verifySignature(body, emptyKeyHeader, "", 1764320000L, 300L).reason == "signature_mismatch") { "empty secret" }
        check(verifyWithSecrets(body, emptyKeyHeader, "whsec_primary_0123456789", "", 1764320000L, 300L).reason == "both_secrets_failed") { "empty secondary" }
        check(Step().url("https://a.example").header("X-One", "1").header("X-Two", "2").payloadJson().contains("\"X-Two\":\"2\"")) { "single headers add up" }
    }
    Check.test("strings: any text crosses whole, a lone surrogate is refused") {
        val text = "caf\u00e9 \u2603 \uD83D\uDE80 ?"
        val json = Step().url("https://a.example").body(text).payloadJson()
        check(json.contains("\"body\":\"$text\"")) { json }
        val record = Step.withOptions(StepOptions(url = "https://a.example", body = text)).payloadJson()
        check(record.contains("\"body\":\"$text\"")) { record }
        // Half of a pair is not text: refused as it crosses (an argument, a record's field), never sent as "?".
        expectThrows<java.nio.charset.CharacterCodingException> { Step().body("lone \uD83D here") }
        expectThrows<java.nio.charset.CharacterCodingException> { Step.withOptions(StepOptions(url = "https://a.example", body = "\uDE80")) }
    }
    Check.test("errors: a Kotlin transport's failures come back typed") {
        val timeout = expectThrows<EzThrottleException.Unreachable> { submit(Answering { throw TransportFailure.Timeout("slow") }) }
        check(timeout.kind == "timeout") { timeout.kind }
        val down = expectThrows<EzThrottleException.Unreachable> { submit(Answering { throw TransportFailure.Unreachable("refused") }) }
        check(down.kind == "unreachable") { down.kind }
        val thrown = java.io.IOException("disk on fire")
        val crash = expectThrows<EzThrottleException.Unreachable> { submit(Answering { throw thrown }) }
        check(crash.kind == "transport" && "disk on fire" in crash.detail) { "${crash.kind}: ${crash.detail}" }
        // The transport's exception itself is the cause, not only its text.
        check(crash.cause === thrown) { "cause: ${crash.cause}" }
        check("[cause" !in crash.detail && "[cause" !in crash.message!!) { crash.message!! }
        val npe = expectThrows<EzThrottleException.Unreachable> { submit(Answering { throw NullPointerException() }) }
        check(npe.kind == "transport") { npe.kind }
    }
    Check.test("transport: a suspending send starts on the caller's thread and resumes where the app resumes it") {
        val caller = Thread.currentThread()
        var started: Thread? = null
        var resumed: Thread? = null
        val queued = Json.write(mapOf("job_id" to "job_1", "status" to "queued"))
        val answer = HttpResponse(200, emptyList(), Json.write(mapOf("status" to "allowed",
            "forwarded_response" to mapOf("status_code" to 201L, "body" to queued))))
        java.util.concurrent.Executors.newSingleThreadExecutor { Thread(it, "app-io") }.asCoroutineDispatcher().use { io ->
            submit(Answering {
                started = Thread.currentThread()
                withContext(io) { delay(1) }
                resumed = Thread.currentThread()
                answer
            })
        }
        // As a suspend function called directly: no hop to another dispatcher first, none after.
        check(started === caller) { "started on ${started?.name}, called on ${caller.name}" }
        check(resumed?.name == "app-io") { "resumed on ${resumed?.name}" }
    }
    Check.test("transport: cancelling a call cancels the app's send in flight") {
        val started = CompletableDeferred<Unit>()
        val cancelled = CompletableDeferred<Throwable>()
        coroutineScope {
            val call = launch {
                submit(Answering {
                    started.complete(Unit)
                    try {
                        awaitCancellation()
                    } catch (e: CancellationException) {
                        cancelled.complete(e)
                        throw e
                    }
                })
            }
            started.await()
            call.cancelAndJoin()
        }
        withTimeout(2_000) { cancelled.await() }
    }
}
