package dev.unbox.android.ble

import java.util.UUID

/** The GATT descriptors the shell uses (16-bit UUIDs on the Bluetooth base UUID). */
object BleUuids {
    private const val BASE_SUFFIX = "-0000-1000-8000-00805f9b34fb"

    /** The Characteristic User Description descriptor (0x2901), which names protocomm endpoints. */
    val USER_DESCRIPTION: UUID = UUID.fromString("00002901$BASE_SUFFIX")

    /** The Client Characteristic Configuration descriptor (0x2902), written to subscribe. */
    val CLIENT_CONFIGURATION: UUID = UUID.fromString("00002902$BASE_SUFFIX")
}
