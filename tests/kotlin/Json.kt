// A small JSON reader and writer for the suite (the JVM has none built in):
// objects are LinkedHashMap, arrays List, numbers Long or Double.
package suite

object Json {
    private const val MAX_EXACT = 9007199254740992.0 // 2^53

    fun parse(text: String): Any? = Reader(text).run { val v = value(); space(); require(at == s.length) { "trailing text at $at" }; v }

    fun write(value: Any?): String = when (value) {
        null -> "null"
        is String -> quote(value)
        is Boolean, is Long, is Int -> value.toString()
        // A whole Double as an integer only up to 2^53, where it is one exactly: 1.5E300 stays itself.
        is Double -> if (value == Math.floor(value) && Math.abs(value) <= MAX_EXACT) value.toLong().toString() else value.toString()
        is Map<*, *> -> value.entries.joinToString(",", "{", "}") { quote(it.key as String) + ":" + write(it.value) }
        is List<*> -> value.joinToString(",", "[", "]") { write(it) }
        else -> error("not JSON: $value")
    }

    private fun quote(s: String): String = buildString {
        append('"')
        for (c in s) when {
            c == '"' -> append("\\\"")
            c == '\\' -> append("\\\\")
            c == '\n' -> append("\\n")
            c == '\r' -> append("\\r")
            c == '\t' -> append("\\t")
            c < ' ' -> append("\\u%04x".format(c.code))
            else -> append(c)
        }
        append('"')
    }

    private class Reader(val s: String) {
        var at = 0
        fun space() { while (at < s.length && s[at].isWhitespace()) at++ }
        fun value(): Any? {
            space()
            return when (val c = s[at]) {
                '{' -> { at++; val m = LinkedHashMap<String, Any?>(); space()
                    if (s[at] == '}') { at++; return m }
                    while (true) { space(); val k = string(); space(); expect(':'); m[k] = value(); space()
                        if (s[at] == ',') at++ else { expect('}'); return m } } ; @Suppress("UNREACHABLE_CODE") m }
                '[' -> { at++; val l = ArrayList<Any?>(); space()
                    if (s[at] == ']') { at++; return l }
                    while (true) { l.add(value()); space(); if (s[at] == ',') at++ else { expect(']'); return l } } ; @Suppress("UNREACHABLE_CODE") l }
                '"' -> string()
                't' -> { at += 4; true }
                'f' -> { at += 5; false }
                'n' -> { at += 4; null }
                else -> { val start = at; while (at < s.length && (s[at].isDigit() || s[at] in "+-.eE")) at++
                    val t = s.substring(start, at); require(t.isNotEmpty()) { "unexpected '$c' at $start" }
                    t.toLongOrNull() ?: t.toDouble() }
            }
        }
        fun expect(c: Char) { require(s[at] == c) { "expected '$c' at $at" }; at++ }
        fun string(): String {
            expect('"')
            val out = StringBuilder()
            while (true) {
                val c = s[at++]
                when (c) {
                    '"' -> return out.toString()
                    '\\' -> when (val e = s[at++]) {
                        'n' -> out.append('\n'); 't' -> out.append('\t'); 'r' -> out.append('\r')
                        'b' -> out.append('\b'); 'f' -> out.append('\u000c')
                        'u' -> { out.append(s.substring(at, at + 4).toInt(16).toChar()); at += 4 }
                        else -> out.append(e)
                    }
                    else -> out.append(c)
                }
            }
        }
    }
}
