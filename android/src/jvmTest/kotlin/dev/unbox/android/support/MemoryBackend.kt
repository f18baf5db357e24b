package dev.unbox.android.support

import dev.unbox.android.storage.BlobBackend
import java.io.IOException
import java.util.concurrent.ConcurrentHashMap

/** A [BlobBackend] in memory; [failing] makes every call fail as a full disk would. */
class MemoryBackend : BlobBackend {
    val blobs = ConcurrentHashMap<String, ByteArray>()

    @Volatile var failing = false

    override fun read(name: String): ByteArray? = check().let { blobs[name]?.copyOf() }

    override fun write(name: String, blob: ByteArray) {
        check()
        blobs[name] = blob.copyOf()
    }

    override fun remove(name: String) {
        check()
        blobs.remove(name)
    }

    private fun check() {
        if (failing) throw IOException("no space left on device")
    }
}
