package dev.unbox.android.robolectric

import android.content.ComponentName
import android.content.Intent
import android.content.IntentFilter
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf

/** Browsers installed on the Robolectric phone, as the package manager lists them. */
object InstalledBrowsers {
    /** The Custom Tabs service action browsers export (androidx.browser's CustomTabsService). */
    const val CUSTOM_TABS_SERVICE = "android.support.customtabs.action.CustomTabsService"

    /** Installs [packageName] as a browser of https links, with a Custom Tabs service if [customTabs]. */
    fun install(packageName: String, customTabs: Boolean) {
        val packages = shadowOf(RuntimeEnvironment.getApplication().packageManager)
        val activity = ComponentName(packageName, "$packageName.BrowserActivity")
        packages.addActivityIfNotPresent(activity).exported = true
        packages.addIntentFilterForActivity(
            activity,
            IntentFilter(Intent.ACTION_VIEW).apply {
                addCategory(Intent.CATEGORY_BROWSABLE)
                addCategory(Intent.CATEGORY_DEFAULT)
                addDataScheme("https")
            },
        )
        if (customTabs) {
            val service = ComponentName(packageName, "$packageName.CustomTabsService")
            packages.addServiceIfNotPresent(service).exported = true
            packages.addIntentFilterForService(service, IntentFilter(CUSTOM_TABS_SERVICE))
        }
    }
}
