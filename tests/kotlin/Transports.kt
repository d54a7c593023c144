// The Kotlin side of HttpTransport and BlockingHttpTransport: java.net.http
// (what an app on the JVM would use), and a scripted network for the
// conformance vectors.
package suite

import dev.ezthrottle.BlockingHttpTransport
import dev.ezthrottle.HttpHeader
import dev.ezthrottle.HttpRequest
import dev.ezthrottle.HttpResponse
import dev.ezthrottle.HttpTransport
import dev.ezthrottle.RequestTarget
import dev.ezthrottle.TransportFailure
import java.net.ConnectException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpTimeoutException
import java.time.Duration
import kotlinx.coroutines.future.await

/** The java.net.http request for `request`. */
private fun javaRequest(request: HttpRequest): java.net.http.HttpRequest {
    val body = request.body?.let { java.net.http.HttpRequest.BodyPublishers.ofString(it) }
        ?: java.net.http.HttpRequest.BodyPublishers.noBody()
    val builder = java.net.http.HttpRequest.newBuilder(URI.create(request.url))
        .timeout(Duration.ofMillis(request.timeoutMs))
        .method(request.method, body)
    for (header in request.headers) builder.header(header.name, header.value)
    return builder.build()
}

/** `exchange`'s answer as the SDK's response, its failures as TransportFailure. */
private inline fun answer(exchange: () -> java.net.http.HttpResponse<String>): HttpResponse {
    try {
        val response = exchange()
        val headers = response.headers().map().flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
        return HttpResponse(response.statusCode(), headers, response.body())
    } catch (e: HttpTimeoutException) {
        throw TransportFailure.Timeout(e.toString())
    } catch (e: ConnectException) {
        throw TransportFailure.Unreachable(e.toString())
    } catch (e: java.io.IOException) {
        throw TransportFailure.Unreachable(e.toString())
    }
}

/** An HttpTransport over java.net.http.HttpClient, fully async. */
class JavaHttpTransport : HttpTransport {
    val client: HttpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    override suspend fun send(request: HttpRequest): HttpResponse {
        val built = javaRequest(request)
        return answer { client.sendAsync(built, java.net.http.HttpResponse.BodyHandlers.ofString()).await() }
    }
}

/** A BlockingHttpTransport over java.net.http.HttpClient's blocking `send`, on the caller's thread. */
class JavaBlockingHttpTransport : BlockingHttpTransport {
    val client: HttpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    override fun send(request: HttpRequest): HttpResponse =
        answer { client.send(javaRequest(request), java.net.http.HttpResponse.BodyHandlers.ofString()) }
}

/**
 * Local calls answer from `answers` (200 when unlisted; "network_error"
 * fails); the proxy accepts every job as job_1, job_2, ….
 */
class ScriptedNetwork(private val answers: Map<String, Any?> = emptyMap(), private val localDefault: Int = 200) : HttpTransport {
    val local = mutableListOf<List<String>>()
    val submitted = mutableListOf<Any?>()
    val gateway = mutableListOf<HttpRequest>()

    override suspend fun send(request: HttpRequest): HttpResponse {
        if (request.target == RequestTarget.GATEWAY) {
            gateway.add(request)
            @Suppress("UNCHECKED_CAST")
            val envelope = Json.parse(request.body ?: "") as Map<String, Any?>
            submitted.add(Json.parse(envelope["body"] as String))
            val answer = Json.write(mapOf("job_id" to "job_${submitted.size}", "status" to "queued"))
            val body = Json.write(mapOf("status" to "allowed", "forwarded_response" to mapOf("status_code" to 201L, "body" to answer)))
            return HttpResponse(200, emptyList(), body)
        }
        local.add(listOf(request.method, request.url))
        return when (val status = answers[request.url] ?: localDefault.toLong()) {
            "network_error" -> throw TransportFailure.Unreachable("connection refused")
            else -> HttpResponse((status as Number).toInt(), emptyList(), "body-of ${request.url}")
        }
    }
}
