package dev.unbox.android.robolectric

import android.security.keystore.KeyGenParameterSpec
import java.io.InputStream
import java.io.OutputStream
import java.security.Key
import java.security.KeyStoreSpi
import java.security.Provider
import java.security.SecureRandom
import java.security.Security
import java.security.cert.Certificate
import java.security.spec.AlgorithmParameterSpec
import java.util.Collections
import java.util.Date
import java.util.Enumeration
import javax.crypto.KeyGeneratorSpi
import javax.crypto.SecretKey
import javax.crypto.spec.SecretKeySpec

/**
 * A test-only stand-in for the Android Keystore (Robolectric has none): a JCA provider named
 * `AndroidKeyStore` with a `KeyStore` of secret keys in memory and an AES `KeyGenerator` that
 * takes a [KeyGenParameterSpec], records it and stores the key under its alias. The keys are
 * ordinary AES keys, so the real ciphers of the JVM seal with them; [invalidate] replaces one
 * with a key every cipher refuses, as the Keystore refuses a key invalidated by a lock-screen
 * change.
 */
class TestKeystoreProvider : Provider(NAME, "1.0", "test-only Android Keystore") {
    init {
        put("KeyStore.$NAME", Store::class.java.name)
        put("KeyGenerator.AES", Generator::class.java.name)
    }

    /** The keys by alias. */
    class Store : KeyStoreSpi() {
        override fun engineGetKey(alias: String, password: CharArray?): Key? = keys[alias]
        override fun engineGetCertificateChain(alias: String): Array<Certificate>? = null
        override fun engineGetCertificate(alias: String): Certificate? = null
        override fun engineGetCreationDate(alias: String): Date? = if (alias in keys) Date(0) else null
        override fun engineSetKeyEntry(alias: String, key: Key, password: CharArray?, chain: Array<out Certificate>?) {
            keys[alias] = key as SecretKey
        }
        override fun engineSetKeyEntry(alias: String, key: ByteArray, chain: Array<out Certificate>?) =
            throw UnsupportedOperationException("the Android Keystore imports no encoded keys")
        override fun engineSetCertificateEntry(alias: String, cert: Certificate) = throw UnsupportedOperationException()
        override fun engineDeleteEntry(alias: String) {
            keys.remove(alias)
        }
        override fun engineAliases(): Enumeration<String> = Collections.enumeration(keys.keys.toList())
        override fun engineContainsAlias(alias: String): Boolean = alias in keys
        override fun engineSize(): Int = keys.size
        override fun engineIsKeyEntry(alias: String): Boolean = alias in keys
        override fun engineIsCertificateEntry(alias: String): Boolean = false
        override fun engineGetCertificateAlias(cert: Certificate): String? = null
        override fun engineStore(stream: OutputStream?, password: CharArray?) = Unit
        override fun engineLoad(stream: InputStream?, password: CharArray?) = Unit
    }

    /** AES keys made from a [KeyGenParameterSpec], kept in [Store]. */
    class Generator : KeyGeneratorSpi() {
        private var spec: KeyGenParameterSpec? = null

        override fun engineInit(random: SecureRandom?) = throw IllegalStateException("the Android Keystore needs a KeyGenParameterSpec")
        override fun engineInit(keysize: Int, random: SecureRandom?) = engineInit(random)
        override fun engineInit(params: AlgorithmParameterSpec, random: SecureRandom?) {
            spec = params as KeyGenParameterSpec
        }

        override fun engineGenerateKey(): SecretKey {
            val spec = requireNotNull(spec) { "not initialised" }
            specs += spec
            val key = SecretKeySpec(ByteArray(spec.keySize / 8).also(SecureRandom()::nextBytes), "AES")
            keys[spec.keystoreAlias] = key
            return key
        }
    }

    /** A key the Keystore no longer lets anyone use. */
    private class InvalidatedKey : SecretKey {
        override fun getAlgorithm() = "AES"
        override fun getFormat() = "RAW"
        override fun getEncoded(): ByteArray? = null
    }

    companion object {
        /** The provider name the shell asks for. */
        const val NAME = "AndroidKeyStore"

        /** The keys, by alias. */
        val keys: MutableMap<String, SecretKey> = java.util.concurrent.ConcurrentHashMap()

        /** Every key specification a key was generated from, oldest first. */
        val specs: MutableList<KeyGenParameterSpec> = Collections.synchronizedList(mutableListOf())

        /** Installs a fresh, empty Keystore in place of any other (each API level's sandbox has its own classes). */
        fun install() {
            keys.clear()
            specs.clear()
            Security.removeProvider(NAME)
            Security.addProvider(TestKeystoreProvider())
        }

        /** Invalidates the key under [alias] (the person removed the lock screen, say). */
        fun invalidate(alias: String) {
            keys[alias] = InvalidatedKey()
        }
    }
}
