package dev.unbox.android.logging

import android.util.Log
import dev.unbox.LogLevel
import dev.unbox.LogRecord
import dev.unbox.Logger

/**
 * Forwards the library's log records to logcat under [tag] (the library never logs secrets).
 * Install with `setLogger(LogcatLogger(), LogLevel.INFO)`.
 */
class LogcatLogger(private val tag: String = "Unbox") : Logger {
    override fun log(record: LogRecord) {
        val message = "${record.target}: ${record.message}"
        when (record.level) {
            LogLevel.TRACE -> Log.v(tag, message)
            LogLevel.DEBUG -> Log.d(tag, message)
            LogLevel.INFO -> Log.i(tag, message)
            LogLevel.WARN -> Log.w(tag, message)
            LogLevel.ERROR -> Log.e(tag, message)
        }
    }
}
