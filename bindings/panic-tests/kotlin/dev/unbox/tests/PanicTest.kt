package dev.unbox.tests

import dev.unbox.*
// Each generated package has its own InternalException: the probe is the FFI crate's.
import dev.unbox.InternalException
import dev.unbox.core.PayloadKind
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * A panic inside the shipped `release-ffi` library (built with the test-only `panic-probe`
 * feature by bindings/scripts/test-ffi-panics.sh) reaches Kotlin as an exception, and the
 * library keeps working afterwards.
 */
class PanicTest {
    @Test
    fun aPanicIsAnExceptionAndTheLibraryKeepsWorking() {
        repeat(3) {
            val error = assertThrows(InternalException::class.java) { panicProbe(true, "sync $it") }
            assertTrue(error.message!!.contains("panic probe: sync $it"), error.message)
        }
        // The same export without a panic: a typed error, so the library is still there.
        val typed = assertThrows(ProbeException.Failed::class.java) { panicProbe(false, "after") }
        assertEquals("the probe failed as asked: after", typed.message)
        // And the rest of the library works.
        val code = parseOnboardingCode("WIFI:T:WPA;S:home;P:secret12;;")
        assertEquals(PayloadKind.WIFI_NETWORK, code.kind())
    }

    @Test
    fun aPanicInAnAsyncCallIsAnExceptionAndTheRuntimeKeepsWorking() = runBlocking {
        repeat(3) {
            val error = assertThrows(InternalException::class.java) { runBlocking { panicProbeAsync(true, "async $it") } }
            assertTrue(error.message!!.contains("panic probe (async): async $it"), error.message)
        }
        assertEquals("still running", panicProbeAsync(false, "still running"))
    }
}
