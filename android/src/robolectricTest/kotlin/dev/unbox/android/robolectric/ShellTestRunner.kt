package dev.unbox.android.robolectric

import org.junit.runners.model.FrameworkMethod
import org.robolectric.RobolectricTestRunner
import org.robolectric.internal.bytecode.InstrumentationConfiguration

/**
 * Robolectric's runner with JNA left to the JVM's own class loader: JNA loads its native dispatch
 * library once per process, so each API level's sandbox must share one JNA rather than load its
 * own copy (the generated bindings and the shell stay in the sandbox, against its Android).
 */
class ShellTestRunner(testClass: Class<*>) : RobolectricTestRunner(testClass) {
    override fun createClassLoaderConfig(method: FrameworkMethod): InstrumentationConfiguration =
        InstrumentationConfiguration.Builder(super.createClassLoaderConfig(method))
            .doNotAcquirePackage("com.sun.jna")
            .build()
}
