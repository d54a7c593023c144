"""Post-process the generated Kotlin: measured costs of JNA removed, errors made readable.

1. Reuse each thread's UniffiRustCallStatus.

uniffi's Kotlin allocates a UniffiRustCallStatus (a JNA structure holding a
structure) for every call into Rust, and JNA 5 takes ~20 us to construct one:
more than the call itself. Measured on the JVM here: Step() 44 -> 9 us,
payloadJson 34 -> 9 us, verifySignature 201 -> 72 us.

The replacement keeps a few free statuses per thread, as a stack: a call
takes the top one (or allocates when none is left) and gives it back when
done, so no two calls in flight share one. Calls nest on one thread: an
argument's lowering (cloning an object's handle) runs inside the call that
takes it, and a transport's callback frees the request's buffer and
allocates the response's inside `executeBlocking`; with one kept status each
of those allocated its own (a FRUGAL step with a canned answer: 53 -> 32 us).
The exact text replaced is asserted: a uniffi upgrade that changes it fails
here instead of silently losing the patch.

2. Keep a native thread attached after it resumes a coroutine. A finished
Rust future wakes its Kotlin caller from the thread that finished it (the
built-in transport's workers). JNA attaches that thread to the JVM for the
callback and, by default, detaches it after: ≈ 100 µs per call, measured
here (execute 566 -> 467 µs). The workers are kept and capped, so staying
attached costs a few Thread objects; JNA detaches them when they end.

3. An exception's `message` is its human text. uniffi writes each
variant's `message` as `field=value, …` (`path=url, detail=must be …`);
the patched one asks Rust for the error's Display (`invalid url: must be
…`), the text every other binding shows.

4. A transport's exception is kept as the `cause`. uniffi hands Rust only
the text of an exception an app's HttpTransport throws; the patched glue
keeps the exception (in a small bounded table, under a number it appends to
the text), and when that text comes back in an `EzThrottleException
.Unreachable`, takes the number out again and sets the exception as its
cause. A kept exception whose text never comes back (a FRUGAL step that
forwarded after it) is dropped once 256 newer ones are kept.

5. A callback's structures over the memory Rust passed. JNA builds a
callback's out-parameter (`RustBuffer`) and its `UniffiRustCallStatus`
through a structure's `(Pointer)` constructor when it has one, over the
memory Rust passed; without one it allocates native memory of its own (a
malloc, a map entry and a cleaner registration, freed later by JNA's cleaner
thread, which on two cores competes with the HTTP client's threads) and then
uses Rust's memory anyway. The status's `error_buf` is JNA's own, set as the
status is built, instead of a second one allocated by an initializer. A
by-value `RustBuffer` gets a `(Pointer)` constructor too, but only JNA's
placeholder (a zero address, for a field of a structure being built) is used
as it is: a by-value result from Rust comes over a temporary and is copied
into memory of its own, as JNA does without the constructor. A FRUGAL step
with a canned answer: 32 -> ~20 us; against the sandbox, ~70 -> 50-65 us
outside the transport's `send` (noisy there). Both classes also list their
fields once per class (JNA copies the class's declared fields by reflection
for every structure it builds): ~2 us more.

6. RustBuffer and the call status read and write their fields themselves.
JNA's `read` and `write` go through each field by reflection (a map of
fields, a set of structures being read, a boxed value per field), before
and after every call. RustBuffer's offsets are fixed by the ABI (two u64s,
then a pointer); the status's buffer is at the offset JNA computed. A
status read with an error gets a buffer of its own to lift and free (the
one JNA nests in it may still be over its placeholder).

7. Strings are encoded with String's own UTF-8 (a copy of the bytes for
most strings) instead of a new CharsetEncoder per string; a string with a
surrogate still goes through the encoder, which refuses a lone one (a
CharacterCodingException), as uniffi's code does.

8. A by-value RustBuffer's native memory is reused. JNA gives each one
fresh memory (a malloc, an entry in a shared map, a cleaner registration,
freed later on JNA's cleaner thread), and a FRUGAL step makes several. The
memory comes back to a small per-thread stack only when its structure is
provably dead: after `RustBuffer.free`, and after `setValue` copied a
callback's lowered result (the patch checks that every call is one).

A FRUGAL step with a canned answer: 6 and 7, ~23.5 -> ~18 us (payloadJson
~4.8 -> ~3.6 us); with 8, the status's own read and write and the field
lists kept sorted, ~11.5-12.5 us (payloadJson ~2.4 us).

9. Java can implement a transport and call the companions. Kotlin declares
no checked exceptions, so a Java class implementing BlockingHttpTransport
could not throw TransportFailure (javac refuses an override that throws
more than the interface's `send`), and the companions' constructors were
`EzThrottle.Companion.withBlockingTransport` in Java. `send` now declares
`@Throws(TransportFailure::class)` and the companions' functions are
`@JvmStatic`. A record with defaults took every argument in Java (nineteen
for StepOptions); its constructor is now `@JvmOverloads`, so Java leaves out
the trailing ones (`new ClientOptions(apiKey, tracktagsUrl)`).

10. An app transport's `send` starts on the caller's thread. uniffi
launches each call of a suspending foreign method on `Dispatchers.Default`
and resumes it there after every suspension: two hand-offs between threads
per request beyond the app's own (its `withContext(Dispatchers.IO)`, or
java.net.http's executor), on top of the one back to the caller. The patched
launch starts `send` at once on the thread that asked for it, as a suspend
function called directly runs, and resumes it wherever it was resumed (the
app's dispatcher decides). Started undispatched rather than through
`Dispatchers.Unconfined`'s queue, so a blocking call (`executeBlocking`)
made inside an unconfined coroutine cannot wait on a send queued behind it.

    python3 patch-kotlin.py path/to/ezthrottle.kt
"""
import re
import sys

ORIGINAL = '''private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    var status = UniffiRustCallStatus()
    val return_value = callback(status)
    uniffiCheckCallStatus(errorHandler, status)
    return return_value
}'''

PATCHED = '''private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    val status = UniffiCallStatusPool.acquire()
    try {
        val return_value = callback(status)
        uniffiCheckCallStatus(errorHandler, status)
        return return_value
    } finally {
        UniffiCallStatusPool.release(status)
    }
}

// Added by bindings-uniffi/patch-kotlin.py: JNA takes ~20 us to construct a
// UniffiRustCallStatus, so each thread keeps a few free. Calls nest (an
// argument's lowering runs inside the call that takes it; a callback frees
// and allocates buffers inside the call that made it), so each thread keeps
// a small stack: a call takes the top one and gives it back when done.
private object UniffiCallStatusPool {
    private const val KEPT = 4
    private class Free {
        val statuses = arrayOfNulls<UniffiRustCallStatus>(KEPT)
        var count = 0
    }
    private val free = ThreadLocal.withInitial { Free() }

    fun acquire(): UniffiRustCallStatus {
        val kept = free.get()
        if (kept.count == 0) return UniffiRustCallStatus()
        kept.count -= 1
        val status = kept.statuses[kept.count]!!
        kept.statuses[kept.count] = null
        status.code = UNIFFI_CALL_SUCCESS
        status.error_buf.capacity = 0
        status.error_buf.len = 0
        status.error_buf.data = null
        return status
    }

    fun release(status: UniffiRustCallStatus) {
        val kept = free.get()
        if (kept.count < KEPT) {
            kept.statuses[kept.count] = status
            kept.count += 1
        }
    }
}'''


CALLBACK = '''internal object uniffiRustFutureContinuationCallbackImpl: UniffiRustFutureContinuationCallback {
'''

CALLBACK_PATCHED = CALLBACK + '''    // Added by bindings-uniffi/patch-kotlin.py: stay attached (see there).
    init {
        com.sun.jna.Native.setCallbackThreadInitializer(
            this, com.sun.jna.CallbackThreadInitializer(true, false, "ezthrottle-http"))
    }
'''

PATCHES = [("uniffiRustCallWithError", ORIGINAL, PATCHED), ("the continuation callback", CALLBACK, CALLBACK_PATCHED)]

THROWN = '''            } else {
                handleError(
                    UniffiRustCallStatus.create(
                        UNIFFI_CALL_UNEXPECTED_ERROR,
                        FfiConverterString.lower(e.toString()),
                    )
                )
            }
            return@coroutineBlock'''

THROWN_PATCHED = '''            } else {
                handleError(
                    UniffiRustCallStatus.create(
                        UNIFFI_CALL_UNEXPECTED_ERROR,
                        FfiConverterString.lower(UniffiCauses.keep(e)),
                    )
                )
            }
            return@coroutineBlock'''

UNREACHABLE = '''            8 -> EzThrottleException.Unreachable(
                FfiConverterString.read(buf),
                FfiConverterString.read(buf),
                )'''

UNREACHABLE_PATCHED = '''            8 -> UniffiCauses.restore(
                FfiConverterString.read(buf),
                FfiConverterString.read(buf),
                )'''

CAUSES = r'''
// Added by bindings-uniffi/patch-kotlin.py: each structure class's fields,
// listed once. JNA lists them by reflection (a copy of the class's declared
// fields) every time a structure is built. The list is kept in the fields'
// order: JNA only reads it, but for sorting it in place once per class,
// which then swaps nothing.
private val uniffiFieldLists = java.util.concurrent.ConcurrentHashMap<Class<*>, MutableList<java.lang.reflect.Field>>()
// Added by bindings-uniffi/patch-kotlin.py: the native memory of by-value
// RustBuffers, kept per thread. JNA gives each one fresh memory (a malloc,
// an entry in a shared map, a cleaner registration, freed later on JNA's
// cleaner thread); a call makes several and frees their buffers before it
// returns. Memory comes back only where its structure is never used again
// (RustBuffer.free, and setValue's copy of a callback's result); any other
// keeps its memory, and the next buffer takes a new one.
internal object UniffiBufferMemory {
    private const val KEPT = 8
    private class Kept : com.sun.jna.Memory {
        constructor(size: Long) : super(size)
    }
    private class Free {
        val memory = arrayOfNulls<Kept>(KEPT)
        var count = 0
    }
    private val free = ThreadLocal.withInitial { Free() }

    fun take(size: Int): com.sun.jna.Memory {
        val kept = free.get()
        if (kept.count > 0 && kept.memory[kept.count - 1]!!.size() == size.toLong()) {
            kept.count -= 1
            val memory = kept.memory[kept.count]!!
            kept.memory[kept.count] = null
            memory.clear()
            return memory
        }
        return Kept(size.toLong()).also { it.clear() }
    }

    fun give(memory: Pointer) {
        if (memory !is Kept) return
        val kept = free.get()
        if (kept.count < KEPT) {
            kept.memory[kept.count] = memory
            kept.count += 1
        }
    }
}
// Added by bindings-uniffi/patch-kotlin.py: a transport's exception kept as
// the cause of the EzThrottleException.Unreachable it becomes (see there).
internal object UniffiCauses {
    private const val KEPT = 256
    private val marker = Regex(""" \[cause #(\d+)]""")
    private val kept = object : java.util.LinkedHashMap<Long, Throwable>() {
        override fun removeEldestEntry(eldest: MutableMap.MutableEntry<Long, Throwable>) = size > KEPT
    }
    private var next = 0L

    fun keep(e: Throwable): String = synchronized(kept) {
        next += 1
        kept[next] = e
        "$e [cause #$next]"
    }

    fun restore(kind: String, detail: String): EzThrottleException.Unreachable {
        val found = marker.find(detail) ?: return EzThrottleException.Unreachable(kind, detail)
        val cause = synchronized(kept) { kept.remove(found.groupValues[1].toLong()) }
        val error = EzThrottleException.Unreachable(kind, detail.removeRange(found.range))
        cause?.let { error.initCause(it) }
        return error
    }
}
'''


BUFFER = '''open class RustBuffer : Structure() {
    // Note: `capacity` and `len` are actually `ULong` values, but JVM only supports signed values.
    // When dealing with these fields, make sure to call `toULong()`.
    @JvmField var capacity: Long = 0
    @JvmField var len: Long = 0
    @JvmField var data: Pointer? = null

    class ByValue: RustBuffer(), Structure.ByValue
    class ByReference: RustBuffer(), Structure.ByReference
'''

BUFFER_PATCHED = '''open class RustBuffer : Structure {
    constructor() : super()
    // Added by bindings-uniffi/patch-kotlin.py: a callback's out-parameter,
    // over the memory Rust passed (see there); none allocates its own.
    constructor(memory: Pointer?) : super(memory)
    override fun getFieldList(): MutableList<java.lang.reflect.Field> =
        uniffiFieldLists.getOrPut(javaClass) { java.util.ArrayList(super.getFieldList().sortedBy { fieldOrder.indexOf(it.name) }) }
    // Added by bindings-uniffi/patch-kotlin.py: the three fields read and
    // written directly (JNA's own read and write go through reflection for
    // each field). The offsets are the same on every ABI: two u64s, then a
    // pointer. A placeholder (zero address) is skipped, as JNA skips it.
    override fun read() {
        val memory = pointer
        if (Pointer.nativeValue(memory) == 0L) return
        capacity = memory.getLong(0)
        len = memory.getLong(8)
        data = memory.getPointer(16)
    }
    override fun write() {
        val memory = pointer
        if (Pointer.nativeValue(memory) == 0L) return
        memory.setLong(0, capacity)
        memory.setLong(8, len)
        memory.setPointer(16, data)
    }

    // Note: `capacity` and `len` are actually `ULong` values, but JVM only supports signed values.
    // When dealing with these fields, make sure to call `toULong()`.
    @JvmField var capacity: Long = 0
    @JvmField var len: Long = 0
    @JvmField var data: Pointer? = null

    class ByValue: RustBuffer, Structure.ByValue {
        constructor() : super()
        // JNA builds a structure's by-value fields over a placeholder (a
        // zero address) until the structure around them is read or written;
        // any other memory (a by-value result) is copied into its own, as
        // JNA does without this constructor.
        constructor(memory: Pointer) : super(if (Pointer.nativeValue(memory) == 0L) memory else null) {
            if (Pointer.nativeValue(memory) != 0L) useMemory(memory)
        }
        // Memory this thread kept from a freed buffer, when it has one.
        override fun autoAllocate(size: Int): com.sun.jna.Memory = UniffiBufferMemory.take(size)
    }
    class ByReference: RustBuffer(), Structure.ByReference
'''

STATUS = '''internal open class UniffiRustCallStatus : Structure() {
    @JvmField var code: Byte = 0
    @JvmField var error_buf: RustBuffer.ByValue = RustBuffer.ByValue()

    class ByValue: UniffiRustCallStatus(), Structure.ByValue
'''

STATUS_PATCHED = '''internal open class UniffiRustCallStatus : Structure {
    constructor() : super()
    // Added by bindings-uniffi/patch-kotlin.py: a callback's status, over the
    // memory Rust passed (see there).
    constructor(memory: Pointer) : super(memory)
    override fun getFieldList(): MutableList<java.lang.reflect.Field> =
        uniffiFieldLists.getOrPut(javaClass) { java.util.ArrayList(super.getFieldList().sortedBy { fieldOrder.indexOf(it.name) }) }

    @JvmField var code: Byte = 0
    // JNA sets it as it constructs this structure: an initializer here would
    // allocate a second one and throw the first away.
    lateinit var error_buf: RustBuffer.ByValue

    // Read and written directly, as RustBuffer is (see there). The buffer's
    // offset is JNA's (it depends on the ABI's alignment of a u64). A
    // status read with an error gets a buffer of its own to lift and free:
    // the one JNA nests may still be over its placeholder.
    override fun read() {
        val memory = pointer
        if (Pointer.nativeValue(memory) == 0L) return
        code = memory.getByte(0)
        if (code == UNIFFI_CALL_SUCCESS) return
        val at = fieldOffset("error_buf").toLong()
        error_buf = RustBuffer.ByValue().also {
            it.capacity = memory.getLong(at)
            it.len = memory.getLong(at + 8)
            it.data = memory.getPointer(at + 16)
        }
    }
    override fun write() {
        val memory = pointer
        if (Pointer.nativeValue(memory) == 0L) return
        memory.setByte(0, code)
        val at = fieldOffset("error_buf").toLong()
        memory.setLong(at, error_buf.capacity)
        memory.setLong(at + 8, error_buf.len)
        memory.setPointer(at + 16, error_buf.data)
    }

    class ByValue: UniffiRustCallStatus(), Structure.ByValue
'''

UTF8 = '''    fun toUtf8(value: String): ByteBuffer {
        // Make sure we don't have invalid UTF-16, check for lone surrogates.
        return Charsets.UTF_8.newEncoder().run {
            onMalformedInput(CodingErrorAction.REPORT)
            encode(CharBuffer.wrap(value))
        }
    }'''

UTF8_PATCHED = '''    fun toUtf8(value: String): ByteBuffer {
        // Added by bindings-uniffi/patch-kotlin.py: String's own encoding
        // (a copy, for most strings) unless the string has a surrogate,
        // which the encoder checks: a lone one is refused, not replaced.
        for (i in 0 until value.length) {
            if (Character.isSurrogate(value[i])) {
                return Charsets.UTF_8.newEncoder().run {
                    onMalformedInput(CodingErrorAction.REPORT)
                    encode(CharBuffer.wrap(value))
                }
            }
        }
        return ByteBuffer.wrap(value.toByteArray(Charsets.UTF_8))
    }'''

FREE = '''        internal fun free(buf: RustBuffer.ByValue) = uniffiRustCall() { status ->
            UniffiLib.ffi_ezthrottle_rustbuffer_free(buf, status)
        }'''

FREE_PATCHED = '''        internal fun free(buf: RustBuffer.ByValue) {
            uniffiRustCall() { status ->
                UniffiLib.ffi_ezthrottle_rustbuffer_free(buf, status)
            }
            // Added by bindings-uniffi/patch-kotlin.py: a freed buffer's
            // structure is never used again; its memory serves the next.
            UniffiBufferMemory.give(buf.pointer)
        }'''

SET_VALUE = '''   internal fun setValue(other: RustBuffer) {
        capacity = other.capacity
        len = other.len
        data = other.data
    }'''

SET_VALUE_PATCHED = '''   internal fun setValue(other: RustBuffer) {
        capacity = other.capacity
        len = other.len
        data = other.data
        // Added by bindings-uniffi/patch-kotlin.py: `other` is a callback's
        // lowered result, never used again (patch-kotlin.py checks each
        // call); its memory serves the next buffer.
        UniffiBufferMemory.give(other.pointer)
    }'''

# Each call of setValue hands it a temporary: a callback's lowered result.
SET_VALUE_CALL = re.compile(r"\.setValue\(")
SET_VALUE_TEMPORARY = re.compile(r"uniffiOutReturn\.setValue\(FfiConverter\w+\.lower\(value\)\)")

PATCHES += [("FfiConverterString.toUtf8", UTF8, UTF8_PATCHED), ("RustBuffer.free", FREE, FREE_PATCHED),
            ("RustBuffer.setValue", SET_VALUE, SET_VALUE_PATCHED)]

PATCHES += [("RustBuffer's constructors", BUFFER, BUFFER_PATCHED), ("UniffiRustCallStatus's constructors", STATUS, STATUS_PATCHED)]

PATCHES += [("the foreign call's unexpected exception", THROWN, THROWN_PATCHED), ("EzThrottleException.Unreachable's lifting", UNREACHABLE, UNREACHABLE_PATCHED)]

# 9: Java. A fourth item is how many times the text occurs (otherwise once).
PATCHES += [
    ("the transports' send", "    fun `send`(`request`: HttpRequest): HttpResponse\n",
     "    @Throws(TransportFailure::class)\n    fun `send`(`request`: HttpRequest): HttpResponse\n", 2),
    ("EzThrottle.withBlockingTransport", "    @Throws(EzThrottleException::class) fun `withBlockingTransport`(",
     "    @JvmStatic @Throws(EzThrottleException::class) fun `withBlockingTransport`("),
    ("Step.withOptions", "    @Throws(EzThrottleException::class) fun `withOptions`(",
     "    @JvmStatic @Throws(EzThrottleException::class) fun `withOptions`("),
]

# 10: a foreign call starts on the caller's thread; the count is the two
# launch sites (with and without a typed error).
PATCHES += [
    ("the foreign calls' launch", "    val job = GlobalScope.launch coroutineBlock@ {\n",
     "    val job = GlobalScope.launch(kotlinx.coroutines.Dispatchers.Unconfined, "
     "kotlinx.coroutines.CoroutineStart.UNDISPATCHED) coroutineBlock@ {\n", 2),
]

# 9: records whose constructor has defaults; how many there are, checked.
RECORD = re.compile(r"^data class (\w+) \(\n(.*?)\n\)\{", re.S | re.M)
RECORDS_WITH_DEFAULTS = 6


def java_overloads(path, text):
    count = 0

    def overload(record):
        nonlocal count
        if " = " not in record.group(2):
            return record.group(0)
        count += 1
        return record.group(0).replace(f"data class {record.group(1)} (", f"data class {record.group(1)} @JvmOverloads constructor(", 1)

    text = RECORD.sub(overload, text)
    if count != RECORDS_WITH_DEFAULTS:
        sys.exit(f"{path}: {count} records with defaults, expected {RECORDS_WITH_DEFAULTS}; update patch-kotlin.py")
    return text


# The EzThrottleException class, up to its companion; each variant's message.
EXCEPTION = re.compile(r"sealed class EzThrottleException: kotlin\.Exception\(\) \{.*?companion object ErrorHandler", re.S)
MESSAGE = re.compile(r"(override val message\n\s*get\(\) = )\"[^\n]*\"")
EXCEPTION_VARIANTS = 12


def human_messages(path, text):
    block = EXCEPTION.search(text)
    if block is None:
        sys.exit(f"{path}: no EzThrottleException class; update patch-kotlin.py")
    patched, count = MESSAGE.subn(r"\1describe()", block.group(0))
    if count != EXCEPTION_VARIANTS:
        sys.exit(f"{path}: {count} EzThrottleException messages, expected {EXCEPTION_VARIANTS}; update patch-kotlin.py")
    return text[:block.start()] + patched + text[block.end():]


def main():
    path = sys.argv[1]
    with open(path) as f:
        text = f.read()
    for name, original, patched, *times in PATCHES:
        expected = times[0] if times else 1
        if text.count(original) != expected:
            sys.exit(f"{path}: {name} is not the text this patch expects "
                     f"({text.count(original)} found, {expected} expected); update patch-kotlin.py")
        text = text.replace(original, patched)
    if len(SET_VALUE_CALL.findall(text)) != len(SET_VALUE_TEMPORARY.findall(text)):
        sys.exit(f"{path}: RustBuffer.setValue is called with something other than a lowered result; update patch-kotlin.py")
    text = human_messages(path, text)
    text = java_overloads(path, text)
    text += CAUSES
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
