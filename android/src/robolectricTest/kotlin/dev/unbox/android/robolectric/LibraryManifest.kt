package dev.unbox.android.robolectric

import android.content.ComponentName
import android.content.IntentFilter
import java.io.File
import javax.xml.parsers.DocumentBuilderFactory
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.w3c.dom.Element

/**
 * The library's manifest (android/src/main/AndroidManifest.xml) as the app's merged manifest
 * would carry it: its activities and their intent filters registered with Robolectric's package
 * manager under the test app's package, the redirect scheme placeholder set to [REDIRECT_SCHEME].
 * Robolectric cannot merge manifests outside the Android Gradle plugin, so this reads the file the
 * library ships rather than restating it.
 */
object LibraryManifest {
    /** The redirect scheme the test app sets (`manifestPlaceholders["unboxRedirectScheme"]`). */
    const val REDIRECT_SCHEME = "com.example.app"

    private const val ANDROID = "http://schemas.android.com/apk/res/android"

    /** The shell's folder (android/), from the build. */
    val shellDir: File = File(requireNotNull(System.getProperty("unbox.android.dir")) { "unbox.android.dir is not set" })

    /** The manifest's root element, the redirect scheme placeholder set to [redirectScheme]. */
    fun document(redirectScheme: String = REDIRECT_SCHEME): Element {
        val text = File(shellDir, "src/main/AndroidManifest.xml").readText().replace("\${unboxRedirectScheme}", redirectScheme)
        val factory = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }
        return factory.newDocumentBuilder().parse(text.byteInputStream()).documentElement
    }

    /** The manifest's `application` attribute [name] (android namespace). */
    fun applicationAttribute(name: String): String =
        (document().getElementsByTagName("application").item(0) as Element).getAttributeNS(ANDROID, name)

    /** Registers the manifest's activities and intent filters with the package manager. */
    fun install(redirectScheme: String = REDIRECT_SCHEME) {
        val application = RuntimeEnvironment.getApplication()
        val packages = shadowOf(application.packageManager)
        for (activity in document(redirectScheme).elements("activity")) {
            val component = ComponentName(application.packageName, activity.getAttributeNS(ANDROID, "name"))
            packages.addActivityIfNotPresent(component).exported = activity.getAttributeNS(ANDROID, "exported") == "true"
            for (filter in activity.elements("intent-filter")) packages.addIntentFilterForActivity(component, intentFilter(filter))
        }
    }

    private fun intentFilter(element: Element): IntentFilter = IntentFilter().apply {
        element.elements("action").forEach { addAction(it.getAttributeNS(ANDROID, "name")) }
        element.elements("category").forEach { addCategory(it.getAttributeNS(ANDROID, "name")) }
        element.elements("data").forEach { data ->
            data.getAttributeNS(ANDROID, "scheme").takeIf { it.isNotEmpty() }?.let(::addDataScheme)
        }
    }

    private fun Element.elements(tag: String): List<Element> =
        getElementsByTagName(tag).let { nodes -> (0 until nodes.length).map { nodes.item(it) as Element } }
}
