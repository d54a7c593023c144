// What the README's Kotlin takes from the app around it.
package readme

fun traceId(): String = "trace-1"
