// Every conformance vector of a folder through the Kotlin API, with a
// Kotlin-implemented scripted transport (Main.kt says which folders).
package suite

import dev.ezthrottle.ClientOptions
import dev.ezthrottle.EzThrottle
import dev.ezthrottle.EzThrottleException
import dev.ezthrottle.ExecuteResult
import dev.ezthrottle.FallbackTrigger
import dev.ezthrottle.ForwardRequest
import dev.ezthrottle.HttpHeader
import dev.ezthrottle.HttpRequest
import dev.ezthrottle.HttpResponse
import dev.ezthrottle.HttpTransport
import dev.ezthrottle.QueueRequestOptions
import dev.ezthrottle.Step
import dev.ezthrottle.StepType
import dev.ezthrottle.Webhook
import dev.ezthrottle.verifySignature
import dev.ezthrottle.verifyWithSecrets
import java.io.File

private const val API_KEY = "ck_test_cust_abc_123"
private val UUID4 = Regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

@Suppress("UNCHECKED_CAST")
private fun obj(v: Any?) = v as Map<String, Any?>
@Suppress("UNCHECKED_CAST")
private fun list(v: Any?) = v as List<Any?>

/**
 * A refusal raised while a linked step was built on its own, before it was
 * linked: the library names the field within that step (`region_policy`),
 * since the step cannot know where it will go. [path] is the field within the
 * whole tree (`on_failure.region_policy`), as the vectors name it.
 */
class LinkedStepRefused(val path: String, val refusal: EzThrottleException.Validation) : Exception(refusal.message, refusal)

/** A step linked at `prefix` (`fallback[1].`), built on its own. */
private fun linked(calls: Any?, prefix: String): Step = try {
    build(calls, prefix)
} catch (e: EzThrottleException.Validation) {
    throw LinkedStepRefused(prefix + e.path, e)
}

/**
 * A step from `[name, argument]` calls: typed methods where the argument fits
 * them. `prefix` is where the step is linked, for the refusals of its own.
 */
fun build(calls: Any?, prefix: String = ""): Step {
    var step = Step()
    var fallbacks = 0
    for (call in list(calls)) {
        val (name, arg) = list(call).let { it[0] as String to it[1] }
        step = when {
            name == "fallback" -> {
                val spec = obj(arg)
                val trigger = when {
                    spec["trigger_on_error"] != null && spec["trigger_on_timeout"] == null ->
                        FallbackTrigger.OnError(list(spec["trigger_on_error"]).map { (it as Long).toInt() })
                    spec["trigger_on_timeout"] != null && spec["trigger_on_error"] == null ->
                        FallbackTrigger.OnTimeout(spec["trigger_on_timeout"] as Long)
                    spec["trigger_on_error"] == null -> FallbackTrigger.Always
                    else -> { step = step.applyJson(name, Json.write(arg)); fallbacks++; continue }
                }
                step.fallback(linked(spec["step"], "${prefix}fallback[${fallbacks++}]."), trigger)
            }
            name == "on_success" -> step.onSuccess(linked(arg, "${prefix}on_success."))
            name == "on_failure" -> obj(arg).let { step.onFailure(linked(it["step"], "${prefix}on_failure."), it["timeout_ms"] as Long?) }
            name == "url" && arg is String -> step.url(arg)
            name == "method" && arg is String -> step.method(arg)
            name == "body" && arg is String -> step.body(arg)
            name == "type" && arg == "frugal" -> step.stepType(StepType.FRUGAL)
            name == "type" && arg == "performance" -> step.stepType(StepType.PERFORMANCE)
            name == "idempotent_key" && arg is String -> step.idempotentKey(arg)
            name == "metadata" && arg is Map<*, *> -> step.metadataJson(Json.write(arg))
            else -> step.applyJson(name, Json.write(arg))
        }
    }
    return step
}

/** Deep comparison; "<uuid4>" matches a fresh UUID v4 (collected). */
fun compare(actual: Any?, expected: Any?, at: String, uuids: MutableList<String> = mutableListOf()) {
    when {
        expected == "<uuid4>" -> { check(actual is String && UUID4.matches(actual)) { "$at: $actual is not a UUID v4" }; uuids.add(actual as String) }
        expected is Map<*, *> -> {
            check(actual is Map<*, *>) { "$at: expected an object, got $actual" }
            val a = actual as Map<*, *>
            check(a.keys == expected.keys) { "$at: keys ${a.keys} != ${expected.keys}" }
            for (k in expected.keys) compare(a[k], expected[k], "$at.$k", uuids)
        }
        expected is List<*> -> {
            check(actual is List<*> && actual.size == expected.size) { "$at: $actual != $expected" }
            expected.forEachIndexed { i, e -> compare((actual as List<*>)[i], e, "$at[$i]", uuids) }
        }
        expected is Number && actual is Number -> check(expected.toDouble() == actual.toDouble()) { "$at: $actual != $expected" }
        else -> check(actual == expected) { "$at: $actual != $expected" }
    }
}

private fun client(net: ScriptedNetwork) =
    EzThrottle(ClientOptions(apiKey = API_KEY, tracktagsUrl = "http://proxy.invalid", ezthrottleUrl = "http://ezt.invalid"), net)

private fun resultJson(result: ExecuteResult): Any? = Json.parse(when (result) {
    is ExecuteResult.Submitted -> result.json
    is ExecuteResult.Local -> result.json
})

private fun trace(result: ExecuteResult) = when (result) {
    is ExecuteResult.Submitted -> result.trace
    is ExecuteResult.Local -> result.trace
}

private fun expectValidation(vector: Map<String, Any?>, block: () -> Unit) {
    val (e, path) = try {
        block()
        throw AssertionError("expected Validation, nothing was thrown")
    } catch (refusal: EzThrottleException.Validation) {
        refusal to refusal.path
    } catch (linked: LinkedStepRefused) {
        linked.refusal to linked.path
    }
    check(e.path.isNotEmpty() && e.detail.isNotEmpty()) { "the error names no field: ${e.message}" }
    (vector["expect_path"] as String?)?.let { check(path == it) { "error at $path, expected at $it" } }
}

/** The vector once more through Step.withOptions, when its calls fit one StepOptions. */
private fun payloadWithOptions(v: Map<String, Any?>) {
    val options = options(v["calls"]) ?: return
    if (v["expect_error"] == true) return expectValidation(v) { Step.withOptions(options).payloadJson() }
    compare(Json.parse(Step.withOptions(options).payloadJson()), v["payload"], "withOptions payload")
    withOptionsChecked++
}

/** How many vectors also ran through Step.withOptions (checked at the end). */
var withOptionsChecked = 0

private suspend fun payload(v: Map<String, Any?>) {
    payloadWithOptions(v)
    if (v["expect_error"] == true) return expectValidation(v) { build(v["calls"]).payloadJson() }
    val step = build(v["calls"])
    val first = mutableListOf<String>()
    val second = mutableListOf<String>()
    compare(Json.parse(step.payloadJson()), v["payload"], "payload", first)
    compare(Json.parse(step.payloadJson()), v["payload"], "payload", second)
    check(first.none { it in second }) { "two builds share a UUID" }
    submitRawJob(v["payload"])
    val expected = v["proxy_request"] ?: return
    val net = ScriptedNetwork(localDefault = 429)
    client(net).execute(step)
    checkProxyRequest(net.gateway.first(), obj(expected))
}

/**
 * The job, handed over raw as the wire format (`submitJobJson`), reaches the
 * gateway as it is. A generated key cannot be handed over.
 */
private suspend fun submitRawJob(payload: Any?) {
    val job = Json.write(payload)
    if ("<uuid4>" in job) return
    val net = ScriptedNetwork()
    client(net).submitJobJson(job)
    compare(net.submitted.single(), payload, "submitJobJson")
}

/** A gateway request the scripted network saw is the vector's `proxy_request`. */
private fun checkProxyRequest(sent: HttpRequest, want: Map<String, Any?>) {
    compare(sent.url, want["url"], "proxy_request.url")
    compare(sent.headers.associate { it.name to it.value }, want["headers"], "proxy_request.headers")
    val envelope = LinkedHashMap(obj(Json.parse(sent.body!!)))
    envelope["body"] = Json.parse(envelope["body"] as String)
    compare(envelope, want["envelope"], "proxy_request.envelope")
}

private suspend fun frugal(v: Map<String, Any?>) {
    val net = ScriptedNetwork(obj(v["answers"] ?: emptyMap<String, Any?>()))
    val result = client(net).execute(build(v["calls"]))
    compare(net.local, v["local_http_calls"], "local_http_calls")
    compare(net.submitted, v["submitted_jobs"], "submitted_jobs")
    compare(resultJson(result), v["result"], "result")
    check(trace(result).isNotEmpty()) { "no trace" }
}

private fun signature(v: Map<String, Any?>) {
    val payload = (v["payload"] as String).toByteArray()
    val now = (v["now"] as Long)
    val tolerance = (v["tolerance"] as Long?) ?: 300L
    val check = when (val secondary = v["secondary_secret"] as String?) {
        null -> verifySignature(payload, v["header"] as String, v["secret"] as String, now, tolerance)
        else -> verifyWithSecrets(payload, v["header"] as String, v["secret"] as String, secondary, now, tolerance)
    }
    check(check.valid == v["valid"]) { "valid: ${check.valid}" }
    check(check.reason == v["reason_code"]) { "reason ${check.reason}, expected ${v["reason_code"]}" }
    check((check.reason == "both_secrets_failed") == (check.primaryReason != null)) { "primary reason ${check.primaryReason}" }
    // Only the random vectors carry it (for a failed rotation).
    (v["primary_reason_code"] as String?)?.let { check(check.primaryReason == it) { "primary reason ${check.primaryReason}, expected $it" } }
}

private suspend fun invalid(v: Map<String, Any?>) {
    options(v["calls"])?.let { o -> expectValidation(v) { Step.withOptions(o).payloadJson() } }
    val net = ScriptedNetwork()
    val step = try {
        build(v["calls"])
    } catch (e: Exception) {
        if (e !is EzThrottleException.Validation && e !is LinkedStepRefused) throw e
        return expectValidation(v) { throw e }
    }
    expectValidation(v) { step.payloadJson() }
    try {
        client(net).execute(step)
        throw AssertionError("executed")
    } catch (e: EzThrottleException.Validation) {
        check(net.local.isEmpty() && net.gateway.isEmpty()) { "something was sent" }
    }
}

private fun headers(v: Any?) = obj(v ?: emptyMap<String, Any?>()).map { (name, value) -> HttpHeader(name, value as String) }
private fun strings(v: Any?) = v?.let { list(it).map { s -> s as String } }

/**
 * This project's own file (the random vectors): a request handed over by
 * existing code or the legacy call, through their records, and the
 * reference's proxy request for it.
 */
private suspend fun forward(v: Map<String, Any?>) {
    val net = ScriptedNetwork()
    val forward = v["forward"]?.let(::obj)
    if (forward != null) {
        val webhooks = list(forward["webhooks"] ?: emptyList<Any?>()).map(::obj).map {
            Webhook(it["url"] as String, strings(it["regions"]), it["has_quorum_vote"] as Boolean?)
        }
        client(net).forward(ForwardRequest(
            url = forward["url"] as String,
            method = forward["method"] as String?,
            headers = headers(forward["headers"]),
            body = forward["body"] as String?,
            idempotentKey = forward["idempotent_key"] as String?,
            metadataJson = forward["metadata"]?.let(Json::write),
            webhooks = webhooks,
            regions = strings(forward["regions"]) ?: emptyList(),
        ))
    } else {
        val request = obj(v["queue_request"])
        client(net).queueRequest(QueueRequestOptions(
            url = request["url"] as String,
            webhookUrl = request["webhook_url"] as String,
            method = request["method"] as String?,
            headers = headers(request["headers"]),
            body = request["body"] as String?,
            metadataJson = request["metadata"]?.let(Json::write),
            retryAtMs = request["retry_at"] as Long?,
        ))
    }
    check(net.gateway.size == 1) { "${net.gateway.size} gateway requests" }
    checkProxyRequest(net.gateway.first(), obj(v["proxy_request"]))
}

/**
 * This project's own file (the random vectors): the gateway's answer to a
 * submitted job, and the answer or error the reference's reading gives.
 */
private suspend fun gateway(v: Map<String, Any?>) {
    val answer = obj(v["answer"])
    val gateway = object : HttpTransport {
        override suspend fun send(request: HttpRequest) =
            HttpResponse((answer["status"] as Long).toInt(), headers(answer["headers"]), answer["body"] as String)
    }
    val client = EzThrottle(ClientOptions(apiKey = API_KEY, tracktagsUrl = "http://proxy.invalid"), gateway)
    val before = System.currentTimeMillis()
    val error = try {
        val submitted = client.submitJobJson(Json.write(v["job"]))
        check(v["result"] != null) { "returned ${submitted.json}, expected ${v["error"]}" }
        return compare(Json.parse(submitted.json), v["result"], "result")
    } catch (e: EzThrottleException) {
        e
    }
    val after = System.currentTimeMillis()
    val want = obj(checkNotNull(v["error"]) { "expected ${v["result"]}, got $error" })
    val kind = (want["kind"] as String).split("_").joinToString("") { it.replaceFirstChar(Char::uppercase) }
    check(error::class.simpleName == kind) { "$error is not $kind" }
    val seen: Map<String, Any?> = when (error) {
        is EzThrottleException.JobRejected -> mapOf("status" to error.status.toLong(), "body" to error.body)
        is EzThrottleException.Gateway -> mapOf("status" to error.status.toLong(), "body" to error.body)
        is EzThrottleException.Denied -> mapOf("message" to error.detail)
        is EzThrottleException.RateLimited -> mapOf("retry_at" to error.retryAtMs)
        else -> emptyMap()
    }
    for (field in listOf("status", "body", "message", "retry_at")) {
        if (field in want) check(seen[field] == want[field]) { "$field: $error, expected $want" }
    }
    (want["retry_after_ms"] as Long?)?.let { delay ->
        val at = checkNotNull(seen["retry_at"] as Long?) { "no retry time: $error" }
        check(at in before + delay..after + delay) { "retry at $at: $error" }
    }
}

/** Every vector of every file in `dir`. */
suspend fun conformance(dir: File) {
    val runners: Map<String, suspend (Map<String, Any?>) -> Unit> =
        mapOf("payloads" to ::payload, "frugal" to ::frugal, "signatures" to { v -> signature(v) }, "invalid" to ::invalid,
            "forward" to ::forward, "gateway" to ::gateway)
    for (file in dir.listFiles { f -> f.name.endsWith(".json") }!!.sortedBy { it.name }) {
        val stem = file.name.removeSuffix(".json")
        val run = runners[stem] ?: continue
        list(Json.parse(file.readText())).forEachIndexed { i, vector ->
            val v = obj(vector)
            Check.test("$stem::${v["name"] ?: "#$i"}") { run(v) }
        }
    }
    // A converter that fits nothing would let the runs above pass untested.
    Check.test("payloads through Step.withOptions") { check(withOptionsChecked >= 10) { "only $withOptionsChecked" } }
}
