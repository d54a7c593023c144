// The end-to-end scenarios against a running sandbox, once per transport.
package suite

import dev.ezthrottle.ClientOptions
import dev.ezthrottle.EzThrottle
import dev.ezthrottle.EzThrottleException
import dev.ezthrottle.StepOptions
import dev.ezthrottle.ExecuteResult
import dev.ezthrottle.ExecutionMode
import dev.ezthrottle.Fallback
import dev.ezthrottle.FallbackStep
import dev.ezthrottle.FallbackTrigger
import dev.ezthrottle.ForwardOutcome
import dev.ezthrottle.ForwardRequest
import dev.ezthrottle.BlockingHttpTransport
import dev.ezthrottle.HttpTransport
import dev.ezthrottle.IdempotentStrategy
import dev.ezthrottle.RetryPolicy
import dev.ezthrottle.Step
import dev.ezthrottle.StepType
import dev.ezthrottle.Webhook
import dev.ezthrottle.WebhookReceiver
import dev.ezthrottle.parseWebhookEvent
import dev.ezthrottle.verifySignature
import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.launch
import java.net.URI
import java.net.http.HttpClient
import com.sun.net.httpserver.HttpServer
import java.net.InetAddress
import java.net.InetSocketAddress
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout

private const val SECRET = "kotlin_suite_webhook_secret_01"

class EndToEnd(
    private val base: String,
    private val key: String,
    private val label: String,
    transport: HttpTransport?,
    blocking: BlockingHttpTransport? = null,
) {
    private val run = "kt-$label-${ProcessHandle.current().pid()}-${System.currentTimeMillis()}"
    private val options = ClientOptions(apiKey = key, tracktagsUrl = base, ezthrottleUrl = base, timeoutMs = 10_000)
    private val client = if (blocking != null) EzThrottle.withBlockingTransport(options, blocking) else EzThrottle(options, transport)
    private val http = HttpClient.newHttpClient()

    // Each run's own URLs: the suite runs once per transport against one
    // sandbox, and HASH deduplication would take the second run's jobs as repeats.
    private fun upstream(path: String) = "$base/upstream/$path?run=$run"
    private fun hook(name: String) = "$base/receiver/$run-$name"

    private fun getJson(url: String): Any? {
        val request = java.net.http.HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer $key").build()
        return Json.parse(http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).body())
    }

    /** Wait for `count` deliveries; each signature verified, each parsed. */
    private suspend fun webhooks(name: String, count: Int = 1): List<dev.ezthrottle.WebhookEvent> {
        repeat(400) {
            val got = getJson(hook(name)) as List<*>
            if (got.size >= count) {
                return got.take(count).map { delivery ->
                    val d = delivery as Map<*, *>
                    val body = (d["body"] as String).toByteArray()
                    val check = verifySignature(body, d["signature"] as String?, SECRET)
                    check(check.valid) { "$name: signature refused: ${check.reason}" }
                    parseWebhookEvent(body)
                }
            }
            delay(50)
        }
        throw AssertionError("$name: waited 20 s for $count webhook(s)")
    }

    private fun submitted(result: ExecuteResult) = (result as ExecuteResult.Submitted).answer

    suspend fun runAll() {
        client.createWebhookSecret(SECRET, null)
        val t = "e2e[$label]"
        Check.test("$t PERFORMANCE basic") {
            val answer = submitted(client.execute(Step().url(upstream("status/200")).method("POST").webhooks(listOf(Webhook(hook("basic"))))))
            val event = webhooks("basic").single()
            check(event.jobId == answer.jobId && event.succeeded && event.responseStatus == 200) { "$event" }
        }
        Check.test("$t multi-region race") {
            val answer = submitted(client.execute(Step().url(upstream("delay/100")).regions(listOf("iad", "lax", "ord"))
                .executionMode(ExecutionMode.RACE).webhooks(listOf(Webhook(hook("race"))))))
            check(webhooks("race").single().succeeded) { "the race failed" }
            val report = getJson("$base/api/v1/jobs/${answer.jobId}") as Map<*, *>
            check((report["attempts"] as List<*>).size == 3) { "three regions raced: $report" }
        }
        Check.test("$t fallback chain 500 -> timeout -> 200") {
            client.execute(Step().url(upstream("status/500")).retryPolicy(RetryPolicy(maxRetries = 0))
                .webhooks(listOf(Webhook(hook("fallback"))))
                .fallback(Step().url(upstream("delay/3000")), FallbackTrigger.OnError(listOf(500)))
                .fallback(Step().url(upstream("status/200")), FallbackTrigger.OnTimeout(1000)))
            val event = webhooks("fallback").single()
            check(event.succeeded && event.responseBody == "status 200") { "$event" }
        }
        Check.test("$t on_success workflow, two webhooks") {
            val child = Step().url(upstream("echo")).webhooks(listOf(Webhook(hook("child"))))
            val answer = submitted(client.execute(Step().url(upstream("status/200")).webhooks(listOf(Webhook(hook("parent")))).onSuccess(child)))
            check(webhooks("parent").single().jobId == answer.jobId) { "the parent's webhook" }
            val second = webhooks("child").single()
            check(second.jobId != answer.jobId && second.succeeded) { "the child is its own job" }
        }
        Check.test("$t HASH dedupe") {
            val step = Step().url(upstream("count/$run-hash")).method("POST").body("{\"amount\":1000}")
            val one = submitted(client.execute(step))
            val two = submitted(client.execute(step))
            check(one.jobId == two.jobId && two.status == "duplicate") { "$one / $two" }
        }
        Check.test("$t UNIQUE") {
            val step = Step().url(upstream("status/200")).idempotentStrategy(IdempotentStrategy.UNIQUE)
            check(submitted(client.execute(step)).jobId != submitted(client.execute(step)).jobId) { "one job" }
        }
        Check.test("$t FRUGAL local") {
            val result = client.execute(Step().url(upstream("status/200")).stepType(StepType.FRUGAL)) as ExecuteResult.Local
            check(result.success && result.statusCode == 200 && result.response == "status 200") { "$result" }
            check("[SUCCESS]" in result.trace) { result.trace }
        }
        Check.test("$t one-crossing step, blocking calls") {
            val template = StepOptions(url = upstream("status/200"), method = "POST", webhooks = listOf(Webhook(hook("blocking"))))
            val answer = client.submitBlocking(Step.withOptions(template.copy(idempotentKey = "$run-blocking")))
            check(webhooks("blocking").single().jobId == answer.jobId) { "the blocking submit's job" }
            val local = client.executeBlocking(Step.withOptions(template.copy(stepType = StepType.FRUGAL, webhooks = null)))
            check(local is ExecuteResult.Local && local.success && local.response == "status 200") { "$local" }
            val forwarded = client.forwardBlocking(ForwardRequest(url = upstream("status/200"), idempotentKey = "$run-fwd-blocking"))
            check(forwarded.status == "queued") { "$forwarded" }
            val e = expectThrows<EzThrottleException.Validation> { Step.withOptions(template.copy(webhookQuorum = -1)) }
            check(e.path == "webhook_quorum") { "refused at ${e.path}" }
        }
        Check.test("$t a whole workflow in one StepOptions: fallbacks, on_success, on_failure") {
            fun leaf(path: String, hookName: String? = null) =
                Step.withOptions(StepOptions(url = upstream(path), webhooks = hookName?.let { listOf(Webhook(hook(it))) }))
            val options = StepOptions(
                // Its own key: the same request as "fallback chain" would be a duplicate.
                url = upstream("status/500"), idempotentKey = "$run-options-chain", retryPolicy = RetryPolicy(maxRetries = 0),
                webhooks = listOf(Webhook(hook("options-chain"))),
                fallbacks = listOf(
                    FallbackStep(leaf("delay/3000"), FallbackTrigger.OnError(listOf(500))),
                    FallbackStep(leaf("status/200"), FallbackTrigger.OnTimeout(1000))),
                onSuccess = leaf("echo", "options-child"),
                onFailure = leaf("status/200"), onFailureTimeoutMs = 60_000)
            val chained = Step().url(upstream("status/500")).idempotentKey("$run-options-chain").retryPolicy(RetryPolicy(maxRetries = 0))
                .webhooks(listOf(Webhook(hook("options-chain"))))
                .fallback(leaf("delay/3000"), FallbackTrigger.OnError(listOf(500)))
                .fallback(leaf("status/200"), FallbackTrigger.OnTimeout(1000))
                .onSuccess(leaf("echo", "options-child"))
                .onFailure(leaf("status/200"), 60_000)
            val step = Step.withOptions(options)
            check(step.payloadJson() == chained.payloadJson()) { "${step.payloadJson()}\n!= ${chained.payloadJson()}" }
            check(submitted(client.execute(step)).status == "queued") { "a new job" }
            val event = webhooks("options-chain").single()
            check(event.succeeded && event.responseBody == "status 200") { "$event" }
            check(webhooks("options-child").single().succeeded) { "on_success ran" }
            val bad = options.copy(fallbacks = listOf(FallbackStep(Step(), FallbackTrigger.Always)))
            val e = expectThrows<EzThrottleException.Validation> { Step.withOptions(bad).payloadJson() }
            check(e.path == "fallback[0].url") { "refused at ${e.path}" }
        }
        Check.test("$t FRUGAL 429 -> forwarded") {
            val answer = submitted(client.execute(Step().url(upstream("flaky/$run/1/429")).stepType(StepType.FRUGAL)
                .webhooks(listOf(Webhook(hook("frugal"))))))
            val event = webhooks("frugal").single()
            check(event.jobId == answer.jobId && event.succeeded) { "$event" }
        }
        Check.test("$t forward, forward-or-fallback, continuations, secrets") {
            val request = ForwardRequest(url = upstream("status/200"), method = "POST", metadataJson = "{\"order\":7}",
                webhooks = listOf(Webhook(hook("forward"))))
            check(client.forward(request).status == "queued") { "queued" }
            check(webhooks("forward").single().metadataJson == "{\"order\":7}") { "metadata echoed" }
            var ran = 0
            val fallback = object : Fallback { override suspend fun run(): String { ran++; return "ran locally" } }
            check(client.forwardOrFallback(request, fallback) is ForwardOutcome.Submitted && ran == 0) { "the service is up" }
            val down = EzThrottle(ClientOptions(apiKey = key, tracktagsUrl = "http://127.0.0.1:9", timeoutMs = 2000), null)
            val fell = down.forwardOrFallback(request, fallback)
            check(fell == ForwardOutcome.FellBack("ran locally") && ran == 1) { "$fell" }

            // The job's webhook, received by this client's receiver, runs its on_success here.
            val local = EzThrottle(ClientOptions(apiKey = key, tracktagsUrl = base, ezthrottleUrl = base,
                continuationWebhook = hook("continuation")), null)
            val receiver = local.webhookReceiver(SECRET, null)
            local.execute(Step().url(upstream("status/200")).idempotentStrategy(IdempotentStrategy.UNIQUE)
                .onSuccess(Step().url(upstream("count/$run-follow")).stepType(StepType.FRUGAL)))
            check(local.pendingContinuations() == 1L) { "registered" }
            val raw = (getJsonUntil(hook("continuation")) as Map<*, *>)
            val delivery = receiver.receive((raw["body"] as String).toByteArray(), raw["signature"] as String?)
            check(delivery.status == 200 && delivery.followUp is ExecuteResult.Local) { "$delivery" }
            check((getJson(upstream("hits/$run-follow")) as Map<*, *>)["hits"] == 1L) { "the follow-up ran once" }
            val replay = receiver.receive((raw["body"] as String).toByteArray(), raw["signature"] as String?)
            check(replay.status == 200 && replay.event == null) { "a replay is acknowledged, not handled" }
            val forged = receiver.receive((raw["body"] as String).toByteArray(), "t=1,v1=00")
            check(forged.status == 401) { "forged" }

            val next = "kotlin_suite_webhook_secret_02"
            client.rotateWebhookSecret(next, SECRET)
            check(client.getWebhookSecret().let { it.secondarySecret != null && it.hasSecondary }) { "rotation keeps the old secret" }
            client.deleteWebhookSecret()
            expectThrows<EzThrottleException.SecretsNotConfigured> { client.getWebhookSecret() }
            client.createWebhookSecret(SECRET, null)
        }
    }

    /**
     * Waiting for a job's result: the sandbox delivers to a real HTTP server
     * (the JDK's), whose handler hands each delivery to this client's receiver.
     */
    suspend fun waitForResult() {
        val t = "[$label]"
        Check.test("$t waitForResult: a receiver behind a real HTTP server, follow-up, timeout") {
            val server = HttpServer.create(InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0)
            val hook = "http://127.0.0.1:${server.address.port}/hook"
            val local = EzThrottle(ClientOptions(apiKey = key, tracktagsUrl = base, ezthrottleUrl = base, continuationWebhook = hook), null)
            val receiver = local.webhookReceiver(SECRET)
            val handled = java.util.concurrent.LinkedBlockingQueue<dev.ezthrottle.WebhookDelivery>()
            server.createContext("/hook") { exchange ->
                val body = exchange.requestBody.readBytes()
                val delivery = runBlocking { receiver.receive(body, exchange.requestHeaders.getFirst("X-EZThrottle-Signature")) }
                handled.add(delivery)
                val answer = delivery.body.toByteArray()
                exchange.sendResponseHeaders(delivery.status, answer.size.toLong())
                exchange.responseBody.use { it.write(answer) }
            }
            server.start()
            try {
                val executed = local.execute(Step().url(upstream("status/200")).idempotentStrategy(IdempotentStrategy.UNIQUE)
                    .onSuccess(Step().url(upstream("count/$run-waited")).stepType(StepType.FRUGAL)))
                val answer = submitted(executed)
                val event = withTimeout(20_000) { local.waitForResult(answer.jobId) }
                check(event.jobId == answer.jobId && event.succeeded && event.responseStatus == 200) { "$event" }
                val delivery = handled.poll(20, java.util.concurrent.TimeUnit.SECONDS)
                // The receiver runs the follow-up; or, when the webhook beat the
                // submit answer home, execute ran it last (it is in its trace).
                val ranInExecute = "count/$run-waited" in (executed as ExecuteResult.Submitted).trace
                check(delivery != null && delivery.status == 200 && (delivery.followUp is ExecuteResult.Local) != ranInExecute) { "$delivery" }
                check((getJson(upstream("hits/$run-waited")) as Map<*, *>)["hits"] == 1L) { "the follow-up ran once" }
                check(withTimeout(1_000) { local.waitForResult(answer.jobId) } == event) { "a late wait ends at once" }
                expectThrows<TimeoutCancellationException> { withTimeout(100) { local.waitForResult("job-that-never-ran") } }
            } finally {
                server.stop(0)
            }
        }
    }

    /**
     * Cancelling calls of the built-in transport frees what they hold: 100
     * calls to an upstream that answers after 10 s (8 in flight, the rest
     * queued behind the worker cap) are cancelled, and within 200 ms the
     * process has no more threads or sockets than before them.
     */
    suspend fun cancellation() {
        Check.test("[$label] cancelling 100 calls frees their threads and sockets within 200 ms") {
            fun threads() = File("/proc/self/task").list()!!.size
            fun sockets() = File("/proc/self/fd").listFiles()!!.count {
                runCatching { Files.readSymbolicLink(it.toPath()).toString().startsWith("socket:") }.getOrDefault(false)
            }
            fun frugal(path: String) = Step.withOptions(StepOptions(url = upstream(path), stepType = StepType.FRUGAL, localTimeoutMs = 20_000))
            // The baseline: the transport's workers started, up to their cap,
            // and Dispatchers.Default's threads, which the calls below run on.
            withContext(Dispatchers.Default) { repeat(8) { launch { client.execute(frugal("delay/50")) } } }
            delay(100)
            val threads = threads()
            val sockets = sockets()
            val calls = CoroutineScope(Dispatchers.Default).launch { repeat(100) { launch { client.execute(frugal("delay/10000")) } } }
            delay(500)
            check(sockets() > sockets) { "no request in flight" }
            calls.cancelAndJoin()
            val cancelled = System.nanoTime()
            while (threads() > threads || sockets() > sockets) {
                check(System.nanoTime() - cancelled < 200_000_000) {
                    "200 ms after the cancel: ${threads()} threads (before: $threads), ${sockets()} sockets (before: $sockets)"
                }
                delay(5)
            }
            // The workers are free at once, not after the 20 s deadline.
            val next = withTimeout(2_000) { client.execute(frugal("status/200")) }
            check(next is ExecuteResult.Local && next.success) { "$next" }
        }
    }

    private suspend fun getJsonUntil(url: String): Any? {
        repeat(400) {
            val got = getJson(url) as List<*>
            if (got.isNotEmpty()) return got.first()
            delay(50)
        }
        throw AssertionError("nothing delivered to $url")
    }
}
