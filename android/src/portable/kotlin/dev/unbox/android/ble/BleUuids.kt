package dev.unbox.android.ble

import java.util.UUID

/** UUID spelling: the library passes lower-case 128-bit strings; the platform uses [UUID]. */
object BleUuids {
    private const val BASE_SUFFIX = "-0000-1000-8000-00805f9b34fb"
    private val SHORT = Regex("(?:0x)?([0-9a-fA-F]{4}|[0-9a-fA-F]{8})")
    private val FULL = Regex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

    /** The Characteristic User Description descriptor (0x2901), which names protocomm endpoints. */
    val USER_DESCRIPTION: UUID = UUID.fromString("00002901$BASE_SUFFIX")

    /** The Client Characteristic Configuration descriptor (0x2902), written to subscribe. */
    val CLIENT_CONFIGURATION: UUID = UUID.fromString("00002902$BASE_SUFFIX")

    /**
     * [text] as a [UUID]: a full 128-bit UUID, or a 16- or 32-bit one (`2901`, `0x2901`) on the
     * Bluetooth base UUID. Null when it is none of these.
     */
    fun parse(text: String): UUID? {
        val trimmed = text.trim()
        if (FULL.matches(trimmed)) return UUID.fromString(trimmed)
        val short = SHORT.matchEntire(trimmed)?.groupValues?.get(1) ?: return null
        return UUID.fromString(short.padStart(8, '0') + BASE_SUFFIX)
    }

    /** The library's spelling of [uuid]: lower-case, 128-bit. */
    fun format(uuid: UUID): String = uuid.toString().lowercase()
}
