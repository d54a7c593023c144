// OkHttp 4's API as far as the README's adapter uses it (Maven Central is not
// reachable here): the README's Kotlin compiles against it and the generated
// bindings, so a renamed field or type in the bindings breaks the build.
package okhttp3

import java.io.Closeable
import java.util.concurrent.TimeUnit

class OkHttpClient {
    fun newBuilder(): Builder = Builder()
    fun newCall(request: Request): Call = TODO("a stub: compiled, never run")

    class Builder {
        fun callTimeout(timeout: Long, unit: TimeUnit): Builder = this
        fun build(): OkHttpClient = OkHttpClient()
    }
}

class Request {
    class Builder {
        fun url(url: String): Builder = this
        fun method(method: String, body: RequestBody?): Builder = this
        fun addHeader(name: String, value: String): Builder = this
        fun build(): Request = Request()
    }
}

interface Call {
    fun execute(): Response
}

abstract class Response : Closeable {
    abstract val code: Int
    abstract val headers: Headers
    abstract val body: ResponseBody?
}

abstract class Headers : Iterable<Pair<String, String>>

abstract class ResponseBody {
    abstract fun string(): String
}

abstract class RequestBody {
    companion object {
        fun String.toRequestBody(): RequestBody = TODO("a stub: compiled, never run")
    }
}
