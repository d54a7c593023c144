// The built-in HTTP client on its own, against the sandbox: requests of the
// app's own, and wrapped as an app transport that meters the SDK's requests.
package suite

import dev.ezthrottle.BlockingHttpTransport
import dev.ezthrottle.BuiltinHttpTransport
import dev.ezthrottle.ClientOptions
import dev.ezthrottle.EzThrottle
import dev.ezthrottle.ExecuteResult
import dev.ezthrottle.HttpHeader
import dev.ezthrottle.HttpRequest
import dev.ezthrottle.HttpResponse
import dev.ezthrottle.IdempotentStrategy
import dev.ezthrottle.RequestTarget
import dev.ezthrottle.Step
import dev.ezthrottle.StepOptions
import dev.ezthrottle.StepType
import dev.ezthrottle.TransportFailure
import java.net.ServerSocket
import java.net.Socket
import kotlin.concurrent.thread

/** Counts each request by target and marks it, then hands it on. */
private class Metered(private val inner: BuiltinHttpTransport) : BlockingHttpTransport {
    val sent = mutableMapOf<RequestTarget, Int>()

    override fun send(request: HttpRequest): HttpResponse {
        sent.merge(request.target, 1, Int::plus)
        return inner.send(request.copy(headers = request.headers + HttpHeader("X-Metered", "1")))
    }
}

/** Runs `block` with the port of a loopback server that treats one connection with `treat`, then closes it. */
private fun servingOnce(treat: (Socket) -> Unit, block: (Int) -> Unit) {
    ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()).use { server ->
        val peer = thread { server.accept().use(treat) }
        block(server.localPort)
        peer.join()
    }
}

suspend fun builtinHttp(base: String, key: String) {
    val http = BuiltinHttpTransport()
    fun request(url: String, timeoutMs: Long = 5_000, method: String = "GET", body: String? = null) =
        HttpRequest(RequestTarget.LOCAL, method, url, listOf(HttpHeader("X-Trace", "t1")), body, timeoutMs)

    Check.test("[built-in HTTP] sends the app's own request whole; any status is a response") {
        val echoed = http.send(request("$base/upstream/echo", method = "PUT", body = "héllo ☃"))
        check(echoed.status == 200 && echoed.headers.any { it.name == "content-type" }) { "$echoed" }
        @Suppress("UNCHECKED_CAST")
        val seen = Json.parse(echoed.body) as Map<String, Any?>
        check(seen["method"] == "PUT" && seen["body"] == "héllo ☃") { echoed.body }
        check((seen["headers"] as Map<*, *>)["x-trace"] == "t1") { echoed.body }
        check(http.send(request("$base/upstream/status/503")).status == 503) { "503 is an answer" }
    }
    Check.test("[built-in HTTP] failures are typed: timeout, unreachable") {
        val slow = expectThrows<TransportFailure.Timeout> { http.send(request("$base/upstream/delay/2000", timeoutMs = 100)) }
        check("time" in slow.detail.lowercase()) { slow.detail }
        expectThrows<TransportFailure.Timeout> { http.send(request("$base/upstream/status/200", timeoutMs = -1)) }
        val closed = ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()).use { it.localPort }
        expectThrows<TransportFailure.Unreachable> { http.send(request("http://127.0.0.1:$closed/")) }
        // No answer came back, as from a refused connection: a peer that
        // hangs up, and a TLS handshake with a peer that speaks no TLS.
        servingOnce({ it.getInputStream().read(ByteArray(4096)) }) { port ->
            expectThrows<TransportFailure.Unreachable> { http.send(request("http://127.0.0.1:$port/")) }
        }
        servingOnce({ it.getOutputStream().write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".toByteArray()) }) { port ->
            expectThrows<TransportFailure.Unreachable> { http.send(request("https://127.0.0.1:$port/")) }
        }
    }
    Check.test("[built-in HTTP] wrapped as the app's transport: every SDK request goes through it") {
        val metered = Metered(http)
        val client = EzThrottle.withBlockingTransport(ClientOptions(apiKey = key, tracktagsUrl = base), metered)
        val local = client.executeBlocking(Step.withOptions(StepOptions(url = "$base/upstream/echo", stepType = StepType.FRUGAL)))
        check(local is ExecuteResult.Local && local.success && "x-metered" in local.response) { "$local" }
        val submitted = client.executeBlocking(Step.withOptions(StepOptions(url = "$base/upstream/status/200", idempotentStrategy = IdempotentStrategy.UNIQUE)))
        check(submitted is ExecuteResult.Submitted && submitted.answer.status == "queued") { "$submitted" }
        check(metered.sent == mapOf(RequestTarget.LOCAL to 1, RequestTarget.GATEWAY to 1)) { "${metered.sent}" }
    }
}
