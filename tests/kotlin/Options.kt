// Conformance calls as one StepOptions record, so every vector that fits it
// also runs through Step.withOptions (the one-crossing way to build a step).
package suite

import dev.ezthrottle.ExecutionMode
import dev.ezthrottle.IdempotentStrategy
import dev.ezthrottle.RegionPolicy
import dev.ezthrottle.RetryPolicy
import dev.ezthrottle.StepOptions
import dev.ezthrottle.StepType
import dev.ezthrottle.Webhook

private class Unfit : Exception()

private fun text(v: Any?) = v as? String ?: throw Unfit()
private fun long(v: Any?) = v as? Long ?: throw Unfit()
private fun int(v: Any?) = long(v).also { if (it !in Int.MIN_VALUE..Int.MAX_VALUE) throw Unfit() }.toInt()
private fun texts(v: Any?) = (v as? List<*> ?: throw Unfit()).map(::text)
private fun ints(v: Any?) = (v as? List<*> ?: throw Unfit()).map(::int)
private fun fields(v: Any?, allowed: Set<String>): Map<*, *> =
    (v as? Map<*, *> ?: throw Unfit()).also { m -> if (!allowed.containsAll(m.keys)) throw Unfit() }

private fun <T> choice(v: Any?, vararg options: Pair<String, T>): T =
    options.firstOrNull { it.first == v }?.second ?: throw Unfit()

private fun webhook(v: Any?): Webhook {
    val w = fields(v, setOf("url", "regions", "has_quorum_vote"))
    return Webhook(text(w["url"]), w["regions"]?.let(::texts), w["has_quorum_vote"]?.let { it as? Boolean ?: throw Unfit() })
}

private fun retryPolicy(v: Any?): RetryPolicy {
    val p = fields(v, setOf("max_retries", "max_reroutes", "retry_codes", "reroute_codes"))
    return RetryPolicy(p["max_retries"]?.let(::long), p["max_reroutes"]?.let(::long),
        p["retry_codes"]?.let(::ints), p["reroute_codes"]?.let(::ints))
}

/** The calls as one StepOptions, or null when one of them does not fit it. */
fun options(calls: Any?): StepOptions? = try {
    var o = StepOptions()
    val seen = mutableSetOf<String>()
    for (call in calls as List<*>) {
        val (name, arg) = (call as List<*>).let { it[0] as String to it[1] }
        if (!seen.add(name)) throw Unfit()
        o = when (name) {
            "url" -> o.copy(url = text(arg))
            "method" -> o.copy(method = text(arg))
            "body" -> o.copy(body = text(arg))
            "headers" -> o.copy(headers = (arg as? Map<*, *> ?: throw Unfit()).entries.associate { text(it.key) to text(it.value) })
            "type" -> o.copy(stepType = choice(arg, "frugal" to StepType.FRUGAL, "performance" to StepType.PERFORMANCE))
            "metadata" -> o.copy(metadataJson = Json.write(arg))
            "webhooks" -> o.copy(webhooks = (arg as? List<*> ?: throw Unfit()).map(::webhook))
            "webhook_quorum" -> o.copy(webhookQuorum = long(arg))
            "regions" -> o.copy(regions = texts(arg))
            "region_policy" -> o.copy(regionPolicy = choice(arg, "fallback" to RegionPolicy.FALLBACK, "strict" to RegionPolicy.STRICT))
            "execution_mode" -> o.copy(executionMode = choice(arg, "race" to ExecutionMode.RACE, "fanout" to ExecutionMode.FANOUT))
            "retry_policy" -> o.copy(retryPolicy = retryPolicy(arg))
            "retry_at" -> o.copy(retryAtMs = long(arg))
            "idempotent_key" -> o.copy(idempotentKey = text(arg))
            "idempotent_strategy" -> o.copy(idempotentStrategy = choice(arg, "hash" to IdempotentStrategy.HASH, "unique" to IdempotentStrategy.UNIQUE))
            "fallback_on_error" -> o.copy(fallbackOnError = ints(arg))
            "local_timeout_ms" -> o.copy(localTimeoutMs = long(arg))
            "description" -> o.copy(description = text(arg))
            "response_description" -> o.copy(responseDescription = text(arg))
            else -> throw Unfit()
        }
    }
    o
} catch (_: Unfit) {
    null
} catch (_: ClassCastException) {
    null
}
