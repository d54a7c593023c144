// A tiny test harness: named checks, a summary, an exit code.
package suite

object Check {
    var passed = 0
    val failures = mutableListOf<String>()

    suspend fun test(name: String, body: suspend () -> Unit) {
        try {
            body()
            passed++
        } catch (e: Throwable) {
            failures.add("$name: ${e::class.simpleName}: ${e.message}")
            println("FAIL $name: ${e::class.simpleName}: ${e.message}")
        }
    }

    fun finish(): Int {
        println("$passed passed, ${failures.size} failed")
        return if (failures.isEmpty()) 0 else 1
    }
}

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

inline fun <reified E : Throwable> expectThrows(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got ${e::class.simpleName}: ${e.message}")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was thrown")
}
